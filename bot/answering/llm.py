"""The LLM strategy: generate an answer from numbered passages, verify every citation, and fall back to the
labelled extractive answer when the LLM fails or nothing it wrote survives verification.

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

from bot.answer import Answer, AnswerEvent, FinalAnswer, TextDelta
from bot.answering.base import AnswerRequest, refusal
from bot.answering.extractive import ExtractiveStrategy
from bot.answering.verify import CitationVerifier
from bot.prompting import Packed, answer_messages, count_tokens
from index.errors import LLMError

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
        min_relevance: float = 0.25,
    ) -> None:
        self.llm = llm
        self.verifier = verifier
        self.extractive = extractive
        self.context_tokens = context_tokens
        # Below this relevance (see ExtractiveAnswerer.relevance), the LLM is not asked: nothing to ground it.
        self.min_relevance = min_relevance

    async def run(self, request: AnswerRequest) -> AsyncIterator[AnswerEvent]:
        if not request.passages or await asyncio.to_thread(self._relevance, request) < self.min_relevance:
            yield FinalAnswer(await self._offtopic(request))
            return
        packed = await asyncio.to_thread(
            answer_messages, request.question, request.passages, context_tokens=self.context_tokens
        )
        request.tokens.update(packed.tokens)
        text: str | None = None
        reason = ""
        t = time.perf_counter()
        try:
            if request.stream:
                parts: list[str] = []
                async for delta in self.llm.stream(packed.messages):
                    parts.append(delta)
                    yield TextDelta(delta)
                text = "".join(parts)
            else:
                completion = await self.llm.complete(packed.messages)
                text = completion.text
                request.tokens.update({f"llm_{k}": v for k, v in completion.usage.items()})
        except LLMError as err:
            reason = str(err)
            log.warning("LLM answer failed, falling back to extractive: %s", err)
        finally:
            request.timings["llm"] = round((time.perf_counter() - t) * 1000, 1)
        if text is None:
            yield FinalAnswer(await self._fallback(request, reason))
            return
        yield FinalAnswer(await self._verified(request, packed, text))

    def _relevance(self, request: AnswerRequest) -> float:
        return self.extractive.answerer.relevance(request.question, request.passages)

    async def _offtopic(self, request: AnswerRequest) -> Answer:
        extractive = await asyncio.to_thread(self.extractive.answer, request)
        return extractive if extractive.refused else refusal(request.question, request.passages)

    async def _verified(self, request: AnswerRequest, packed: Packed, text: str) -> Answer:
        request.tokens["completion"] = await asyncio.to_thread(count_tokens, text)
        t = time.perf_counter()
        result = await asyncio.to_thread(self.verifier.verify, request.question, text, packed.passages)
        request.timings["verify"] = round((time.perf_counter() - t) * 1000, 1)
        request.tokens["context_passages"] = len(packed.passages)
        if result.outcome == "all_dropped":
            answer = await self._fallback(request, "no sentence of the generated answer was supported by its sources")
            answer.checks, answer.removed = result.answer.checks, result.answer.removed
            answer.trace["verification"] = result.answer.trace.get("verification")
            return answer
        result.answer.trace["context_chunk_ids"] = [p.chunk_id for p in packed.passages]
        return result.answer

    async def _fallback(self, request: AnswerRequest, reason: str) -> Answer:
        t = time.perf_counter()
        extractive = await asyncio.to_thread(self.extractive.answer, request)
        request.timings["extractive"] = round((time.perf_counter() - t) * 1000, 1)
        return replace(
            extractive,
            mode="fallback",
            fallback_reason=reason or "the LLM answer failed",
            trace=dict(extractive.trace),
        )
