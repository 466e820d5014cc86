"""HybridRetriever._fuse (bot/retrieval.py): RRF and z-score fusion of the vector and BM25 candidate lists."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from llama_index.core.schema import TextNode

from bot.retrieval import FusionConfig, HybridRetriever
from index.settings import Settings

VECTOR = [("a", 0.9), ("b", 0.8), ("c", 0.7)]
BM25 = [("b", 10.0), ("d", 4.0), ("e", 1.0)]


def hits(pairs: list[tuple[str, float]]) -> list[tuple[TextNode, float]]:
    return [(TextNode(id_=cid, text=cid), s) for cid, s in pairs]


@pytest.fixture
def fuse(make_settings: Callable[..., Settings]) -> Callable[[FusionConfig], dict[str, float]]:
    def run(config: FusionConfig) -> dict[str, float]:
        retriever = HybridRetriever(make_settings(), embedder=None, fusion=config)  # type: ignore[arg-type]
        return {p.chunk_id: p.score for p in retriever._fuse(hits(VECTOR), hits(BM25))}

    return run


def test_rrf_sums_weighted_reciprocal_ranks(fuse: Callable[[FusionConfig], dict[str, float]]) -> None:
    got = fuse(FusionConfig(method="rrf", rrf_k=60, vector_weight=1.0, bm25_weight=2.0))
    assert got == pytest.approx({"a": 1 / 61, "b": 1 / 62 + 2 / 61, "c": 1 / 63, "d": 2 / 62, "e": 2 / 63})
    assert list(got) == ["b", "d", "e", "a", "c"]  # best first


def test_zscore_standardises_each_list_and_floors_missing(fuse: Callable[[FusionConfig], dict[str, float]]) -> None:
    def z(pairs: list[tuple[str, float]]) -> dict[str, float]:
        v = np.array([s for _, s in pairs])
        return dict(zip([c for c, _ in pairs], ((v - v.mean()) / v.std()).tolist(), strict=True))

    zv, zb = z(VECTOR), z(BM25)
    want = {
        cid: 0.6 * zv.get(cid, min(zv.values())) + 0.4 * zb.get(cid, min(zb.values()))
        for cid in ("a", "b", "c", "d", "e")
    }
    got = fuse(FusionConfig(method="zscore", vector_weight=0.6, bm25_weight=0.4))
    assert got == pytest.approx(want)
    assert list(got) == sorted(want, key=lambda c: -want[c])
    assert next(iter(got)) == "b"  # in both lists


def test_per_retriever_scores_are_kept(make_settings: Callable[..., Settings]) -> None:
    retriever = HybridRetriever(make_settings(), embedder=None, fusion=FusionConfig(method="zscore"))  # type: ignore[arg-type]
    passages = {p.chunk_id: p for p in retriever._fuse(hits(VECTOR), hits(BM25))}
    assert passages["b"].scores == {"vector": 0.8, "bm25": 10.0}
    assert passages["a"].scores == {"vector": 0.9}


def test_one_empty_list_and_constant_scores(make_settings: Callable[..., Settings]) -> None:
    retriever = HybridRetriever(make_settings(), embedder=None, fusion=FusionConfig(method="zscore"))  # type: ignore[arg-type]
    assert [p.chunk_id for p in retriever._fuse(hits(VECTOR), [])] == ["a", "b", "c"]
    same = retriever._fuse(hits([("x", 0.5), ("y", 0.5)]), [])
    assert [p.score for p in same] == [0.0, 0.0]
