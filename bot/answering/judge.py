"""The LLM judge: after the deterministic citation checks, one batched call asks the configured model whether
each kept claim is entailed by the span its footnote quotes (yes / no / partly).

Why a second opinion: the deterministic checks compare words, names and numbers; a fact moved onto another
entity of the same sentence, or a negation, can pass them. The judge can only take away: "no" and "partly"
drop the claim, or re-point it when a span of another passage also passed the deterministic checks and the
judge said "yes" to that one (the alternatives go into the same call, so there is still one request).

Everything the judge cannot do is a no-op, never a failure: no time left, an HTTP error, JSON that does not
parse, a verdict missing for an item. Then the deterministic result stands and the trace says why. Claims and
quotes travel as data inside delimiters (`bot.prompting.judge_messages`), and the reply is read only for
verdicts on the item ids we sent: a quote that says "answer yes" cannot add a verdict or an item.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from bot.answer import Answer, Citation, Passage, SentenceCheck
from bot.answering.base import make_citation
from bot.answering.verify import CitationVerifier
from bot.prompting import judge_messages
from bot.text.embedder import SentenceEmbedder
from bot.text.markers import EMPTY_BULLET_LINE, MARKER, attach_markers, parse_markers, strip_bullet, strip_markers
from bot.text.sentences import Span, split_sentences
from index.errors import LLMError

if TYPE_CHECKING:
    from bot.llm import LLMClient

log = logging.getLogger(__name__)

Verdict = Literal["yes", "no", "partly"]
_SEVERITY: dict[str, int] = {"yes": 0, "partly": 1, "no": 2}
_SYNONYMS: dict[str, Verdict] = {
    "yes": "yes", "no": "no", "partly": "partly", "partial": "partly", "partially": "partly",
}
_FENCE = re.compile(r"^\s*```(?:json)?\s*|\s*```\s*$", re.I)


@dataclass(frozen=True)
class _Claim:
    """One cited sentence of the verified answer, where it sits in the text, and the footnotes it carries."""

    span: Span
    claim: str  # without markers or bullet
    footnotes: tuple[int, ...]


@dataclass(frozen=True)
class _Item:
    """One (claim, evidence) pair shown to the judge."""

    id: int
    claim: int  # index into the claims
    evidence: str
    chunk_ids: tuple[str, ...]
    alternative: bool  # False: the span the answer cites; True: another passage's span that also passed


@dataclass
class Judgement:
    answer: Answer  # the answer after the judge (the input answer when the judge was unavailable)
    status: Literal["ok", "unavailable", "skipped"]
    all_dropped: bool = False
    trace: dict[str, Any] = field(default_factory=dict)


class ClaimJudge:
    """Asks the LLM once per answer whether each kept claim is entailed by its quote."""

    def __init__(
        self,
        llm: LLMClient,
        verifier: CitationVerifier,
        embed: SentenceEmbedder,
        *,
        max_alternatives: int = 2,
        max_items: int = 24,
        min_seconds: float = 0.5,
    ) -> None:
        self.llm = llm
        self.verifier = verifier
        self.embed = embed
        self.max_alternatives = max_alternatives  # other passages tried per claim, for re-pointing
        self.max_items = max_items  # one request stays small: alternatives are the first to go
        self.min_seconds = min_seconds  # below this much time left, not worth a request

    async def judge(
        self, question: str, answer: Answer, passages: list[Passage], *, deadline: float | None = None
    ) -> Judgement:
        t = time.perf_counter()
        claims = _claims(answer)
        if not claims:
            return Judgement(answer, "skipped", trace={"status": "skipped", "reason": "no cited sentence to judge"})
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left < self.min_seconds:
            return self._unavailable(answer, "skipped", "no time left within the question's deadline", t)
        items = await asyncio.to_thread(self._items, question, answer, claims, passages)
        try:
            completion = await self.llm.complete(
                judge_messages([(i.id, claims[i.claim].claim, i.evidence) for i in items]),
                deadline=deadline,
                max_tokens=16 * len(items) + 32,
                json_object=True,
            )
        except LLMError as err:
            log.warning("the LLM judge failed, keeping the deterministic result: %s", err)
            return self._unavailable(answer, "unavailable", f"the judge call failed: {err}", t)
        verdicts = parse_verdicts(completion.text, {i.id for i in items})
        if verdicts is None:
            log.warning("the LLM judge's reply had no usable verdicts, keeping the deterministic result")
            return self._unavailable(answer, "unavailable", "the judge's reply was not the JSON asked for", t)
        return self._apply(answer, claims, items, verdicts, passages, t)

    def _unavailable(
        self, answer: Answer, status: Literal["unavailable", "skipped"], reason: str, t: float
    ) -> Judgement:
        trace = {"status": status, "reason": reason + "; the deterministic checks' result stands", "ms": _ms(t)}
        return Judgement(answer, status, trace=trace)

    # --- what the judge is asked -------------------------------------------------------------------------

    def _items(self, question: str, answer: Answer, claims: list[_Claim], passages: list[Passage]) -> list[_Item]:
        by_n = {c.n: c for c in answer.citations}
        items: list[_Item] = []
        for k, claim in enumerate(claims):
            cites = [by_n[n] for n in claim.footnotes if n in by_n]
            items.append(_Item(len(items) + 1, k, " … ".join(c.quote for c in cites), _ids(cites), False))
        for k, (chunk_id, quote) in self._alternatives(question, claims, answer, passages):
            if len(items) >= self.max_items:
                break
            items.append(_Item(len(items) + 1, k, quote, (chunk_id,), True))
        return items

    def _alternatives(
        self, question: str, claims: list[_Claim], answer: Answer, passages: list[Passage]
    ) -> list[tuple[int, tuple[str, str]]]:
        """For each claim, spans of other passages that the deterministic verifier also accepts: the claim is
        re-cited to each of the `max_alternatives` most similar other passages and verified again."""
        by_n = {c.n: c for c in answer.citations}
        if len(passages) < 2:
            return []
        sentences = [[s.text for s in split_sentences(p.text)] or [p.text] for p in passages]
        vectors = [self.embed(s) for s in sentences]
        claim_vectors = self.embed([c.claim for c in claims])
        lines: list[str] = []
        for k, claim in enumerate(claims):
            cited = {by_n[n].chunk_id for n in claim.footnotes if n in by_n}
            similarity = [float(np.max(v @ claim_vectors[k])) for v in vectors]
            order = [j for j in np.argsort(similarity)[::-1] if passages[int(j)].chunk_id not in cited]
            lines += [f"{claim.claim} [{int(j) + 1}]" for j in order[: self.max_alternatives]]
        if not lines:
            return []
        result = self.verifier.verify(question, "\n\n".join(lines), passages)
        if result.outcome != "ok":
            return []
        index = {c.claim: k for k, c in reversed(list(enumerate(claims)))}
        alt_by_n = {c.n: c for c in result.answer.citations}
        seen: set[tuple[int, str]] = set()
        out: list[tuple[int, tuple[str, str]]] = []
        for found in _claims(result.answer):
            if found.claim not in index:
                continue
            k = index[found.claim]
            cited = {by_n[n].chunk_id for n in claims[k].footnotes if n in by_n}
            for n in found.footnotes:
                c = alt_by_n.get(n)
                if c is not None and c.chunk_id not in cited and (k, c.chunk_id) not in seen:
                    seen.add((k, c.chunk_id))
                    out.append((k, (c.chunk_id, c.quote)))
        return out

    # --- what the verdicts do ----------------------------------------------------------------------------

    def _apply(
        self,
        answer: Answer,
        claims: list[_Claim],
        items: list[_Item],
        verdicts: dict[int, Verdict],
        passages: list[Passage],
        t: float,
    ) -> Judgement:
        by_chunk = {p.chunk_id: (j, p) for j, p in enumerate(passages)}
        decisions: list[dict[str, Any]] = []
        new_text: dict[int, str | None] = {}  # claim index -> replacement sentence (None: dropped)
        extra: list[Citation] = []  # citations added by re-pointing, numbered after the existing ones
        checks = list(answer.checks)
        removed = list(answer.removed)
        for k, claim in enumerate(claims):
            own = next(i for i in items if i.claim == k and not i.alternative)
            verdict = verdicts.get(own.id)
            decision: dict[str, Any] = {"claim": claim.claim, "verdict": verdict or "missing"}
            if verdict is None or verdict == "yes":
                decision["action"] = "kept" if verdict else "unjudged"
                decisions.append(decision)
                continue
            better = next(
                (i for i in items if i.claim == k and i.alternative and verdicts.get(i.id) == "yes"), None
            )
            if better is not None and better.chunk_ids[0] in by_chunk:
                j, passage = by_chunk[better.chunk_ids[0]]
                n = len(answer.citations) + len(extra) + 1
                extra.append(make_citation(n, passage, better.evidence))
                new_text[k] = attach_markers(strip_markers(claim.span.text).rstrip(), [n])
                decision.update(action="repointed", to_chunk_id=passage.chunk_id)
                checks = _mark(checks, claim.claim, "repointed", [j + 1], f"judge: {verdict} for its quote; "
                               f"re-pointed to [{j + 1}], which the judge accepts")
            else:
                new_text[k] = None
                removed.append(claim.claim)
                decision["action"] = "dropped"
                checks = _mark(checks, claim.claim, "dropped", [], f"judge: {verdict} for its quote")
            decisions.append(decision)
        trace = {
            "status": "ok",
            "items": [
                {"id": i.id, "claim": claims[i.claim].claim, "evidence": i.evidence, "chunk_ids": list(i.chunk_ids),
                 "alternative": i.alternative, "verdict": verdicts.get(i.id, "missing")}
                for i in items
            ],
            "decisions": decisions,
            "ms": _ms(t),
        }
        if not new_text:
            return Judgement(answer, "ok", trace=trace)
        text, citations = _rebuild(answer.text, claims, new_text, [*answer.citations, *extra])
        judged = replace(answer, text=text, citations=citations, checks=checks, removed=removed,
                         trace=dict(answer.trace))
        return Judgement(judged, "ok", all_dropped=not citations, trace=trace)


def parse_verdicts(reply: str, ids: set[int]) -> dict[int, Verdict] | None:
    """Verdicts by item id from the judge's reply, or None when it holds none we can trust.

    Accepted: {"verdicts": [{"id": 1, "verdict": "yes"}, ...]}, a bare list of such entries, or {"1": "yes"}.
    Ids we did not send are ignored; an id judged twice gets the stricter verdict."""
    text = _FENCE.sub("", reply.strip())
    data: Any = None
    for candidate in (text, text[text.find("{") : text.rfind("}") + 1] if "{" in text else ""):
        try:
            data = json.loads(candidate)
            break
        except (ValueError, TypeError):
            continue
    if isinstance(data, dict) and isinstance(data.get("verdicts"), list):
        entries: list[Any] = data["verdicts"]
    elif isinstance(data, list):
        entries = data
    elif isinstance(data, dict):
        entries = [{"id": key, "verdict": value} for key, value in data.items()]
    else:
        return None
    out: dict[int, Verdict] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        raw_id, raw_verdict = entry.get("id"), entry.get("verdict")
        if isinstance(raw_id, bool) or not isinstance(raw_verdict, str):
            continue
        try:
            item = int(raw_id) if isinstance(raw_id, int | str) else None
        except ValueError:
            item = None
        verdict = _SYNONYMS.get(raw_verdict.strip().lower())
        if item is None or item not in ids or verdict is None:
            continue
        if item not in out or _SEVERITY[verdict] > _SEVERITY[out[item]]:
            out[item] = verdict
    return out or None


def _claims(answer: Answer) -> list[_Claim]:
    """The sentences of the answer that carry footnotes (the answer's text is the verifier's output)."""
    out: list[_Claim] = []
    for span in split_sentences(answer.text):
        footnotes = tuple(parse_markers(span.text))
        claim = strip_bullet(strip_markers(span.text)).strip()
        if footnotes and re.search(r"[A-Za-z0-9]", claim):
            out.append(_Claim(span, claim, footnotes))
    return out


def _rebuild(
    text: str, claims: list[_Claim], new_text: dict[int, str | None], citations: list[Citation]
) -> tuple[str, list[Citation]]:
    """The answer with dropped sentences removed and re-pointed ones replaced, footnotes renumbered 1..n in
    order of first appearance, and citations no sentence refers to any more left out."""
    out: list[str] = []
    cursor = 0
    for k, claim in enumerate(claims):
        if k not in new_text:
            continue
        out.append(text[cursor : claim.span.start])
        out.append(new_text[k] or "")
        cursor = claim.span.end
    out.append(text[cursor:])
    joined = EMPTY_BULLET_LINE.sub("", "".join(out))
    joined = re.sub(r"\n{3,}", "\n\n", re.sub(r"[ \t]{2,}", " ", joined)).strip()
    by_n = {c.n: c for c in citations}
    order: dict[int, int] = {}
    for n in parse_markers(joined):
        if n in by_n and n not in order:
            order[n] = len(order) + 1

    def renumber(m: re.Match[str]) -> str:
        ns = [order[int(x)] for x in re.split(r"\s*[,;]\s*", m.group(1)) if int(x) in order]
        return "".join(f"[{n}]" for n in dict.fromkeys(ns))

    renumbered = MARKER.sub(renumber, joined)
    return renumbered, [replace(by_n[old], n=new) for old, new in order.items()]


def _mark(
    checks: list[SentenceCheck], claim: str, action: Any, supported_by: list[int], reason: str
) -> list[SentenceCheck]:
    return [
        replace(c, action=action, supported_by=supported_by, reason=reason) if c.sentence == claim else c
        for c in checks
    ]


def _ids(citations: list[Citation]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(c.chunk_id for c in citations))


def _ms(t: float) -> float:
    return round((time.perf_counter() - t) * 1000, 1)
