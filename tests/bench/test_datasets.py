"""bench.datasets: the numpy-repr sentence lists, and the shared SciFact files when present."""

import pytest

from bench import datasets


def test_parse_sentence_list_numpy_repr_keeps_sentences_apart():
    raw = "['First sentence.'\n 'Second one.'\n \"It's third.\"]"
    assert datasets.parse_sentence_list(raw) == ["First sentence.", "Second one.", "It's third."]
    assert datasets.parse_sentence_list("['a', 'b']") == ["a", "b"]
    assert datasets.parse_sentence_list("[]") == []


@pytest.mark.skipif(
    not (datasets.eval_dir() / "scifact" / "scifact_hf_csv.zip").exists(), reason="shared eval data absent"
)
def test_scifact_test_split_shape():
    ds = datasets.load_scifact("test")
    assert (len(ds.corpus), len(ds.queries), sum(map(len, ds.qrels.values()))) == (5183, 300, 339)
    doc = ds.corpus["4983"]
    assert doc.full_text.startswith(doc.title + " Alterations of the architecture")
    assert "disabilities. A line scan" in doc.text  # sentences joined with a space, not glued


@pytest.mark.skipif(not (datasets.eval_dir() / "realtimeqa_dev").exists(), reason="shared eval data absent")
def test_realtimeqa_pooled_corpus():
    ds = datasets.load_realtimeqa()
    assert (len(ds.questions), len(ds.corpus)) == (60, 443)
    q = next(q for q in ds.questions if q.qid == "20260327_0")
    assert q.gold == "ICE agents" and q.choices[3] == q.gold
    assert all(url in ds.corpus for q in ds.questions for url in q.source_urls)
    assert 0 < len(ds.answerable()) < len(ds.questions)
