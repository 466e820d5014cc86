"""Sources that disagree: different figures for the same measured thing, or a claim and its explicit denial.

Figures: the sentences that answer a "how many / how much" question well (extractive score, typed like the
question) each give the count nearest to the question's words; two of them conflict when the counts are
incompatible (see `evidence.compatible`) and they count the same thing for the same party: a Kyrgyz toll and
a Tajik toll are two facts, not a disagreement, and a total is compared only with totals.
Denials: for a yes/no question, a relevant sentence that affirms ("reports ... were accurate", "had
received") and one that denies ("denied", "had not concluded", "no deal was sealed") the same thing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.answer import Conflict, ConflictVersion, Passage
from bot.answering.analyst.dates import as_of, context_year, stated_date
from bot.answering.analyst.evidence import Evidence, Quantity, compatible, owner, quantities, scored, stated_by
from bot.answering.extractive import ExtractiveAnswerer
from bot.text.terms import content_terms

_NEGATION = re.compile(
    r"\b(?:denied|denies|deny|denial|not|no|never|unconfirmed|false|untrue|rejected|dismissed|without)\b|n't\b",
    re.I,
)
_AFFIRM = re.compile(r"\b(?:confirmed|confirms|accurate|correct|true|received|delivered|bought|signed|sealed)\b", re.I)
_PARTY_IN_QUESTION = re.compile(r"\b[A-Z][a-z]+(?:stan|ish|ian|ese|ey|ia|yz|ik)\b")


@dataclass(frozen=True)
class ConflictSettings:
    # A sentence takes part when its extractive score is at least `min_score` and within `margin` of the
    # best one. Tuned on tests/data/analyst_dev.jsonl (conflict rows: precision first, then recall;
    # `python -m bench.analyst --split dev`).
    min_score: float = 0.4
    margin: float = 0.25
    max_versions: int = 4


class ConflictFinder:
    def __init__(self, answerer: ExtractiveAnswerer, settings: ConflictSettings | None = None) -> None:
        self.answerer = answerer
        self.settings = settings or ConflictSettings()

    def _relevant(self, question: str, passages: list[Passage]) -> list[Evidence]:
        found = scored(self.answerer, question, passages, self.settings.min_score)
        if not found:
            return []
        floor = found[0].score - self.settings.margin
        return [e for e in found if e.score >= floor]

    def figures(self, question: str, passages: list[Passage]) -> tuple[Conflict | None, list[Evidence]]:
        """The disagreement on a quantity, if the best-answering sentences give incompatible figures."""
        evidence = self._relevant(question, passages)
        near = content_terms(question)
        asked = {m.group().lower()[:5] for m in _PARTY_IN_QUESTION.finditer(question)}
        picked: list[tuple[Evidence, Quantity]] = []
        for e in evidence:
            qs = quantities(e.span.text, near)
            if not qs:
                continue
            party = owner(e.span.text, e.passage)
            if asked and (party is None or party[:5] not in asked):
                continue  # the question asks about one party: other parties' figures are not versions
            if not asked and party is not None:
                continue  # a total is compared with totals only
            picked.append((e, qs[0]))
        versions: list[tuple[Evidence, Quantity]] = []
        for e, q in picked:
            if e.passage.doc_id in {v.passage.doc_id for v, _ in versions}:
                continue  # one version per document: its best sentence
            versions.append((e, q))
        distinct: list[tuple[Evidence, Quantity]] = []
        for e, q in versions:
            if not any(compatible(q, other) for _, other in distinct):
                distinct.append((e, q))
        if len(distinct) < 2:
            return None, [e for e, _ in versions]
        chosen = [e for e, _ in distinct[: self.settings.max_versions]]
        return Conflict(about=question.rstrip("?"), versions=[]), chosen

    def denial(self, question: str, passages: list[Passage]) -> tuple[Conflict | None, list[Evidence]]:
        """A claim and its explicit denial among the best-answering sentences."""
        evidence = self._relevant(question, passages)
        q_negative = bool(_NEGATION.search(question))
        pos = [e for e in evidence if not _negative(e.span.text, q_negative) and _AFFIRM.search(e.span.text)]
        neg = [e for e in evidence if _negative(e.span.text, q_negative)]
        if not pos or not neg:
            return None, evidence
        a, b = pos[0], neg[0]
        if a.passage.doc_id == b.passage.doc_id and a.span.start == b.span.start:
            return None, evidence
        return Conflict(about=question.rstrip("?"), versions=[]), sorted([a, b], key=lambda e: _date_key(e))


def _negative(sentence: str, question_negative: bool) -> bool:
    hits = _NEGATION.findall(sentence)
    return bool(hits) and not question_negative


def _date_key(e: Evidence) -> str:
    when = stated_date(e.span.text, context_year(e.passage))
    return when.label() if when else (e.passage.date or "9999")


def version(e: Evidence, n: int) -> ConflictVersion:
    """The version's date is its document's "as of" date (None: undated); a date the sentence mentions is
    part of its text, not a guess at when it was stated."""
    return ConflictVersion(text=e.span.text, stated_by=stated_by(e.span, e.passage), date=e.passage.date or None,
                           citations=[n])


def describe(conflict: Conflict) -> str:
    """ "Sources disagree:" and one line per version: who, when, what, [n]."""
    lines = ["Sources disagree:"]
    for v in conflict.versions:
        when = f"as of {v.date}" if v.date else "undated"
        marks = "".join(f"[{n}]" for n in v.citations)
        lines.append(f"- {v.stated_by} ({when}): {v.text} {marks}")
    return "\n".join(lines)


def as_of_label(passage: Passage) -> str:
    return as_of(passage)
