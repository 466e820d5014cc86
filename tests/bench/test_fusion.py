"""bench.retrievers fusion helpers, hand-computed."""

import numpy as np
import pytest

from bench.retrievers import dense_run, max_passage_run, rrf, score_fusion

R1 = {"q": {"a": 3.0, "b": 2.0, "c": 1.0}}
R2 = {"q": {"b": 5.0, "d": 4.0}}


def test_rrf_k60():
    fused = rrf([R1, R2], k=60)["q"]
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["a"] == pytest.approx(1 / 61)
    assert fused["d"] == pytest.approx(1 / 62)
    assert sorted(fused, key=fused.get, reverse=True) == ["b", "a", "d", "c"]


def test_minmax_fusion_missing_doc_gets_run_minimum():
    fused = score_fusion([R1, R2], [0.5, 0.5], norm="minmax")["q"]
    # R1 -> a 1, b .5, c 0; R2 -> b 1, d 0; a and c are missing from R2 and get its minimum (0)
    assert fused == pytest.approx({"a": 0.5, "b": 0.75, "c": 0.0, "d": 0.0})


def test_zscore_fusion_respects_depth():
    fused = score_fusion([R1, R2], [1.0, 0.0], norm="zscore", depth=2)["q"]
    assert set(fused) == {"a", "b", "d"}  # c is below depth 2 in R1
    assert fused["a"] == pytest.approx(1.0) and fused["b"] == pytest.approx(-1.0)


def test_dense_and_max_passage():
    docs = np.eye(3, dtype=np.float32)
    q = np.array([[0.6, 0.8, 0.0]], dtype=np.float32)
    assert dense_run(["x", "y", "z"], docs, ["q"], q, depth=2)["q"] == pytest.approx({"x": 0.6, "y": 0.8})
    run = max_passage_run(["d1", "d1", "d2"], docs, ["q"], q)["q"]
    assert run == pytest.approx({"d1": 0.8, "d2": 0.0})
