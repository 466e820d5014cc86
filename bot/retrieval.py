"""Hybrid retrieval: Chroma vector search + the persisted BM25 index, fused by `bot.fusion.fuse` (z-score by
default, or reciprocal rank fusion).

Our own fusion rather than llama-index's QueryFusionRetriever: it needs no LLM object, lets each retriever have
its own candidate depth and weight, and records per-retriever ranks and scores for the answer trace. What may be
served while an ingest runs (or after one was killed) is decided next to the store, by `index.committed`.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.schema import BaseNode
from llama_index.core.vector_stores import (
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
)

from bot.answer import Passage, Retrieval, RetrievalFilters
from bot.fusion import FusionConfig, ScoredList, fuse, recency_boost
from bot.recency import day_number, day_of, days_before, is_time_sensitive, parse_as_of
from index.bm25_cache import DerivedBm25Store, reader_bm25
from index.chunking import date_as_int
from index.committed import CommittedView
from index.embeddings import embedder_id
from index.errors import IndexEmptyError
from index.settings import Settings
from index.store import VectorIndex, chroma_errors

__all__ = ["FusionConfig", "HybridRetriever", "passage_from_node"]

log = logging.getLogger(__name__)

# Chroma is asked for this many times the candidates fusion keeps. An approximate (HNSW) search can miss a
# different neighbour near the end of its list from one process to the next; the ends of a deeper list are cut
# off, so the kept candidates are the same every time. ef_search (200) >= the deeper list, so the graph search
# costs the same; measured by `python -m bench.stability` (identical top-30 in 10 processes).
VECTOR_OVERFETCH = 2
BM25_ABSENT = 0.0  # BM25 score of a chunk sharing no term with the query: what every unreturned chunk has


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


def newest_day(nodes: Iterable[BaseNode], today: date | None = None) -> date | None:
    """The latest real date among these chunks, ignoring any dated after `today` (default: the local day)."""
    limit = today or date.today()
    days = (day_of(int(n.metadata.get("date_int") or 0)) for n in nodes)
    return max((d for d in days if d is not None and d <= limit), default=None)


def _matches(node: BaseNode, filters: RetrievalFilters | None, as_of_day: int = 0) -> bool:
    meta = node.metadata
    if as_of_day and int(meta.get("date_int") or 0) > as_of_day:
        return False  # dated after the as-of day: it did not exist yet (undated chunks stay)
    if filters is None:
        return True
    if filters.sources and meta.get("source") not in filters.sources:
        return False
    day = int(meta.get("date_int") or 0)
    if filters.date_from and (day == 0 or day < date_as_int(filters.date_from)):
        return False
    return not (filters.date_to and (day == 0 or day > date_as_int(filters.date_to)))


def _chroma_filters(filters: RetrievalFilters | None, as_of_day: int = 0) -> MetadataFilters | None:
    items: list[MetadataFilter] = []
    if as_of_day:  # undated chunks store 0 and pass
        items.append(MetadataFilter(key="date_int", value=as_of_day, operator=FilterOperator.LTE))
    if filters is None:
        return MetadataFilters(filters=items) if items else None  # type: ignore[arg-type]
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
        self.settings, self.name = settings, name
        self.index = index
        self.vector_store = index.vector_store()
        self.bm25_store = reader_bm25(settings, name, index)  # server mode: derived from Chroma
        self._bm25: Any = None
        self._bm25_dir: Any = None

    def bm25(self) -> Any:
        current = self.bm25_store.current_dir()
        if current != self._bm25_dir:
            try:
                self._bm25 = self.bm25_store.load()
            except (OSError, ValueError, KeyError) as err:  # files missing or garbled (json, numpy): damaged
                if isinstance(self.bm25_store, DerivedBm25Store):
                    raise
                # BM25 is a cache of what Chroma holds: derive it from there (as a reader on another machine
                # does) rather than fail every question or silently search by vector alone.
                log.warning("the BM25 index at %s is damaged (%s): deriving it from the collection in Chroma; "
                            "`footnote ingest --rebuild` rewrites it", current, type(err).__name__)
                self.bm25_store = DerivedBm25Store(self.settings, self.name, self.index)
                return self.bm25()
            self._bm25_dir = current
        return self._bm25


class HybridRetriever:
    """Implements `bot.answer.Retriever`."""

    def __init__(
        self, settings: Settings, embedder: BaseEmbedding, *, fusion: FusionConfig | None = None,
        client: Any | None = None, query_embed: Callable[[list[str]], Any] | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        # The answerer's cached sentence embedder (bot.text.embedder.SentenceEmbedder), when given: the question
        # is then embedded once per ask, not once here and again when the extractive scorer compares it with
        # the passages' sentences (one MiniLM run per question, the warm path's single largest cost).
        self.query_embed = query_embed
        self.fusion = fusion or FusionConfig()
        self._client = client
        self._collections: dict[str, _Collection] = {}
        self._open_lock = threading.Lock()
        self.committed = CommittedView(settings)

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

    def retrieve(
        self, query: str, *, top_k: int, collection: str | None = None, filters: RetrievalFilters | None = None,
        as_of: str | date | None = None,
    ) -> Retrieval:
        """The `top_k` best passages for `query`. `as_of` (a date, or YYYY-MM-DD): serve nothing dated after it
        and prefer what is dated shortly before it (`bot.recency`)."""
        as_of_date = parse_as_of(as_of)
        as_of_day = day_number(as_of_date) if as_of_date else 0
        name = collection or self.settings.collection
        col = self._collection(name)
        timings: dict[str, float] = {}
        depth = max(self.fusion.candidates, top_k)

        t0 = time.perf_counter()
        if self.query_embed is not None:
            query_vec = [float(x) for x in self.query_embed([query])[0]]
        else:
            query_vec = self.embedder.get_query_embedding(query)
        timings["embed_ms"] = (time.perf_counter() - t0) * 1000

        t0 = time.perf_counter()
        with chroma_errors(self.settings):
            result = self.vector_store_query(col, query_vec, depth, filters, as_of_day)
        writing = self.committed.writing(name)
        returned = [(node, 1.0 + math.log(max(sim, 1e-12)))  # exp(-distance) -> cosine
                    for node, sim in zip(result.nodes or [], result.similarities or [], strict=False)]
        returned.sort(key=lambda hit: (-hit[1], hit[0].node_id))  # ties broken the same way in every process
        vector_hits = self.committed.vector_hits(returned, writing)[:depth]
        timings["vector_ms"] = (time.perf_counter() - t0) * 1000

        t0 = time.perf_counter()
        bm25_hits: list[tuple[BaseNode, float]] = []
        bm25_complete = False  # the list holds every chunk that matches a query term
        bm25 = col.bm25()
        if bm25 is not None:
            asked = min(bm25.num_docs, depth * (4 if filters or as_of_day else 1))
            matched = bm25.search(query, asked)
            # The index holds ids and scores; text and metadata come from Chroma, the source of truth (a chunk
            # deleted since the snapshot is simply not returned).
            score = dict(matched)
            with chroma_errors(self.settings):
                found = col.index.nodes([cid for cid, _ in matched]) if matched else []
            bm25_hits = [(node, score[node.node_id]) for node in found if _matches(node, filters, as_of_day)]
            bm25_complete = len(matched) < asked or asked >= bm25.num_docs
            if len(bm25_hits) > depth:
                bm25_hits, bm25_complete = bm25_hits[:depth], False
            bm25_hits = self.committed.bm25_hits(bm25_hits, writing)
        timings["bm25_ms"] = (time.perf_counter() - t0) * 1000

        recency, reference = 0.0, as_of_date
        if as_of_date is not None:
            cued = is_time_sensitive(query)
            recency = self.fusion.recency_weight if cued else self.fusion.recency_weight_uncued
        elif self.fusion.recency_without_date and is_time_sensitive(query):
            # "This week" with no date given: now is the newest of the matches (not today: an archive's "this
            # week" is its last one). Only the prior; nothing is excluded.
            reference = newest_day(node for node, _ in (*vector_hits, *bm25_hits))
            recency = self.fusion.recency_weight if reference else 0.0
        # Without an as-of date nothing newer was dropped: a chunk dated after the reference (a server clock
        # behind the documents' dates) is as new as it, not penalised.
        passages = self._fuse(vector_hits, bm25_hits, bm25_complete=bm25_complete, as_of=reference,
                              recency_weight=recency, clamp_future=as_of_date is None)[:top_k]
        trace = {
            "collection": name,
            **({"as_of": as_of_date.isoformat(), "recency_weight": recency} if as_of_date else {}),
            **({"recency_reference": reference.isoformat(), "recency_weight": recency}
               if reference and not as_of_date else {}),
            "vector": [[n.node_id, round(s, 4)] for n, s in vector_hits],
            "bm25": [[n.node_id, round(s, 4)] for n, s in bm25_hits],
            "bm25_complete": bm25_complete,
            "fused": [[p.chunk_id, round(p.score, 5)] for p in passages],
            "timings_ms": {k: round(v, 2) for k, v in timings.items()},
        }
        return Retrieval(passages=passages, trace=trace)

    def vector_store_query(self, col: _Collection, query_vec: list[float], depth: int,
                           filters: RetrievalFilters | None, as_of_day: int = 0) -> Any:
        # No count() first (it cost as much as a tenth of the query): Chroma 1.5.9 answers a collection smaller
        # than n_results, or an empty one, with what it has.
        query = VectorStoreQuery(
            query_embedding=query_vec, similarity_top_k=depth * VECTOR_OVERFETCH,
            filters=_chroma_filters(filters, as_of_day),
        )
        return col.vector_store.query(query)

    def _fuse(
        self, vector_hits: list[tuple[BaseNode, float]], bm25_hits: list[tuple[BaseNode, float]], *,
        bm25_complete: bool = False, as_of: date | None = None, recency_weight: float = 0.0,
        clamp_future: bool = False,
    ) -> list[Passage]:
        """`bot.fusion.fuse` over chunk ids (then `recency_boost` when asked as of a date), back to passages
        carrying each retriever's raw score."""
        nodes: dict[str, BaseNode] = {}
        scores: dict[str, dict[str, float]] = {}
        for label, hits in (("vector", vector_hits), ("bm25", bm25_hits)):
            for node, score in hits:
                nodes.setdefault(node.node_id, node)
                scores.setdefault(node.node_id, {}).setdefault(label, round(score, 4))
        vector = ScoredList([(n.node_id, s) for n, s in vector_hits])
        bm25 = ScoredList([(n.node_id, s) for n, s in bm25_hits], BM25_ABSENT if bm25_complete else None)
        fused = fuse(vector, bm25, self.fusion)
        if as_of is not None and recency_weight:
            ages = {cid: days_before(as_of, int(n.metadata.get("date_int") or 0)) for cid, n in nodes.items()}
            fused = recency_boost(fused, ages, weight=recency_weight,
                                  half_life_days=self.fusion.recency_half_life_days, clamp_future=clamp_future)
        return [passage_from_node(nodes[cid], score, scores[cid]) for cid, score in fused]
