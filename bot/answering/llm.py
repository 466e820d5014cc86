"""The LLM strategy: generate an answer from numbered passages, verify every citation (deterministic checks,
then the LLM judge when one is configured), and fall back to the labelled extractive answer when the LLM
fails, runs out of the question's deadline, or nothing it wrote survives verification. The fallback says
which (`Answer.fallback_kind`).

The question's deadline (`AnswerRequest.deadline`) bounds the waiting on the model: generation and the
judge. Local work in between (the relevance gate, packing, the deterministic checks) moves it on by the time it
took, as the engine does for retrieval, so that a slow machine does not spend the model's time.

The extractive answer is computed only when it is needed: as the fallback, or when the relevance gate says the
passages are off topic (then the LLM is not asked at all and no tokens are spent).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import TYPE_CHECKING

from bot.answer import Answer, AnswerEvent, FallbackKind, FinalAnswer, TextDelta
from bot.answering.base import AnswerRequest, refusal
from bot.answering.extractive import ExtractiveStrategy
from bot.answering.verify import CitationVerifier
from bot.deadline import QuestionDeadlineError
from bot.prompting import Packed, answer_messages, count_tokens, strip_prompt_markup
from index.errors import LLMError

if TYPE_CHECKING:
    from bot.answering.judge import ClaimJudge

if TYPE_CHECKING:  # the openai client costs ~0.5 s to import: only an LLM-mode caller pays for it
    from bot.llm import LLMClient

log = logging.getLogger(__name__)


class LLMStrategy:
    mode = "llm"
    streams = True

    def __init__(
        self,
        llm: LLMClient,
        verifier: CitationVerifier,
        extractive: ExtractiveStrategy,
        *,
        context_tokens: int,
        min_relevance: float | None = None,
        judge: ClaimJudge | None = None,
    ) -> None:
        self.llm = llm
        self.verifier = verifier
        self.extractive = extractive
        self.judge = judge  # None: deterministic checks only (FOOTNOTE_VERIFY_JUDGE=false)
        self.context_tokens = context_tokens
        # Below this relevance (see ExtractiveAnswerer.relevance), the LLM is not asked: nothing to ground it.
        # Default: the extractive scorer's calibrated threshold (ExtractiveConfig.refuse_below), same scale.
        self.min_relevance = extractive.answerer.min_relevance if min_relevance is None else min_relevance

    async def run(self, request: AnswerRequest) -> AsyncIterator[AnswerEvent]:
        local = time.monotonic()
        if not request.passages or await asyncio.to_thread(self._relevance, request) < self.min_relevance:
            yield FinalAnswer(await self._offtopic(request))
            return
        packed = await asyncio.to_thread(
            answer_messages, request.question, request.passages, context_tokens=self.context_tokens
        )
        _not_charged(request, local)
        request.tokens.update(packed.tokens)
        text: str | None = None
        reason = ""
        kind: FallbackKind = "llm_error"
        t = time.perf_counter()
        try:
            if request.stream:
                parts: list[str] = []
                async for delta in self.llm.stream(packed.messages, deadline=request.deadline):
                    parts.append(delta)
                    yield TextDelta(delta)
                text = "".join(parts)
            else:
                completion = await self.llm.complete(packed.messages, deadline=request.deadline)
                text = completion.text
                request.tokens.update({f"llm_{k}": v for k, v in completion.usage.items()})
        except QuestionDeadlineError as err:
            reason, kind = str(err), "deadline"
            log.warning("LLM answer ran out of the question's deadline, falling back to extractive: %s", err)
        except LLMError as err:
            reason = str(err)
            log.warning("LLM answer failed, falling back to extractive: %s", err)
        finally:
            request.timings["llm"] = round((time.perf_counter() - t) * 1000, 1)
        if text is None:
            yield FinalAnswer(await self._fallback(request, reason, kind))
            return
        yield FinalAnswer(await self._verified(request, packed, text))

    def _relevance(self, request: AnswerRequest) -> float:
        return self.extractive.answerer.relevance(request.question, request.passages)

    async def _offtopic(self, request: AnswerRequest) -> Answer:
        extractive = await asyncio.to_thread(self.extractive.answer, request)
        return extractive if extractive.refused else refusal(request.question, request.passages)

    async def _verified(self, request: AnswerRequest, packed: Packed, text: str) -> Answer:
        local = time.monotonic()
        request.tokens["completion"] = await asyncio.to_thread(count_tokens, text)
        text = strip_prompt_markup(text)
        t = time.perf_counter()
        result = await asyncio.to_thread(self.verifier.verify, request.question, text, packed.passages)
        request.timings["verify"] = round((time.perf_counter() - t) * 1000, 1)
        _not_charged(request, local)
        request.tokens["context_passages"] = len(packed.passages)
        if result.outcome == "all_dropped":
            answer = await self._fallback(
                request, "no sentence of the generated answer was supported by its sources", "unverified"
            )
            answer.checks, answer.removed = result.answer.checks, result.answer.removed
            answer.trace["verification"] = result.answer.trace.get("verification")
            return answer
        verified = result.answer
        if self.judge is not None and result.outcome == "ok":
            t = time.perf_counter()
            judgement = await self.judge.judge(request.question, verified, packed.passages, deadline=request.deadline)
            request.timings["judge"] = round((time.perf_counter() - t) * 1000, 1)
            if judgement.all_dropped:
                answer = await self._fallback(
                    request, "the LLM judge found no sentence of the generated answer entailed by its quote",
                    "unverified",
                )
                answer.checks, answer.removed = judgement.answer.checks, judgement.answer.removed
                answer.trace["verification"] = result.answer.trace.get("verification")
                answer.trace["judge"] = judgement.trace
                return answer
            verified = judgement.answer
            verified.trace["judge"] = judgement.trace
        verified.trace["context_chunk_ids"] = [p.chunk_id for p in packed.passages]
        return verified

    async def _fallback(self, request: AnswerRequest, reason: str, kind: FallbackKind) -> Answer:
        t = time.perf_counter()
        extractive = await asyncio.to_thread(self.extractive.answer, request)
        request.timings["extractive"] = round((time.perf_counter() - t) * 1000, 1)
        return replace(
            extractive,
            mode="fallback",
            fallback_reason=reason or "the LLM answer failed",
            fallback_kind=kind,
            trace=dict(extractive.trace),
        )


def _not_charged(request: AnswerRequest, since: float) -> None:
    """Move the deadline on by the local work done since `since` (see the module docstring)."""
    if request.deadline is not None:
        request.deadline += time.monotonic() - since
