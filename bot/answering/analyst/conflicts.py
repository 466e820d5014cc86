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
from bot.answering.analyst.attribution import TOTAL, owner, speaker, stated_by
from bot.answering.analyst.dates import as_of, context_year, stated_date
from bot.answering.analyst.evidence import (
    COUNT_CLASSES,
    Evidence,
    Quantity,
    compatible,
    count_synonyms,
    its_list,
    mentions,
    quantities,
    same_count_class,
    scored,
    sentences,
)
from bot.answering.analyst.questions import disputed, named
from bot.answering.extractive import ExtractiveAnswerer
from bot.text.markers import strip_bullet
from bot.text.questions import is_content
from bot.text.terms import MONTH_NAMES, content_terms, numbers, stem

_NEGATION = re.compile(
    r"\b(?:denied|denies|deny|denial|not|no|never|unconfirmed|false|untrue|rejected|dismissed|without)\b|n't\b",
    re.I,
)
_AFFIRM = re.compile(r"\b(?:confirmed|confirms|accurate|correct|true|received|delivered|bought|signed|sealed)\b", re.I)
_GENERIC = frozenset("people persons number total many much times side sides figure figures count".split())
_YEAR = re.compile(r"1[89]\d\d|20\d\d")
_PARTY_IN_QUESTION = re.compile(r"\b[A-Z][a-z]+(?:stan|ish|ian|ese|ey|ia|yz|ik)\b")


