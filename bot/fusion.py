"""Rank fusion as a pure function: candidate lists of (id, score) in, one ranking out. No nodes, no I/O.

The product (`bot.retrieval.HybridRetriever`) fuses its vector and BM25 lists with `fuse`; the benchmarks call
the same functions (`bench.scifact_footnote` replays `fuse` over saved lists, `bench.retrievers` wraps
`fuse_lists` for its doc-level baselines), so a figure measured there is the product's fusion, not a twin.

Z-score fusion standardises each list over its own candidates and adds the weighted z-scores; an id missing from
a list gets that list's *floor*. Two cases decide the floor:

- the list was cut at its depth (`absent=None`): an unlisted id is merely no better than the last hit, so it
  gets the weakest hit's z-score (what the SciFact tuning below was measured with);
- the list holds every match (`absent` known, e.g. BM25 returned fewer hits than asked: every other chunk scores
  0, it shares no query term): that absent level is standardised *with* the hits, as one more candidate. A lone
  BM25 hit then scores +1 against a floor of -1 instead of 0 against 0 (spread 0: "the only exact-keyword
  match adds nothing"), two equal hits +0.71 against -1.41, and the weakest of a few hits stays above the
  floor. No tunable is involved: the absent score is known, not chosen.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

Method = Literal["rrf", "zscore"]
Norm = Literal["zscore", "minmax", "max", "none"]  # per-list normalisations for score fusion (bench baselines)

_SCIFACT = "SciFact train claims (809), nDCG@10, `python -m bench.scifact_footnote` (reported on test)"
_RTQA = ("RealTime QA dev weeks 20260327+20260410 (24 answerable questions, each asked as of its own date), "
         "hit@5, `python -m bench.tune_recency`")
DEFAULT_SOURCES: Mapping[str, str] = {
    "method": f"{_SCIFACT}: z-score train 0.730 / test 0.723 beat RRF k=60 0.714 / 0.711",
    "rrf_k": "Cormack et al. 2009 standard k=60 (used only when method='rrf'); SciFact grid k in 10/30/60",
    "vector_weight": f"{_SCIFACT}: grid 0.3-0.7, equal weights within 0.005 of the best",
    "bm25_weight": f"{_SCIFACT}: grid 0.3-0.7, equal weights within 0.005 of the best",
    "candidates": f"{_SCIFACT}: depths 30-400, deeper gains <= 0.004 on train and costs query time",
    "recency_weight": f"{_RTQA}: hit@5 0.583 -> 0.750 (prior off -> on); every weight >= 1 at half-lives 7-30 d "
                      "gives 0.750, ties broken by MRR@10",
    "recency_weight_uncued": f"{_RTQA}: no weight 0-3 moved hit@5 at any half-life, so the prior stays off",
    "recency_half_life_days": f"{_RTQA}: grid 3/7/14/30/90 d; 7-30 d equal on hit@5, 30 d best MRR@10",
    "recency_without_date": "RealTime QA dev weeks (24 answerable), asked WITHOUT an as-of date, hit@5, "
                            "`python -m bench.realtimeqa` (dev rows): 0.583 -> 0.750 (off -> on; 5 questions gained, "
                            "1 lost: a 'currently' question answered by a 2014 article), as-of rows unchanged; it "
                            "reuses recency_weight and recency_half_life_days, nothing refitted",
}


@dataclass(frozen=True)
class FusionConfig:
    """The fusion's tunables; `sources` records where each value came from (split, metric, command)."""

    method: Method = "zscore"
    rrf_k: int = 60
    vector_weight: float = 1.0
    bm25_weight: float = 1.0
    candidates: int = 30  # per retriever, before fusion
    # With an as-of date (bot.recency): a fused score gains weight * 0.5 ** (days before as-of / half-life).
    recency_weight: float = 3.0  # the question says it is about now ("this week", "latest" ...)
    recency_weight_uncued: float = 0.0  # any other question asked as of a date
    recency_half_life_days: float = 30.0
    # Without an as-of date, a question that says "this week" / "latest" gets the cued prior measured from the
    # newest date among its candidates (bot.retrieval.newest_day).
    recency_without_date: bool = True
    sources: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_SOURCES), compare=False, repr=False)

    def source(self, name: str) -> str:
        return self.sources.get(name, "unrecorded")

    def with_values(self, source: str, **values: object) -> FusionConfig:
        """A copy with some values changed, recording `source` as where those came from."""
        sources = {**self.sources, **dict.fromkeys(values, source)}
        return replace(self, **values, sources=sources)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ScoredList:
    """One retriever's candidates, best first. `absent`: the score every id *not* listed is known to have (BM25
    when the list holds every match: 0.0), or None when the list was cut at its depth."""

    hits: Sequence[tuple[str, float]]
    absent: float | None = None

    def top(self, depth: int) -> ScoredList:
        """The first `depth` hits; a list cut short no longer knows its unlisted ids' score."""
        return self if len(self.hits) <= depth else ScoredList(self.hits[:depth], None)


