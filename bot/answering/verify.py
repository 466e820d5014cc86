"""Citation verification: every sentence of an LLM answer must be backed by the passage its [n] points to.

For each sentence: its numbers, dates and names must occur in the cited passage (after normalising "1,000"
vs "1000", "Sept." vs "September"), and its content must be there too: lexical overlap of content words and
embedding similarity with the best-matching sentence of the passage, both above thresholds. A citation that
fails is re-pointed to a passage that passes, else the sentence is dropped; an uncited sentence gets a
supporting passage attached, else is dropped. The footnote quote is the passage sentence that matches best.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding

from bot.answer import Answer, AnswerMode, Citation, Passage, SentenceCheck
from bot.answering.base import make_citation, refusal
from bot.text.embedder import SentenceEmbedder
from bot.text.injection import looks_like_injection
from bot.text.markers import EMPTY_BULLET_LINE, attach_markers, parse_markers, strip_bullet, strip_markers
from bot.text.sentences import Span, split_sentences
from bot.text.terms import (
    content_terms,
    lower_vocabulary,
    name_present,
    names,
    numbers,
    proper_vocabulary,
    term_in,
)

# "The documents don't say ...": a statement about the sources, which needs no footnote.
_LIMIT = re.compile(
    r"\b(passages?|documents?|sources?|context|texts?|provided information)\b[^.]{0,60}?"
    r"\b(do not|don't|does not|doesn't|did not|never|no longer)\b[^.]{0,20}?"
    r"\b(say|mention|state|contain|specify|include|give|provide|answer|address|name|discuss|cover)|"
    r"\bno (information|mention|details?)\b|\bnot (mentioned|stated|specified|given|named)\b|"
    r"\bcould not find\b|\bcan't find\b|\bcannot find\b",
    re.I,
)

Outcome = Literal["ok", "refused", "all_dropped"]
Action = Literal["kept", "repointed", "dropped", "uncited"]


@dataclass(frozen=True)
class Support:
    """How well passage j backs one claim."""

    j: int
    lexical: float
    semantic: float
    missing: tuple[str, ...]  # numbers/names of the claim that the passage lacks
    quote: Span

    def ok(self, min_lexical: float, min_semantic: float) -> bool:
        return not self.missing and self.lexical >= min_lexical and self.semantic >= min_semantic


@dataclass
class Verification:
    answer: Answer
    outcome: Outcome
    checks: list[SentenceCheck] = field(default_factory=list)


@dataclass
class _Unit:
    start: int
    end: int
    raw: str  # the sentence as written, markers included
    claim: str  # without markers or list bullets
    cited: list[int]


class CitationVerifier:
    def __init__(
        self,
        embedder: BaseEmbedding | SentenceEmbedder,
        *,
        min_lexical: float = 0.5,
        min_semantic: float = 0.5,
    ) -> None:
        self.embed = embedder if isinstance(embedder, SentenceEmbedder) else SentenceEmbedder(embedder)
        self.min_lexical = min_lexical  # share of the claim's content words found in the passage
        self.min_semantic = min_semantic  # cosine with the best-matching passage sentence

    def verify(self, question: str, text: str, passages: list[Passage], *, mode: AnswerMode = "llm") -> Verification:
        """Check `text` (the generator's answer, [n] = passages[n-1]) and return the verified Answer."""
        units = _units(text)
        proper = proper_vocabulary(p.text for p in passages)
        # Instructions planted in a document are data: they never count as support (nor become quotes).
        sentence_spans = [
            [s for s in split_sentences(p.text) if not looks_like_injection(s.text)] or [Span(0, 0, "")]
            for p in passages
        ]
        claims = [u.claim for u in units]
        # Each passage sentence is compared whole and clause by clause: a claim often restates one clause
        # of a long sentence ("... which have claimed nearly 100 lives since mid-September").
        views = [[(i, v) for i, s in enumerate(spans) for v in (s.text, *_clauses(s.text))] for spans in sentence_spans]
        flat = [v for vs in views for _, v in vs]
        vecs = self.embed(claims + flat) if claims else np.zeros((0, 1))
        claim_vecs, view_vecs = vecs[: len(claims)], vecs[len(claims) :]
        offsets = np.cumsum([0] + [len(vs) for vs in views])
        clean = [" ".join(s.text for s in spans) for spans in sentence_spans]
        meta = [" ".join(filter(None, (p.title, p.heading, p.date))) for p in passages]
        vocab = [lower_vocabulary(f"{c} {m}") for c, m in zip(clean, meta, strict=True)]
        nums = [numbers(f"{c} {m}") for c, m in zip(clean, meta, strict=True)]
        terms = [content_terms(f"{c} {p.heading or ''}") for c, p in zip(clean, passages, strict=True)]

        def support(k: int, j: int) -> Support:
            claim = claims[k]
            c_terms = content_terms(claim)
            lexical = sum(1 for t in c_terms if term_in(t, terms[j])) / len(c_terms) if c_terms else 0.0
            cos = np.full(len(sentence_spans[j]), -1.0)
            for (i, _), c in zip(views[j], view_vecs[offsets[j] : offsets[j + 1]] @ claim_vecs[k], strict=True):
                cos[i] = max(cos[i], float(c))
            missing = [n for n in sorted(numbers(claim)) if n not in nums[j]]
            missing += [n for n in sorted(names(claim, proper)) if not name_present(n, vocab[j])]
            # The quote: the passage sentence most like the claim, favouring one that holds its facts.
            facts = numbers(claim) | names(claim, proper)
            best = max(
                range(len(sentence_spans[j])),
                key=lambda i: float(cos[i]) + 0.3 * _share(facts, sentence_spans[j][i].text),
            )
            return Support(j, lexical, float(cos.max()), tuple(missing), sentence_spans[j][best])

        keys: dict[tuple[int, int], int] = {}  # (passage, quote start) -> footnote number
        citations: list[Citation] = []
        checks: list[SentenceCheck] = []
        removed: list[str] = []
        replacements: list[tuple[_Unit, str | None]] = []
        kept_cited = 0
        for k, unit in enumerate(units):
            valid = [n for n in unit.cited if 1 <= n <= len(passages)]
            if not unit.cited and _LIMIT.search(unit.claim):
                checks.append(SentenceCheck(unit.claim, [], [], "uncited", "states what the documents lack"))
                replacements.append((unit, unit.raw))
                continue
            sups = {j: support(k, j) for j in range(len(passages))}
            chosen, action, reason = self._decide(unit, valid, sups)
            best = max(sups.values(), key=lambda s: s.lexical + s.semantic, default=None)
            lex = sups[chosen[0]].lexical if chosen else (best.lexical if best else 0.0)
            sem = sups[chosen[0]].semantic if chosen else (best.semantic if best else 0.0)
            supported = [j + 1 for j in chosen]
            checks.append(
                SentenceCheck(unit.claim, unit.cited, supported, action, reason, round(lex, 3), round(sem, 3))
            )
            if not chosen:
                removed.append(unit.claim)
                replacements.append((unit, None))
                continue
            ns: list[int] = []
            for j in chosen:
                key = (j, sups[j].quote.start)
                if key not in keys:
                    keys[key] = len(citations) + 1
                    citations.append(make_citation(keys[key], passages[j], sups[j].quote.text))
                if keys[key] not in ns:
                    ns.append(keys[key])
            replacements.append((unit, attach_markers(strip_markers(unit.raw).rstrip(), ns)))
            kept_cited += 1

        trace = {
            "checks": [asdict(c) for c in checks],
            "min_lexical": self.min_lexical,
            "min_semantic": self.min_semantic,
        }
        if kept_cited == 0:
            outcome: Outcome = "all_dropped" if removed else "refused"
            out = refusal(question, passages, mode=mode, reason="the generated answer had no supported sentence")
            out.checks, out.removed = checks, removed
            out.trace["verification"] = {**trace, "outcome": outcome}
            return Verification(out, outcome, checks)
        answer = Answer(
            question=question,
            text=_rebuild(text, replacements),
            citations=citations,
            mode=mode,
            checks=checks,
            removed=removed,
            trace={"verification": {**trace, "outcome": "ok"}},
        )
        return Verification(answer, "ok", checks)

    def _decide(self, unit: _Unit, valid: list[int], sups: dict[int, Support]) -> tuple[list[int], Action, str]:
        """Which passages (0-based) back the claim, the SentenceCheck action, and why."""
        ok = [n - 1 for n in valid if sups[n - 1].ok(self.min_lexical, self.min_semantic)]
        if ok and len(ok) == len(valid):
            return ok, "kept", ""
        if ok:
            dropped = [n for n in valid if n - 1 not in ok]
            return ok, "repointed", f"removed unsupported citation(s) {dropped}"
        if len(valid) > 1 and self._jointly(valid, sups):
            return [n - 1 for n in valid], "kept", "supported jointly by the cited passages"
        why = "no citation" if not unit.cited else self._why(valid, sups, unit.cited)
        others = sorted(
            (s for s in sups.values() if s.ok(self.min_lexical, self.min_semantic)),
            key=lambda s: -(s.lexical + s.semantic),
        )
        if others:
            return [others[0].j], "repointed", f"{why}; attached [{others[0].j + 1}]"
        return [], "dropped", f"{why}; no passage supports it"

    def _jointly(self, valid: list[int], sups: dict[int, Support]) -> bool:
        """A claim combining facts from two passages: each must be on topic, together they hold every fact."""
        cited = [sups[n - 1] for n in valid]
        if any(s.semantic < self.min_semantic or s.lexical < self.min_lexical / 2 for s in cited):
            return False
        missing = set.intersection(*(set(s.missing) for s in cited))
        return not missing

    def _why(self, valid: list[int], sups: dict[int, Support], cited: list[int]) -> str:
        if not valid:
            return f"cites {cited}, which are not passages of this answer"
        s = sups[valid[0] - 1]
        if s.missing:
            return f"{', '.join(s.missing)} not in passage [{valid[0]}]"
        return f"not supported by [{valid[0]}] (lexical {s.lexical:.2f}, semantic {s.semantic:.2f})"


def _clauses(sentence: str) -> list[str]:
    pieces = re.split(r"[,;:]\s+|\s+(?=(?:which|while|but|whereas|although)\b)|\s+[—–-]\s+", sentence)
    return [p for p in pieces if len(p.split()) >= 3 and p != sentence] if len(pieces) > 1 else []


def _share(facts: set[str], sentence: str) -> float:
    if not facts:
        return 0.0
    vocab = lower_vocabulary(sentence) | numbers(sentence)
    return sum(1 for f in facts if f in vocab or name_present(f, vocab)) / len(facts)


def _units(text: str) -> list[_Unit]:
    """The answer's sentences with their markers; a stray "[2]" line is folded into the sentence before it."""
    units: list[_Unit] = []
    for span in split_sentences(text):
        claim = strip_bullet(strip_markers(span.text)).strip()
        cited = parse_markers(span.text)
        if not re.search(r"[A-Za-z0-9]", claim):
            if units and cited:
                prev = units[-1]
                units[-1] = _Unit(prev.start, span.end, text[prev.start : span.end], prev.claim, prev.cited + cited)
            continue
        units.append(_Unit(span.start, span.end, span.text, claim, cited))
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
