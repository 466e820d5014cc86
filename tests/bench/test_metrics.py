"""Hand-computed cases for bench.metrics (BEIR / pytrec_eval definitions, SQuAD normalisation)."""

import math

import pytest

from bench import metrics as m

L3, L5 = math.log2(3), math.log2(5)


def test_ndcg_binary_two_relevant():
    # DCG = 1/log2(3) + 1/log2(5); ideal = 1 + 1/log2(3)
    got = m.ndcg_at_k(["x", "a", "y", "b"], {"a": 1, "b": 1}, 10)
    assert got == pytest.approx((1 / L3 + 1 / L5) / (1 + 1 / L3))
    assert got == pytest.approx(0.650921, abs=1e-6)


def test_ndcg_graded_gain_is_linear():
    # gains are the grades themselves (trec_eval), not 2^rel - 1
    got = m.ndcg_at_k(["b", "a"], {"a": 2, "b": 1}, 10)
    assert got == pytest.approx((1 + 2 / L3) / (2 + 1 / L3))


def test_ndcg_cutoff_and_ideal_truncated_at_k():
    assert m.ndcg_at_k(["x", "y", "a"], {"a": 1}, 2) == 0.0
    # ideal DCG@1 of three relevant docs is 1, so one hit at rank 1 is perfect
    assert m.ndcg_at_k(["a"], {"a": 1, "b": 1, "c": 1}, 1) == 1.0


def test_ndcg_ignores_judged_non_relevant():
    assert m.ndcg_at_k(["a", "b"], {"a": 0, "b": 1}, 10) == pytest.approx(1 / L3)
    assert m.ndcg_at_k(["a"], {"a": 0}, 10) == 0.0


def test_recall_and_mrr():
    rels = {"a": 1, "b": 1, "c": 1}
    assert m.recall_at_k(["a", "x", "c"], rels, 2) == pytest.approx(1 / 3)
    assert m.recall_at_k(["a", "x", "c"], rels, 3) == pytest.approx(2 / 3)
    assert m.mrr_at_k(["x", "y", "a"], rels, 10) == pytest.approx(1 / 3)
    assert m.mrr_at_k(["x", "y", "a"], rels, 2) == 0.0
    assert m.precision_at_k(["a", "x", "c", "y"], rels, 4) == 0.5


def test_evaluate_means_over_judged_queries():
    qrels = {"q1": {"a": 1}, "q2": {"b": 1}, "q3": {"c": 0}}  # q3 has no relevant doc: skipped
    run = {"q1": ["a", "b"]}  # q2 missing from the run: scores 0
    res = m.evaluate(run, qrels, ks=(1, 10))
    assert res["ndcg@10"] == pytest.approx(0.5)
    assert res["recall@1"] == pytest.approx(0.5)
    assert res["mrr@10"] == pytest.approx(0.5)


def test_rank_scores_ties_break_on_doc_id_descending():
    assert m.rank_scores({"a": 1.0, "c": 2.0, "b": 1.0}) == ["c", "b", "a"]
    assert m.rank_scores({"a": 1.0, "c": 2.0, "b": 1.0}, k=2) == ["c", "b"]


def test_squad_normalisation_em_f1():
    assert m.normalize_answer("The  Cat's hat!") == "cats hat"
    assert m.normalize_answer("An apple, a day") == "apple day"
    assert m.exact_match("The Beatles.", "beatles") == 1.0
    assert m.exact_match("Beatles band", "beatles") == 0.0
    # pred {cat, sat} vs gold {cat, sat, down}: P = 1, R = 2/3, F1 = 0.8
    assert m.f1_score("the cat sat", "cat sat down") == pytest.approx(0.8)
    assert m.f1_score("dog", "cat") == 0.0
    assert m.f1_score("", "") == 1.0


def test_contains_and_hit_at_k():
    assert m.contains("Officials deployed ICE agents to airports.", "ICE agents") == 1.0
    assert m.contains("a butterfly", "fly") == 0.0
    assert m.contains("a butterfly", "fly", whole_words=False) == 1.0
    assert m.contains("anything", "the") == 0.0  # gold normalises to empty: never a hit
    texts = ["nothing here", "still nothing", "The answer is U.S. Steel."]
    assert m.hit_at_k(texts, "US Steel", 2) == 0.0
    assert m.hit_at_k(texts, "US Steel", 3) == 1.0
    assert m.first_hit_rank(texts, "US Steel") == 3
    assert m.first_hit_rank(texts, "nope") is None