def normalise(candidates: ScoredList, norm: Norm = "zscore") -> tuple[dict[str, float], float]:
    """Per-id normalised scores and the floor for ids the list does not hold. First occurrence of an id wins."""
    scores: dict[str, float] = {}
    for cid, score in candidates.hits:
        scores.setdefault(cid, float(score))
    if not scores:
        return {}, 0.0
    values = list(scores.values())
    known_absent = candidates.absent is not None
    pool = [*values, candidates.absent] if candidates.absent is not None else values
    if norm == "zscore":
        mean = sum(pool) / len(pool)
        sd = math.sqrt(sum((v - mean) ** 2 for v in pool) / len(pool))
        if sd == 0:  # every candidate (and the absent level) equal: nothing tells them apart
            return dict.fromkeys(scores, 0.0), 0.0
        normed = {cid: (s - mean) / sd for cid, s in scores.items()}
        floor = (candidates.absent - mean) / sd if candidates.absent is not None else min(normed.values())
        return normed, floor
    if norm == "minmax":
        lo, hi = min(pool), max(pool)
        if hi == lo:
            return dict.fromkeys(scores, 1.0), (0.0 if known_absent else 1.0)
        normed = {cid: (s - lo) / (hi - lo) for cid, s in scores.items()}
        return normed, (0.0 if known_absent else min(normed.values()))
    if norm == "max":
        top = max(values)
        normed = {cid: (s / top if top > 0 else s) for cid, s in scores.items()}
        return normed, min(normed.values())
    if norm == "none":
        return scores, (candidates.absent if candidates.absent is not None else min(values))
    raise ValueError(f"unknown normalisation {norm!r}")


def fuse_lists(
    lists: Sequence[ScoredList], weights: Sequence[float], *, method: Method | Norm = "zscore", rrf_k: int = 60,
) -> list[tuple[str, float]]:
    """Weighted fusion of several candidate lists: `rrf` (sum of w / (rrf_k + rank), ranks from 1) or score
    fusion with a per-list normalisation (`zscore`, `minmax`, `max`, `none`; missing ids get the list's floor).
    Best first; ties keep the order in which ids first appear (lists in order), so equal inputs give equal
    output."""
    if len(lists) != len(weights):
        raise ValueError("one weight per list")
    order: dict[str, int] = {}
    for candidates in lists:
        for cid, _ in candidates.hits:
            order.setdefault(cid, len(order))
    fused = dict.fromkeys(order, 0.0)
    for candidates, weight in zip(lists, weights, strict=True):
        if not candidates.hits:
            continue
        if method == "rrf":
            part: dict[str, float] = {}
            for rank, (cid, _) in enumerate(candidates.hits, start=1):
                part.setdefault(cid, 1.0 / (rrf_k + rank))
            floor = 0.0
        else:
            part, floor = normalise(candidates, method)
        for cid in fused:
            fused[cid] += weight * part.get(cid, floor)
    return sorted(fused.items(), key=lambda item: (-item[1], order[item[0]]))


def fuse(vector: ScoredList, bm25: ScoredList, config: FusionConfig) -> list[tuple[str, float]]:
    """The product's hybrid fusion of its vector and BM25 candidate lists."""
    weights = [config.vector_weight, config.bm25_weight]
    return fuse_lists([vector, bm25], weights, method=config.method, rrf_k=config.rrf_k)


def recency_boost(
    fused: Sequence[tuple[str, float]], days_old: Mapping[str, int | None], *, weight: float, half_life_days: float,
    clamp_future: bool = False,
) -> list[tuple[str, float]]:
    """A recency prior on a fused ranking: each id gains `weight * 0.5 ** (days_old / half_life_days)`; an id
    with no age (undated) gains nothing, nor one with a negative age (dated after the reference day: the as-of
    path drops those before fusion) unless `clamp_future` (the no-date path: then it gains the full weight).
    The fused z-score scale is the unit: weight 1 lifts a passage from this week by about one standard deviation
    of one retriever's scores. Best first; ties keep the fused order."""
    if weight == 0 or not fused:
        return list(fused)
    boosted = []
    for pos, (cid, score) in enumerate(fused):
        age = days_old.get(cid)
        bonus = weight * 0.5 ** (age / half_life_days) if age is not None and age >= 0 else 0.0
        if age is not None and age < 0 and clamp_future:
            bonus = weight  # dated after the reference day: as new as it
        boosted.append((pos, cid, score + bonus))
    boosted.sort(key=lambda item: (-item[2], item[0]))
    return [(cid, score) for _, cid, score in boosted]
