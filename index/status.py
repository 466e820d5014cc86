"""`footnote status`: what is indexed, where, and with which model."""

from __future__ import annotations

from typing import Any

from index.embeddings import embedder_id
from index.manifest import Manifest
from index.settings import Settings
from index.store import EMBEDDER_KEY, Bm25Store, VectorIndex, hnsw_of, open_client


def index_status(settings: Settings, collection: str | None = None) -> dict[str, Any]:
    name = collection or settings.collection
    status: dict[str, Any] = {
        "collection": name,
        "data_dir": str(settings.data_dir.resolve()),
        "store": (
            f"chroma server {settings.chroma_host}:{settings.chroma_port}"
            if settings.uses_chroma_server
            else f"embedded chroma {settings.chroma_path.resolve()}"
        ),
        "configured_embedding_model": embedder_id(settings),
        "embedding_model": None,
        "documents": 0,
        "chunks": 0,
        "bm25_chunks": 0,
        "pending_documents": 0,
        "last_ingest": None,
    }
    manifest_path = settings.data_dir / "manifest.sqlite"
    if manifest_path.exists():
        manifest = Manifest(manifest_path, readonly=True)
        try:
            docs = manifest.documents(name)
            status["documents"] = sum(1 for d in docs.values() if d.state == "complete")
            status["pending_documents"] = sum(1 for d in docs.values() if d.state == "writing")
            status["last_ingest"] = manifest.meta(name).get("last_ingest")
            status["collections"] = manifest.collections()
        finally:
            manifest.close()
    client = open_client(settings, create=False)
    if client is not None:
        try:
            collection_obj = client.get_collection(name)
        except Exception:  # no such collection yet
            collection_obj = None
        if collection_obj is not None:
            status["embedding_model"] = (collection_obj.metadata or {}).get(EMBEDDER_KEY)
            vectors = VectorIndex(settings, client, name, collection_obj)
            status["chunks"] = vectors.count()
            status["vector_search"] = {k: v for k, v in hnsw_of(collection_obj).items()
                                       if k in ("max_neighbors", "ef_construction", "ef_search")}
            if vectors.outdated:
                status["warning"] = vectors.outdated
    status["bm25_chunks"] = len(Bm25Store(settings.data_dir, name).chunk_ids())
    return status
