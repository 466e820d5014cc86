"""Retrieval and answer metrics.

Ranking metrics follow BEIR / pytrec_eval (trec_eval `ndcg_cut`, `recall`, and BEIR's MRR@k):
- nDCG@k: gain = graded relevance (linear, not 2^rel - 1), discount 1/log2(rank + 1), ideal DCG from the
  qrels' own relevance grades sorted descending and cut at k. Judged-non-relevant docs (rel <= 0) give 0.
- recall@k: relevant docs (rel > 0) in the top k / all relevant docs of the query.
- MRR@k: 1 / rank of the first relevant doc within the top k, else 0.
A query with no relevant docs is skipped (as pytrec_eval does: it only evaluates queries present in qrels);
a query in qrels without a run counts as 0.

Answer metrics use SQuAD normalisation (lower-case, drop punctuation and English articles, fold whitespace).
"""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

Qrels = Mapping[str, Mapping[str, int]]
Run = Mapping[str, Sequence[str]]  # query id -> doc ids, best first

# ------------------------------------------------------------------------------------------- ranking


def dcg(gains: Iterable[float]) -> float:
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains))


def ndcg_at_k(ranked: Sequence[str], rels: Mapping[str, int], k: int) -> float:
    ideal = dcg(sorted((r for r in rels.values() if r > 0), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return dcg(max(rels.get(d, 0), 0) for d in ranked[:k]) / ideal


def recall_at_k(ranked: Sequence[str], rels: Mapping[str, int], k: int) -> float:
    relevant = {d for d, r in rels.items() if r > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def mrr_at_k(ranked: Sequence[str], rels: Mapping[str, int], k: int) -> float:
    for i, d in enumerate(ranked[:k]):
        if rels.get(d, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def precision_at_k(ranked: Sequence[str], rels: Mapping[str, int], k: int) -> float:
    return sum(1 for d in ranked[:k] if rels.get(d, 0) > 0) / k


_METRICS = {"ndcg": ndcg_at_k, "recall": recall_at_k, "mrr": mrr_at_k, "precision": precision_at_k}


def per_query(run: Run, qrels: Qrels, metric: str, k: int) -> dict[str, float]:
    fn = _METRICS[metric]
    return {
        qid: fn(run.get(qid, ()), rels, k) for qid, rels in qrels.items() if any(r > 0 for r in rels.values())
    }


def evaluate(
    run: Run, qrels: Qrels, ks: Sequence[int] = (10,), metrics: Sequence[str] = ("ndcg", "recall", "mrr")
) -> dict[str, float]:
    """Mean of each metric over the judged queries: {"ndcg@10": ..., "recall@10": ..., ...}."""
    out: dict[str, float] = {}
    for metric in metrics:
        for k in ks:
            scores = per_query(run, qrels, metric, k)
            out[f"{metric}@{k}"] = sum(scores.values()) / len(scores) if scores else 0.0
    return out


def rank_scores(scores: Mapping[str, float], k: int | None = None) -> list[str]:
    """Doc ids by score descending; ties broken by doc id descending, as trec_eval does."""
    ranked = sorted(scores, key=lambda d: (scores[d], d), reverse=True)
    return ranked if k is None else ranked[:k]


# -------------------------------------------------------------------------------------------- answers

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = set(string.punctuation)


def normalize_answer(s: str) -> str:
    """SQuAD v1.1 normalisation: lower-case, remove punctuation, remove articles, fold whitespace. Punctuation
    includes Unicode's (curly quotes, dashes): news text is typographic, and `business”` must match `business`."""
    s = s.lower()
    s = "".join(ch for ch in s if ch not in _PUNCT and not unicodedata.category(ch).startswith("P"))
    s = _ARTICLES.sub(" ", s)
    return " ".join(s.split())


def exact_match(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def f1_score(prediction: str, gold: str) -> float:
    pred = normalize_answer(prediction).split()
    ref = normalize_answer(gold).split()
    if not pred or not ref:
        return float(pred == ref)
    common = Counter(pred) & Counter(ref)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(ref)
    return 2 * precision * recall / (precision + recall)


def contains(text: str, gold: str, whole_words: bool = True) -> float:
    """1.0 when the normalised gold string occurs in the normalised text. With `whole_words` (default) it
    must start and end on token boundaries, so "fly" does not match inside "butterfly"; `whole_words=False`
    is the plain substring test."""
    g = normalize_answer(gold)
    if not g:
        return 0.0
    t = normalize_answer(text)
    return float(f" {g} " in f" {t} ") if whole_words else float(g in t)


def hit_at_k(texts: Sequence[str], gold: str, k: int, whole_words: bool = True) -> float:
    """1.0 when any of the top-k retrieved texts contains the gold answer."""
    return max((contains(t, gold, whole_words) for t in texts[:k]), default=0.0)


def first_hit_rank(texts: Sequence[str], gold: str, whole_words: bool = True) -> int | None:
    """1-based rank of the first retrieved text containing the gold answer, or None."""
    for i, t in enumerate(texts):
        if contains(t, gold, whole_words):
            return i + 1
    return None


def mean(values: Iterable[float]) -> float:
    vals = list(values)
    return sum(vals) / len(vals) if vals else 0.0
