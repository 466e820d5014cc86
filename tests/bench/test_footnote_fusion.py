"""bot.fusion: the one fusion the product and the benchmarks share (RRF and z-score, degenerate lists)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from llama_index.core.schema import TextNode

from bench.retrievers import score_fusion
from bot.fusion import FusionConfig, ScoredList, fuse, fuse_lists, normalise
from bot.retrieval import HybridRetriever
from index.settings import Settings

VECTOR = [("a", 0.9), ("b", 0.8), ("c", 0.7)]
BM25 = [("b", 10.0), ("d", 4.0), ("e", 1.0)]


def scores(config: FusionConfig, vector: ScoredList, bm25: ScoredList) -> dict[str, float]:
    return dict(fuse(vector, bm25, config))


def test_rrf_sums_weighted_reciprocal_ranks() -> None:
    got = scores(FusionConfig(method="rrf", rrf_k=60, vector_weight=1.0, bm25_weight=2.0),
                 ScoredList(VECTOR), ScoredList(BM25))
    assert got == pytest.approx({"a": 1 / 61, "b": 1 / 62 + 2 / 61, "c": 1 / 63, "d": 2 / 62, "e": 2 / 63})
    assert list(got) == ["b", "d", "e", "a", "c"]  # best first


def test_zscore_standardises_each_cut_list_and_floors_missing_at_its_weakest() -> None:
    def z(pairs: list[tuple[str, float]]) -> dict[str, float]:
        v = np.array([s for _, s in pairs])
        return dict(zip([c for c, _ in pairs], ((v - v.mean()) / v.std()).tolist(), strict=True))

    zv, zb = z(VECTOR), z(BM25)
    want = {
        cid: 0.6 * zv.get(cid, min(zv.values())) + 0.4 * zb.get(cid, min(zb.values()))
        for cid in ("a", "b", "c", "d", "e")
    }
    got = scores(FusionConfig(vector_weight=0.6, bm25_weight=0.4), ScoredList(VECTOR), ScoredList(BM25))
    assert got == pytest.approx(want)
    assert list(got) == sorted(want, key=lambda c: -want[c])
    assert next(iter(got)) == "b"  # in both lists


def test_a_lone_bm25_hit_beats_absent() -> None:
    """Issue 12: a lone BM25 hit (spread 0) scored 0, the same as the floor of chunks BM25 did not return."""
    normed, floor = normalise(ScoredList([("x", 7.3)], absent=0.0))
    assert normed == {"x": pytest.approx(1.0)} and floor == pytest.approx(-1.0)
    vector = ScoredList([("v1", 0.61), ("x", 0.60), ("v2", 0.59)])
    ranked = [cid for cid, _ in fuse(vector, ScoredList([("x", 7.3)], absent=0.0), FusionConfig())]
    assert ranked[0] == "x"  # the only exact-keyword match now counts
    old = [cid for cid, _ in fuse(vector, ScoredList([("x", 7.3)]), FusionConfig())]
    assert old[0] == "v1"  # what the list cut at its depth (absent unknown) gives: the hit adds nothing


@pytest.mark.parametrize("hits", [[("x", 3.0), ("y", 3.0)], [("x", 5.0), ("y", 2.0)], [("x", 2.0)] * 1])
def test_every_hit_of_a_complete_list_scores_above_absent(hits: list[tuple[str, float]]) -> None:
    normed, floor = normalise(ScoredList(hits, absent=0.0))
    assert all(value > floor for value in normed.values())
    if len({s for _, s in hits}) == 1:  # all equal: still equal to each other
        assert len(set(normed.values())) == 1


def test_all_equal_cut_list_and_empty_list() -> None:
    assert normalise(ScoredList([("x", 0.5), ("y", 0.5)])) == ({"x": 0.0, "y": 0.0}, 0.0)
    assert normalise(ScoredList([])) == ({}, 0.0)
    got = fuse(ScoredList(VECTOR), ScoredList([], absent=0.0), FusionConfig())
    assert [cid for cid, _ in got] == ["a", "b", "c"]


def test_top_forgets_the_absent_level_when_it_cuts() -> None:
    complete = ScoredList(BM25, absent=0.0)
    assert complete.top(3) is complete
    assert complete.top(2) == ScoredList(BM25[:2], None)


def test_ties_keep_first_appearance_order_and_are_reproducible() -> None:
    lists = [ScoredList([("p", 1.0), ("q", 1.0)]), ScoredList([("r", 1.0)])]
    first = fuse_lists(lists, [1.0, 1.0])
    assert [cid for cid, _ in first] == ["p", "q", "r"]
    assert fuse_lists(lists, [1.0, 1.0]) == first


def test_config_records_where_each_value_came_from() -> None:
    config = FusionConfig()
    for name in ("method", "rrf_k", "vector_weight", "bm25_weight", "candidates"):
        assert "bench." in config.source(name) or "Cormack" in config.source(name)
    tuned = config.with_values("dev grid, nDCG@10", bm25_weight=0.4)
    assert tuned.bm25_weight == 0.4 and tuned.source("bm25_weight") == "dev grid, nDCG@10"
    assert tuned.source("method") == config.source("method")


def test_bench_score_fusion_is_the_same_function() -> None:
    runs = [{"q": dict(VECTOR)}, {"q": dict(BM25)}]
    bench = score_fusion(runs, [0.6, 0.4], norm="zscore", depth=100)["q"]
    product = dict(fuse(ScoredList(VECTOR), ScoredList(BM25), FusionConfig(vector_weight=0.6, bm25_weight=0.4)))
    assert bench == pytest.approx(product)


def hits(pairs: list[tuple[str, float]]) -> list[tuple[TextNode, float]]:
    return [(TextNode(id_=cid, text=cid), s) for cid, s in pairs]


def test_retriever_keeps_per_retriever_scores(make_settings: Callable[..., Settings]) -> None:
    retriever = HybridRetriever(make_settings(), embedder=None)  # type: ignore[arg-type]
    passages = {p.chunk_id: p for p in retriever._fuse(hits(VECTOR), hits(BM25))}
    assert passages["b"].scores == {"vector": 0.8, "bm25": 10.0}
    assert passages["a"].scores == {"vector": 0.9}
    assert passages["b"].score == pytest.approx(scores(FusionConfig(), ScoredList(VECTOR), ScoredList(BM25))["b"])


def test_recency_boost_lifts_recent_ids_and_leaves_undated_alone() -> None:
    from bot.fusion import recency_boost

    fused = [("old", 2.0), ("undated", 1.5), ("recent", 1.0), ("later", 0.9)]
    ages = {"old": 400, "undated": None, "recent": 0, "later": -3}
    got = dict(recency_boost(fused, ages, weight=3.0, half_life_days=30.0))
    assert got["recent"] == pytest.approx(4.0)  # age 0: the whole weight
    assert got["old"] == pytest.approx(2.0 + 3.0 * 0.5 ** (400 / 30))
    assert got["undated"] == 1.5 and got["later"] == 0.9  # no age, or dated after the reference day: nothing
    order = [cid for cid, _ in recency_boost(fused, ages, weight=3.0, half_life_days=30.0)]
    assert order == ["recent", "old", "undated", "later"]
    assert recency_boost(fused, ages, weight=0.0, half_life_days=30.0) == fused
    # Review: on the no-date path nothing newer was dropped, so a chunk dated after the reference is as new as it.
    got = dict(recency_boost(fused, ages, weight=3.0, half_life_days=30.0, clamp_future=True))
    assert got["later"] == pytest.approx(3.9)


def test_recency_config_records_where_its_values_came_from() -> None:
    config = FusionConfig()
    for name in ("recency_weight", "recency_weight_uncued", "recency_half_life_days"):
        assert "bench.tune_recency" in config.source(name) and "dev" in config.source(name)