@dataclass(frozen=True)
class ConflictSettings:
    # A sentence takes part when its relevance (`ExtractiveAnswerer.topical`, P scale) is at least `min_score`
    # and within `margin` of the best one. Dev conflict rows (`python -m bench.analyst --sweep`, dev split only):
    # margin 0.3 -> 7/7 for min_score 0.1143..0.2 (margins 0.1..0.2 -> 6/7; min_score 0.25 -> at most 6/7);
    # min_score = the refusal threshold (ExtractiveConfig.refuse_below) among the tied values.
    min_score: float = 0.1143
    margin: float = 0.3
    max_versions: int = 4
    window: int = 5
    focus_similarity: float = 0.6  # as the extractive answerer's former focus similarity


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
        near = content_terms(disputed(question))
        asked = asked_parties(question)
        if len(asked) >= 2 and TOTAL.search(question):
            # "the combined death toll of the Kyrgyz-Tajik fighting": the parties bound a total, compared with
            # other totals (dev n32), not one figure per party.
            asked = set()
        if len(asked) >= 2 and disputed(question) == question:
            # "How many did Tajikistan and Kyrgyzstan each say were killed?" asks for one figure per party, a
            # list of facts the default answer gives; whether a party's figures disagree is asked of that party
            # alone ("How many people did Kyrgyzstan lose?") or in so many words ("Do the sources agree ...").
            # Dev b16 (labelled no conflict) once one party's two tolls were both read (dev b28).
            return None, evidence
        picked: list[tuple[Evidence, Quantity, str | None]] = []
        focus = self._focus(question)
        for e in evidence:
            e = self._listed_figure(e, near, focus)
            qs = [q for q in quantities(e.span.text, near) if self._counts_focus(e.span.text, q, focus)]
            if not qs:
                continue
            party = owner(e.span.text, e.passage)
            if asked and (party is None or party[:5] not in asked):
                continue  # the question asks about one party: other parties' figures are not versions
            if not asked and party is not None:
                continue  # a total is compared with totals only
            picked.append((e, qs[0], party))
        source = asked_source(question, [e for e, _, _ in picked])
        if source is not None:
            # "How many people did Border Watch count as killed?" asks for that source's figure: another
            # source's figure is not a version of it (dev n16), though the source's own revised figures are.
            # Nothing of the source's own among the figures: they are left as they are.
            picked = [x for x in picked if by_source(x[0], source)] or picked
        # "How many did Tajikistan and Kyrgyzstan each say ...": two parties' figures are two facts; versions
        # are compared within one party (or among totals), the party with the most versions first.
        by_party: dict[str | None, list[tuple[Evidence, Quantity]]] = {}
        for e, q, party in picked:
            versions = by_party.setdefault(party[:5] if party else None, [])
            if e.passage.doc_id not in {v.passage.doc_id for v, _ in versions}:
                versions.append((e, q))  # one version per document: its best sentence
        best: list[tuple[Evidence, Quantity]] = []
        for versions in by_party.values():
            distinct: list[tuple[Evidence, Quantity]] = []
            for e, q in versions:
                if not any(compatible(q, other) for _, other in distinct):
                    distinct.append((e, q))
            if len(distinct) > len(best):
                best = distinct
        if len(best) < 2:
            return None, [e for e, _, _ in picked]
        chosen = [e for e, _ in best[: self.settings.max_versions]]
        return Conflict(about=question.rstrip("?"), versions=[]), chosen

    def _listed_figure(self, e: Evidence, near: set[str], focus: set[str]) -> Evidence:
        """A lead-in without a figure ("By the Kyrgyz count:") stands for its list: the item whose figure counts
        what is asked ("59 people lost their lives;"), one naming the asked class ("died" ~ "lives") first. The
        lead-in scores for the question, its short items need not (dev n94: "How many Kyrgyz citizens died ...?"
        ranked the lead-in 0.233, the item under the refusal threshold, so one of Kyrgyzstan's two tolls was
        missing). Any other sentence is returned as it is."""
        whole = its_list(e.passage, e.span)
        if whole is None or quantities(e.span.text, near):
            return e
        items = [s for s in sentences(e.passage) if e.span.end <= s.start and s.end <= whole.end]
        asked = {stem(f) for f in focus}
        fits = [
            s for s in items
            if any(self._counts_focus(s.text, q, focus) for q in quantities(s.text, near))
        ]  # fmt: skip
        fits.sort(key=lambda s: not (same_count_class(asked, content_terms(s.text)) and _counts_a_class(asked)))
        return Evidence(e.rank, e.passage, fits[0], e.score) if fits else e

    def _focus(self, question: str) -> set[str]:
        """What is counted: the question's lowercase content words, without the generic ones nor its wording
        about the sources ("Is there any disagreement over ...", dev b28)."""
        question = disputed(question)
        return {
            w.lower()
            # Whole lowercase words: "How" and "Kyrgyz" are not "ow" and "yrgyz" (dev b28).
            for w in re.findall(r"\b[a-z][a-z\-]+", question)
            if is_content(w) and w.lower() not in _GENERIC and w.lower() not in MONTH_NAMES
        }

    def _counts_focus(self, sentence: str, q: Quantity, focus: set[str]) -> bool:
        """The figure stands within `window` words of a focus word, of a word naming the same counted class
        ("lives" ~ "died", `COUNT_CLASSES`) or of a word close to one in meaning (word cosine >=
        `focus_similarity`). A sentence giving one figure only is read whole: the window tells apart the figures
        of a sentence that has several, and "puts the number of Kyrgyz citizens killed in the September 2022
        fighting at 63" has its counted noun eight words before its only figure (dev b28)."""
        if not focus:
            return True
        tokens = re.findall(r"[\w’'\-]+", sentence)
        at = next((i for i, t in enumerate(tokens) if t == q.text.split()[-1]), None)
        if at is None:
            return False
        reach = len(tokens) if _one_figure(sentence) else self.settings.window
        window = [t.lower() for t in tokens[max(0, at - reach) : at + reach + 1]]
        window = [t for t in window if is_content(t)]
        if any(stem(t) in {stem(f) for f in focus} or any(count_synonyms(t, f) for f in focus) for t in window):
            return True
        if not window:
            return False
        vecs = self.answerer.embed(window + sorted(focus))
        sims = vecs[: len(window)] @ vecs[len(window) :].T
        return bool((sims >= self.settings.focus_similarity).any())

    def denial(self, question: str, passages: list[Passage]) -> tuple[Conflict | None, list[Evidence]]:
        """A claim and its explicit denial among the best-answering sentences."""
        evidence = self._relevant(question, passages)
        q_negative = bool(_NEGATION.search(question))
        pos = [e for e in evidence if not _negative(e.span.text, q_negative) and _AFFIRM.search(e.span.text)]
        neg = [e for e in evidence if _negative(e.span.text, q_negative)]
        if pos and not neg and not q_negative:
            # The denial of the best affirmed claim, however it scores for the question's wording: "a Baykar
            # spokesperson denied that Tajikistan had received Bayraktar drones" scores 0.08 for "Has Baykar
            # supplied TB2s to Dushanbe?", the claim it denies ("Tajikistan had received its first Bayraktar
            # TB2 drones") 0.14 (dev n33).
            neg = [e for e in scored(self.answerer, question, passages, 0.0) if _denies(e.span.text, pos[0].span.text)]
        if not pos or not neg:
            return None, evidence
        # The two sides speak of the same claim: a denial shares at least two content words with the claim it
        # denies ("signed a Military Framework Agreement" is not contradicted by "not without adding a thorny
        # factor to Turkey's ties", dev chain d45).
        pairs = [(p, n) for p in pos for n in neg if _same_claim(p.span.text, n.span.text)]
        if not pairs:
            return None, evidence
        a, b = pairs[0]
        if a.passage.doc_id == b.passage.doc_id and a.span.start == b.span.start:
            return None, evidence
        # Every source's side, not just the first of each: its best affirming or denying sentence, per document.
        chosen: list[Evidence] = [a, b]  # the two sides, even when one document states both
        for e in [*pos[1:], *neg[1:]]:
            if len(chosen) < self.settings.max_versions and e.passage.doc_id not in {c.passage.doc_id for c in chosen}:
                chosen.append(e)
        return Conflict(about=question.rstrip("?"), versions=[]), sorted(chosen, key=lambda e: _date_key(e))


