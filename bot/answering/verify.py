"""Citation verification: every sentence of an LLM answer must be backed by the span its footnote quotes.

Each sentence (claim) is aligned to the best-matching sentence of each passage (`bot.answering.alignment`),
extended to a neighbour when the claim spans two; that span is the footnote quote. The claim is supported by
the span when the deterministic checks pass there (every name/number/date of the claim in the span, no
fact swapped into another's slot, same negation and direction) and its support score (semantic similarity of
claim and span, clause-level, mixed with content-term coverage by stems) reaches the operating point in
`VerifierConfig`, chosen on SciFact dev by `python -m bench.verifier --tune`. A citation that fails is
re-pointed to a passage whose span passes, else the sentence is dropped; an uncited sentence gets a
supporting passage attached only when that quote holds every content word of it (the model named no source,
so the verifier attaches one only to a copy), else is dropped. A fragment ("... is [1].") is never kept.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from typing import Literal

from llama_index.core.base.embeddings.base import BaseEmbedding

from bot.answer import Answer, AnswerMode, Citation, Passage, SentenceCheck
from bot.answering.aligner import PART_NOT_QUOTED, Aligner
from bot.answering.alignment import Alignment, unquoted_terms
from bot.answering.base import make_citation, refusal
from bot.answering.statements import (
    ABOUT_THE_SOURCES,
    echoes_question,
    left_to_question,
    not_a_statement,
    predicate_missing,
    repeats,
    stranded_as_quoted,
    verbless,
)
from bot.answering.verifier_config import VerifierConfig
from bot.text.embedder import SentenceEmbedder
from bot.text.markers import EMPTY_BULLET_LINE, attach_markers, parse_markers, strip_bullet, strip_markers
from bot.text.sentences import split_sentences

_ANSWER_LEAD = re.compile(r"^\W*(?:the\s+)?answer(?:\s+is)?\s*:\s*", re.I)


Outcome = Literal["ok", "refused", "all_dropped"]
Action = Literal["kept", "repointed", "dropped", "uncited"]


@dataclass
class ClaimCheck:
    """One answer sentence: the claim, its alignment to every passage, and the passages that back it. The LLM
    judge reads `chosen` (claim, quote span, passage) to ask its question."""

    index: int  # position among the answer's sentences
    claim: str
    cited: list[int]  # 1-based, as written
    action: Action
    chosen: list[Alignment]  # the alignments the kept sentence is cited to (empty when dropped)
    candidates: list[Alignment]  # every passage's alignment, by passage order

    def supported(self, config: VerifierConfig) -> list[Alignment]:
        return [a for a in self.candidates if not a.failures and a.score(config.semantic_weight) >= config.min_support]


@dataclass
class Verification:
    answer: Answer
    outcome: Outcome
    checks: list[SentenceCheck] = field(default_factory=list)
    claims: list[ClaimCheck] = field(default_factory=list)


@dataclass
class _Unit:
    start: int
    end: int
    raw: str  # the sentence as written, markers included
    claim: str  # without markers or list bullets
    cited: list[int]


class CitationVerifier:
    def __init__(
        self, embedder: BaseEmbedding | SentenceEmbedder, *, config: VerifierConfig | None = None
    ) -> None:
        self.embed = embedder if isinstance(embedder, SentenceEmbedder) else SentenceEmbedder(embedder)
        self.config = config or VerifierConfig()

    def verify(
        self, question: str, text: str, passages: list[Passage], *, mode: AnswerMode = "llm",
        statements: bool = True,
    ) -> Verification:
        """Check `text` (the generator's answer, [n] = passages[n-1]) and return the verified Answer. With
        `statements` (the default) a short sentence without any verb (`statements.verbless`) is never kept:
        "Federal officials [1]" asserts nothing its quote can back. A table cell is read with its row and column,
        so the analyst's cells pass statements=False ("59 deaths [1]" in the row Kyrgyzstan)."""
        units = _units(text)
        aligner = Aligner(self.embed, self.config, [u.claim for u in units], passages)
        # (passage, quote start, quote end) -> footnote number: one footnote per distinct quote. Keyed on the start
        # alone, a claim whose span runs on into the next sentence reused an earlier claim's one-sentence footnote
        # and showed a quote without its facts (SmolLM2 SciFact set 2: "... in 14,641 male physicians in the
        # United States" under a quote holding neither).
        keys: dict[tuple[int, int, int], int] = {}
        citations: list[Citation] = []
        checks: list[SentenceCheck] = []
        claims: list[ClaimCheck] = []
        removed: list[str] = []
        replacements: list[tuple[_Unit, str | None]] = []
        kept_cited = 0
        kept_claims: list[str] = []
        for k, unit in enumerate(units):
            valid = [n for n in unit.cited if 1 <= n <= len(passages)]
            if not unit.cited and ABOUT_THE_SOURCES.search(unit.claim):
                checks.append(SentenceCheck(unit.claim, [], [], "uncited", "states what the documents lack"))
                replacements.append((unit, unit.raw))
                continue
            fragment = not_a_statement(unit.claim) or echoes_question(unit.claim, question) or (
                "a fragment: the answer stops mid-sentence" if k == len(units) - 1 and _cut_off(unit) else ""
            ) or next(  # "Tajikistan's Pursuit of Bayraktar Drones": a title copied as a sentence asserts nothing
                (f"a document title, not a statement: {t!r}" for p in passages for t in (p.title, p.heading)
                 if t and " ".join(unit.claim.lower().rstrip(".").split()) == " ".join(t.lower().split())), ""
            ) or (
                "not a statement: no verb (a name or a phrase asserts nothing a quote can back)"
                if statements and verbless(unit.claim) else ""
            )
            repeated = next((c for c in kept_claims if repeats(unit.claim, c)), None)
            sups = {j: aligner.align(k, j) for j in range(len(passages))}
            if statements and (left := left_to_question(unit.claim, question)):
                sups = {j: _needs(a, left, passages[j]) for j, a in sups.items()}
            if fragment.startswith("a fragment: it ends on") and stranded_as_quoted(unit.claim, sups.values()):
                fragment = ""
            if fragment:
                chosen: list[int] = []
                action: Action = "dropped"
                reason = fragment
            elif repeated is not None:  # a looping model ("X. Y. X. Y."): say it once
                chosen, action, reason = [], "dropped", f"repeats an earlier sentence: {repeated[:80]!r}"
            else:
                chosen, action, reason = self._decide(unit, valid, sups)
            best = max(sups.values(), key=lambda a: a.score(self.config.semantic_weight), default=None)
            shown = sups[chosen[0]] if chosen else best
            checks.append(
                SentenceCheck(
                    unit.claim, unit.cited, [j + 1 for j in chosen], action, reason,
                    round(shown.lexical, 3) if shown else 0.0, round(shown.semantic, 3) if shown else 0.0,
                )
            )
            claims.append(ClaimCheck(k, unit.claim, unit.cited, action, [sups[j] for j in chosen], list(sups.values())))
            if not chosen:
                removed.append(unit.claim)
                replacements.append((unit, None))
                continue
            ns: list[int] = []
            for j in chosen:
                key = (j, sups[j].quote.start, sups[j].quote.end)
                if key not in keys:
                    keys[key] = len(citations) + 1
                    citations.append(make_citation(keys[key], passages[j], sups[j].quote.text))
                if keys[key] not in ns:
                    ns.append(keys[key])
            replacements.append((unit, attach_markers(strip_markers(unit.raw).rstrip(), ns)))
            kept_claims.append(unit.claim)
            kept_cited += 1

        trace = {"checks": [asdict(c) for c in checks], "config": self.config.describe()}
        if kept_cited == 0:
            outcome: Outcome = "all_dropped" if removed else "refused"
            out = refusal(question, passages, mode=mode, reason="the generated answer had no supported sentence")
            out.checks, out.removed = checks, removed
            out.trace["verification"] = {**trace, "outcome": outcome}
            return Verification(out, outcome, checks, claims)
        answer = Answer(
            question=question,
            text=_rebuild(text, replacements),
            citations=citations,
            mode=mode,
            checks=checks,
            removed=removed,
            trace={"verification": {**trace, "outcome": "ok"}},
        )
        return Verification(answer, "ok", checks, claims)

    def _ok(self, a: Alignment) -> bool:
        return not a.failures and a.score(self.config.semantic_weight) >= self.config.min_support

    def _decide(self, unit: _Unit, valid: list[int], sups: dict[int, Alignment]) -> tuple[list[int], Action, str]:
        """Which passages (0-based) back the claim, the SentenceCheck action, and why."""
        ok = [n - 1 for n in valid if self._ok(sups[n - 1])]
        if ok and len(ok) == len(valid):
            return ok, "kept", ""
        if ok:
            dropped = [n for n in valid if n - 1 not in ok]
            return ok, "repointed", f"removed unsupported citation(s) {dropped}"
        if len(valid) > 1 and self._jointly(valid, sups):
            return [n - 1 for n in valid], "kept", "supported jointly by the cited passages"
        why = "no citation" if not unit.cited else self._why(valid, sups, unit.cited)
        w = self.config.semantic_weight
        near = sorted(
            (a for a in sups.values() if self._ok(a) and a.score(w) >= self.config.min_repoint_support),
            key=lambda a: -a.score(w),
        )
        others = near if unit.cited else [a for a in near if self._unquoted(unit.claim, a) is None]
        if others:
            return [others[0].j], "repointed", f"{why}; attached [{others[0].j + 1}]"
        if near:  # an uncited paraphrase: say what its closest quote lacks
            lacking = self._unquoted(unit.claim, near[0])
            return [], "dropped", f"{why}; the quote of [{near[0].j + 1}] does not hold {lacking}"
        return [], "dropped", f"{why}; no passage supports it"

    def _unquoted(self, claim: str, a: Alignment) -> str | None:
        """None when the quote may back an UNCITED claim: it holds every content word of it (counted). The model
        named no source, so the verifier's pick must be a copy. The quote alone, not the title beside it (with
        titles, SmolLM2 SciFact set 2 kept one more true and one more false claim: "... is a new fold")."""
        extra = unquoted_terms(claim, a.quote.text)
        return None if len(extra) <= self.config.max_uncited_unquoted else repr(" ".join(extra))

    def _jointly(self, valid: list[int], sups: dict[int, Alignment]) -> bool:
        """A claim combining facts from two passages: each span on topic with no swap or polarity failure, and
        every fact missing from one span present in another."""
        cited = [sups[n - 1] for n in valid]
        if any(a.score(self.config.semantic_weight) < self.config.min_support * 0.8 for a in cited):
            return False
        # Each span holds part of the claim: its subject may be another one's, its facts may be in the other.
        joinable = ("missing:", "swap: the span's subject", PART_NOT_QUOTED)
        if any(not f.startswith(joinable) for a in cited for f in a.failures):
            return False
        # ... and what one span lacks (a fact, a part of the claim) another holds.
        missing = [{f for f in a.failures if f.startswith(("missing:", PART_NOT_QUOTED))} for a in cited]
        return not set.intersection(*missing)

    def _why(self, valid: list[int], sups: dict[int, Alignment], cited: list[int]) -> str:
        if not valid:
            return f"cites {cited}, which are not passages of this answer"
        a = sups[valid[0] - 1]
        if a.failures:
            return f"{'; '.join(a.failures)} (span of [{valid[0]}])"
        return f"not supported by [{valid[0]}] (lexical {a.lexical:.2f}, semantic {a.semantic:.2f})"


def _needs(a: Alignment, left: set[str], passage: Passage) -> Alignment:
    """A bare answer's alignment fails when its quote does not say what the answer left to the question."""
    if a.failures or not predicate_missing(left, f"{a.quote.text} {passage.title or ''}"):
        return a
    return replace(a, failures=(f"a bare answer: the quote does not say {' '.join(sorted(left))!r}",))


def _cut_off(unit: _Unit) -> bool:
    """The answer's last sentence has neither an end mark nor a footnote: generation stopped inside it (the
    token limit), as in "The border guards service was set"."""
    return not unit.cited and not re.search(r"[.!?…:)\]\"”'»]\s*$", unit.raw)


def _units(text: str) -> list[_Unit]:
    """The answer's sentences with their markers; a stray "[2]" line is folded into the sentence before it."""
    units: list[_Unit] = []
    for span in split_sentences(text):
        # "The answer is: Kerim Has is a Turkish academic ..." (SmolLM2): the lead-in is dropped, the statement
        # after it is checked and shown on its own.
        lead = _ANSWER_LEAD.match(span.text)
        raw = span.text[lead.end() :] if lead and re.search(r"[A-Za-z]{2}", span.text[lead.end() :]) else span.text
        claim = strip_bullet(strip_markers(raw)).strip()
        cited = parse_markers(span.text)
        if not re.search(r"[A-Za-z0-9]", claim):
            if units and cited:
                prev = units[-1]
                units[-1] = _Unit(prev.start, span.end, prev.raw + text[prev.end : span.end], prev.claim,
                                  prev.cited + cited)
            continue
        units.append(_Unit(span.start, span.end, raw, claim, cited))
    return units


def _rebuild(text: str, replacements: list[tuple[_Unit, str | None]]) -> str:
    """The answer with each sentence replaced (new markers) or removed, keeping the rest of its layout."""
    out: list[str] = []
    cursor = 0
    for unit, new in replacements:
        out.append(text[cursor : unit.start])
        if new is not None:
            out.append(new)
        cursor = unit.end
    out.append(text[cursor:])
    joined = "".join(out)
    joined = EMPTY_BULLET_LINE.sub("", joined)  # bullets left empty
    joined = re.sub(r"[ \t]{2,}", " ", joined)
    return re.sub(r"\n{3,}", "\n\n", joined).strip()
