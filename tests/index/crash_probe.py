"""Run in a fresh process by the crash tests: prints the index state as JSON (Chroma, manifest, BM25 ids) and
what a query returns, so the test process never holds a cached Chroma client of a store another process wrote."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bot.retrieval import HybridRetriever
from index.embeddings import LocalMiniLMEmbedding, embedder_id
from index.manifest import Manifest
from index.settings import Settings
from index.store import Bm25Store, VectorIndex


def main() -> None:
    settings = Settings(_env_file=None, data_dir=Path(sys.argv[1]))  # type: ignore[call-arg]
    out: dict[str, object] = {}
    index = VectorIndex.open(settings, embedder_id=embedder_id(settings), create=False)
    out["chroma"] = sorted(index.collection.get(include=[])["ids"]) if index else []
    manifest = Manifest(settings.data_dir / "manifest.sqlite")
    docs = manifest.documents(settings.collection)
    out["docs"] = {Path(d.path).name: d.state for d in docs.values()}
    out["manifest"] = sorted(c for d in docs.values() if d.state == "complete" for c in d.chunk_ids)
    writing = {d.doc_id for d in docs.values() if d.state == "writing"}
    out["bm25"] = sorted(Bm25Store(settings.data_dir, settings.collection).chunk_ids())
    out["hits"], out["hits_from_writing_docs"] = [], []
    if index is not None and index.count() and len(sys.argv) > 2:
        retrieval = HybridRetriever(settings, LocalMiniLMEmbedding()).retrieve(sys.argv[2], top_k=8)
        out["hits"] = [p.chunk_id for p in retrieval.passages]
        out["hits_from_writing_docs"] = [p.chunk_id for p in retrieval.passages if p.doc_id in writing]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