def _counts_a_class(terms: set[str]) -> bool:
    """Do the (stemmed) terms name a counted class (deaths, wounded, houses, evacuees)?"""
    return any(terms & c for c in COUNT_CLASSES)


def _one_figure(sentence: str) -> bool:
    """The sentence gives a single count: digits or number words ("ten of them later died"), years aside."""
    return len({n for n in numbers(sentence) if not _YEAR.fullmatch(n)}) == 1


def _negative(sentence: str, question_negative: bool) -> bool:
    hits = _NEGATION.findall(sentence)
    return bool(hits) and not question_negative


def _denies(sentence: str, claim: str) -> bool:
    """Does `sentence` deny `claim`: it is negative, says the claim's own affirming verb ("received") and
    shares at least two more of its content words (who and what: "Tajikistan", "Bayraktar")?"""
    verbs = {m.group().lower() for m in _AFFIRM.finditer(claim)}
    if not _NEGATION.search(sentence) or not any(v in sentence.lower().split() for v in verbs):
        return False
    shared = content_terms(sentence) & content_terms(claim)
    return len({t for t in shared if t not in {stem(v) for v in verbs}}) >= 2


def _same_claim(claim: str, denial: str) -> bool:
    """Do two sentences share at least two content words (besides affirming and negating words)?"""
    noise = {stem(m.group().lower()) for m in _AFFIRM.finditer(claim)} | {
        stem(m.group().lower()) for m in _NEGATION.finditer(denial)}
    return len((content_terms(claim) & content_terms(denial)) - noise) >= 2


def _date_key(e: Evidence) -> str:
    when = stated_date(e.span.text, context_year(e.passage))
    return when.label() if when else (e.passage.date or "9999")


def version(e: Evidence, n: int) -> ConflictVersion:
    """The version's date is its document's "as of" date (None: undated); a date the sentence mentions is
    part of its text, not a guess at when it was stated."""
    return ConflictVersion(
        text=strip_bullet(e.span.text).rstrip(";,"),
        stated_by=stated_by(e.span, e.passage),
        date=e.passage.date or None,
        citations=[n],
    )


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


def asked_parties(question: str) -> set[str]:
    """The parties a question is about ("Kyrgyz", "Tajikistan's" -> {"kyrgy", "tajik"}): 5-letter roots."""
    return {m.group().lower()[:5] for m in _PARTY_IN_QUESTION.finditer(question)}


def other_party(e: Evidence, asked: set[str]) -> bool:
    """The sentence gives a figure of a party the question does not ask about."""
    party = owner(e.span.text, e.passage)
    return bool(asked) and party is not None and party[:5] not in asked


def asked_source(question: str, evidence: list[Evidence]) -> str | None:
    """The source a question names ("How many did Border Watch count ...?" -> "Border Watch"): a name of the
    question, not a party, that is the speaker of one of the sentences ("According to Border Watch, ..."). A
    name only in a document's title is no source: "... the fighting in Batken?" of a document titled "Fighting
    in Batken" names a place."""
    for name in named(question):
        if asked_parties(name):
            continue
        if any(speaker(e.span, e.passage) is not None and by_source(e, name) for e in evidence):
            return name
    return None


def by_source(e: Evidence, source: str) -> bool:
    """Is the sentence stated by `source`: its speaker, else its document (title), names it?"""
    return mentions(stated_by(e.span, e.passage), source)
