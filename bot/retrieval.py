"""Hybrid retrieval: Chroma vector search + the persisted BM25 index, fused by z-score (default) or reciprocal
rank fusion.

Our own fusion rather than llama-index's QueryFusionRetriever: it needs no LLM object, lets each retriever have
its own candidate depth and weight, and records per-retriever ranks and scores for the answer trace.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Any, Literal

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.schema import BaseNode
from llama_index.core.vector_stores import (
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
)

from bot.answer import Passage, Retrieval, RetrievalFilters
from index.chunking import date_as_int
from index.embeddings import embedder_id
from index.errors import IndexEmptyError
from index.manifest import Manifest
from index.settings import Settings
from index.store import Bm25Store, VectorIndex, chroma_errors

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FusionConfig:
    """How the vector and BM25 candidate lists become one ranking.

    `zscore`: each retriever's scores are standardised over its own candidate list, (s - mean) / sd, and
    added with the weights; a chunk missing from one list gets that list's lowest z-score. Unlike RRF it keeps
    how far ahead of the pack a hit is. `rrf`: sum of weight / (rrf_k + rank). Defaults are chosen on the
    SciFact train claims (bench/scifact_footnote.py), reported on its test claims: z-score, equal weights, 30
    candidates (nDCG@10 train 0.730, test 0.723; RRF k=60 gave 0.714 / 0.711; deeper lists gain <= 0.004 on
    train and cost query time).
    """

    method: Literal["rrf", "zscore"] = "zscore"
    rrf_k: int = 60
    vector_weight: float = 1.0
    bm25_weight: float = 1.0
    candidates: int = 30  # per retriever, before fusion


def passage_from_node(node: BaseNode, score: float, scores: dict[str, float]) -> Passage:
    meta = node.metadata
    return Passage(
        chunk_id=node.node_id,
        text=node.get_content(),
        doc_id=str(node.ref_doc_id or ""),
        title=str(meta.get("title") or ""),
        source=str(meta.get("source") or ""),
        url=str(meta["url"]) if meta.get("url") else None,
        date=str(meta.get("date")) if meta.get("date") else None,
        heading=str(meta.get("heading")) if meta.get("heading") else None,
        score=score,
        scores=scores,
    )


def _matches(node: BaseNode, filters: RetrievalFilters | None) -> bool:
    if filters is None:
        return True
    meta = node.metadata
    if filters.sources and meta.get("source") not in filters.sources:
        return False
    day = int(meta.get("date_int") or 0)
    if filters.date_from and (day == 0 or day < date_as_int(filters.date_from)):
        return False
    return not (filters.date_to and (day == 0 or day > date_as_int(filters.date_to)))


def _chroma_filters(filters: RetrievalFilters | None) -> MetadataFilters | None:
    if filters is None:
        return None
    items: list[MetadataFilter] = []
    if filters.sources:
        items.append(MetadataFilter(key="source", value=list(filters.sources), operator=FilterOperator.IN))
    if filters.date_from:
        items.append(MetadataFilter(key="date_int", value=date_as_int(filters.date_from), operator=FilterOperator.GTE))
    if filters.date_to:
        items.append(MetadataFilter(key="date_int", value=date_as_int(filters.date_to), operator=FilterOperator.LTE))
        items.append(MetadataFilter(key="date_int", value=0, operator=FilterOperator.GT))
    return MetadataFilters(filters=items) if items else None  # type: ignore[arg-type]


class _Collection:
    """One collection's vector index and BM25 snapshot; BM25 reloads when an ingest swaps in a new one."""

    def __init__(self, settings: Settings, name: str, client: Any | None) -> None:
        index = VectorIndex.open(settings, name, embedder_id=embedder_id(settings), create=False, client=client)
        if index is None:
            raise IndexEmptyError(f"collection {name!r} ({settings.data_dir})")
        self.index = index
        self.vector_store = index.vector_store()
        self.bm25_store = Bm25Store(settings.data_dir, name)
        self._bm25: Any = None
        self._bm25_dir: Any = None

    def bm25(self) -> Any:
        current = self.bm25_store.current_dir()
        if current != self._bm25_dir:
            self._bm25 = self.bm25_store.load()
            self._bm25_dir = current
        return self._bm25


class HybridRetriever:
    """Implements `bot.answer.Retriever`."""

    def __init__(
        self, settings: Settings, embedder: BaseEmbedding, *, fusion: FusionConfig | None = None,
        client: Any | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.fusion = fusion or FusionConfig()
        self._client = client
        self._collections: dict[str, _Collection] = {}
        self._open_lock = threading.Lock()
        self._manifest: Manifest | None = None

    def _collection(self, name: str) -> _Collection:
        with self._open_lock:  # `warm()` may be opening it in another thread
            if name not in self._collections:
                self._collections[name] = _Collection(self.settings, name, self._client)
            return self._collections[name]

    def warm(self, collection: str | None = None) -> None:
        """Open the collection and load BM25 and the embedder ahead of the first question (from a background
        thread: Chroma's and ONNX Runtime's native loading overlap the caller's Python work). Errors are left for
        the first `retrieve`, which raises them with the usual messages."""
        loader = getattr(self.embedder, "warm", None)
        model = threading.Thread(target=loader, name="footnote-warm-model") if loader else None
        if model:
            model.start()
        try:
            self._collection(collection or self.settings.collection).bm25()
        except Exception as err:  # reported by the first retrieve instead, with the usual message
            log.debug("warm-up of the index failed: %s", err)
        if model:
            model.join()

    def _writing(self, collection: str) -> set[str]:
        """Documents an ingest is rewriting right now (or was killed while rewriting): not to be served."""
        path = self.settings.data_dir / "manifest.sqlite"
        if self._manifest is None:
            if not path.exists():
                return set()
            self._manifest = Manifest(path)
        return self._manifest.writing_doc_ids(collection)

    def _bm25_stale(self, collection: str) -> bool:
        """Chunks changed since BM25 was last rebuilt: an ingest is running, or failed / was killed before its
        BM25 swap. BM25 may then still hold chunks that are gone from Chroma (old versions, deleted files)."""
        return self._manifest is not None and self._manifest.meta(collection).get("dirty") == "1"

    def _in_chroma(self, col: _Collection, hits: list[tuple[BaseNode, float]]) -> list[tuple[BaseNode, float]]:
        with chroma_errors(self.settings):
            present = set(col.index.collection.get(ids=[n.node_id for n, _ in hits], include=[])["ids"])
        return [(n, s) for n, s in hits if n.node_id in present]

    def retrieve(
        self, query: str, *, top_k: int, collection: str | None = None, filters: RetrievalFilters | None = None,
    ) -> Retrieval:
        name = collection or self.settings.collection
        col = self._collection(name)
        timings: dict[str, float] = {}
        depth = max(self.fusion.candidates, top_k)

        t0 = time.perf_counter()
        query_vec = self.embedder.get_query_embedding(query)
        timings["embed_ms"] = (time.perf_counter() - t0) * 1000

        t0 = time.perf_counter()
        with chroma_errors(self.settings):
            result = self.vector_store_query(col, query_vec, depth, filters)
        writing = self._writing(name)
        vector_hits: list[tuple[BaseNode, float]] = []
        for node, sim in zip(result.nodes or [], result.similarities or [], strict=False):
            if node.ref_doc_id in writing:
                continue
            vector_hits.append((node, 1.0 + math.log(max(sim, 1e-12))))  # exp(-distance) -> cosine
        timings["vector_ms"] = (time.perf_counter() - t0) * 1000

        t0 = time.perf_counter()
        bm25_hits: list[tuple[BaseNode, float]] = []
        bm25 = col.bm25()
        if bm25 is not None:
            n_docs = int(bm25.bm25.scores.get("num_docs", 0))
            bm25.similarity_top_k = min(n_docs, depth * (4 if filters else 1))
            for hit in bm25.retrieve(query):
                if hit.node.ref_doc_id in writing or not _matches(hit.node, filters):
                    continue
                if (hit.score or 0.0) > 0:
                    bm25_hits.append((hit.node, float(hit.score or 0.0)))
            bm25_hits = bm25_hits[:depth]
            if bm25_hits and self._bm25_stale(name):
                bm25_hits = self._in_chroma(col, bm25_hits)
        timings["bm25_ms"] = (time.perf_counter() - t0) * 1000

        passages = self._fuse(vector_hits, bm25_hits)[:top_k]
        trace = {
            "collection": name,
            "vector": [[n.node_id, round(s, 4)] for n, s in vector_hits],
            "bm25": [[n.node_id, round(s, 4)] for n, s in bm25_hits],
            "fused": [[p.chunk_id, round(p.score, 5)] for p in passages],
            "timings_ms": {k: round(v, 2) for k, v in timings.items()},
        }
        return Retrieval(passages=passages, trace=trace)

    def vector_store_query(self, col: _Collection, query_vec: list[float], depth: int,
                           filters: RetrievalFilters | None) -> Any:
        count = col.index.count()
        if count == 0:
            from llama_index.core.vector_stores.types import VectorStoreQueryResult

            return VectorStoreQueryResult(nodes=[], similarities=[], ids=[])
        query = VectorStoreQuery(
            query_embedding=query_vec, similarity_top_k=min(depth, count), filters=_chroma_filters(filters)
        )
        return col.vector_store.query(query)

    def _fuse(
        self, vector_hits: list[tuple[BaseNode, float]], bm25_hits: list[tuple[BaseNode, float]]
    ) -> list[Passage]:
        k = self.fusion.rrf_k
        fused: dict[str, float] = {}
        nodes: dict[str, BaseNode] = {}
        scores: dict[str, dict[str, float]] = {}
        lists = (("vector", vector_hits, self.fusion.vector_weight), ("bm25", bm25_hits, self.fusion.bm25_weight))
        for label, hits, _ in lists:
            for node, score in hits:
                nodes.setdefault(node.node_id, node)
                scores.setdefault(node.node_id, {}).setdefault(label, round(score, 4))
        for _, hits, weight in lists:
            if not hits:
                continue
            part: dict[str, float] = {}
            if self.fusion.method == "zscore":
                values = [s for _, s in hits]
                mean = sum(values) / len(values)
                sd = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
                for node, s in hits:
                    part.setdefault(node.node_id, weight * ((s - mean) / sd if sd > 0 else 0.0))
                floor = min(part.values())  # a chunk this retriever did not return: as its weakest candidate
            else:
                for rank, (node, _) in enumerate(hits):
                    part.setdefault(node.node_id, weight / (k + rank + 1))
                floor = 0.0
            for cid in nodes:
                fused[cid] = fused.get(cid, 0.0) + part.get(cid, floor)
        order = sorted(fused, key=lambda cid: fused[cid], reverse=True)
        return [passage_from_node(nodes[cid], fused[cid], scores[cid]) for cid in order]
