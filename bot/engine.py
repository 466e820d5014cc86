"""The engine: question -> (follow-up rewrite) -> retrieval -> answer (extractive, or LLM + verification,
falling back to extractive) -> conversation history. Implements `bot.answer.AnswerService`.

Dependencies are injected (settings, retriever, embedder, LLM client, history store); nothing here reads
configuration. Blocking work (retrieval, embedding, token counting, SQLite) runs in worker threads from the async
API, and what loads on first use (tokenizer, the openai client's modules) loads at construction: the Discord bot
shares its event loop with the engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from llama_index.core.base.embeddings.base import BaseEmbedding

from bot.answer import Answer, AnswerEvent, FinalAnswer, Passage, RetrievalFilters, Retriever, TextDelta
from bot.conversation import ConversationStore, Turn
from bot.extractive import ExtractiveAnswerer, refusal
from bot.prompting import Packed, answer_messages, condense_messages, count_tokens
from bot.sentences import SentenceEmbedder, is_content, split_question, words
from bot.verify import CitationVerifier
from index.errors import ConfigError, LLMError, QuestionError
from index.settings import Settings

if TYPE_CHECKING:  # the openai client costs ~0.5 s to import: only an LLM-mode caller pays for it
    from bot.llm import LLMClient

log = logging.getLogger(__name__)

_PRONOUNS = frozenset("it its they them their theirs this that these those he him his she her there such".split())
_FOLLOWUP_START = re.compile(r"^\W*(and|but|also|so|what about|how about|then|same)\b", re.I)
_FILLER = frozenset("about more else also again too then same instead".split())


@dataclass
class _Run:
    """Everything one question collects on its way through the engine."""

    question: str
    conversation_id: str | None
    collection: str | None
    filters: RetrievalFilters | None = None
    started: float = field(default_factory=time.perf_counter)
    rewritten: str = ""
    passages: list[Passage] = field(default_factory=list)
    retrieval_trace: dict[str, Any] = field(default_factory=dict)
    extractive: Answer | None = None
    timings: dict[str, float] = field(default_factory=dict)
    tokens: dict[str, int] = field(default_factory=dict)

    @contextlib.contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        t = time.perf_counter()
        try:
            yield
        finally:
            self.timings[stage] = round((time.perf_counter() - t) * 1000, 1)


class Engine:
    """`AnswerService` for the CLI and the Discord bot, plus a sync `ask()` for scripts."""

    PART_EXTRA = 3  # passages each part of a multi-part question may add to the candidates

    def __init__(
        self,
        settings: Settings,
        retriever: Retriever,
        embedder: BaseEmbedding | SentenceEmbedder,
        llm: LLMClient | None = None,
        history: ConversationStore | None = None,
        *,
        extractive: ExtractiveAnswerer | None = None,
        verifier: CitationVerifier | None = None,
        llm_min_relevance: float = 0.25,
    ) -> None:
        if settings.answer_mode == "llm" and llm is None:
            raise ConfigError("FOOTNOTE_ANSWER_MODE=llm needs an LLM: set OPENAI_API_KEY or OPENAI_BASE_URL.")
        self.settings = settings
        self.retriever = retriever
        self.embed = embedder if isinstance(embedder, SentenceEmbedder) else SentenceEmbedder(embedder)
        self.llm = llm if settings.answer_mode != "extractive" else None
        self.history = history
        self.extractive = extractive or ExtractiveAnswerer(self.embed)
        self.verifier = verifier or CitationVerifier(self.embed)
        # Below this topicality (no answer-type bonus), the LLM is not asked at all: nothing to ground it.
        self.llm_min_relevance = llm_min_relevance
        _load_on_first_use(with_llm=self.llm is not None)

    @property
    def streams(self) -> bool:
        return self.llm is not None

    @property
    def mode(self) -> str:
        return "llm" if self.llm is not None else "extractive"

    # --- public API ------------------------------------------------------------------------------------

    def ask(
        self, question: str, *, conversation_id: str | None = None, collection: str | None = None,
        filters: RetrievalFilters | None = None,
    ) -> Answer:
        """Blocking `aask`, for callers without an event loop (the CLI)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(
                self.aask(question, conversation_id=conversation_id, collection=collection, filters=filters)
            )
        raise RuntimeError("Engine.ask() called inside an event loop: use `await engine.aask(...)`.")

    async def aask(
        self, question: str, *, conversation_id: str | None = None, collection: str | None = None,
        filters: RetrievalFilters | None = None,
    ) -> Answer:
        final: Answer | None = None
        async for event in self._run(question, conversation_id, collection, stream=False, filters=filters):
            if isinstance(event, FinalAnswer):
                final = event.answer
        assert final is not None
        return final

    async def astream(
        self, question: str, *, conversation_id: str | None = None, collection: str | None = None
    ) -> AsyncIterator[AnswerEvent]:
        async for event in self._run(question, conversation_id, collection, stream=True):
            yield event

    # --- pipeline --------------------------------------------------------------------------------------

    async def _run(
        self, question: str, conversation_id: str | None, collection: str | None, *, stream: bool,
        filters: RetrievalFilters | None = None,
    ) -> AsyncIterator[AnswerEvent]:
        question = self.validate(question)
        run = _Run(question, conversation_id, collection, filters)
        await self._prepare(run)
        assert run.extractive is not None
        answer: Answer
        if self.llm is None:
            answer = run.extractive
        elif not run.passages or await asyncio.to_thread(self._relevance, run) < self.llm_min_relevance:
            # Nothing on topic: the extractive answer is a refusal already, and no LLM tokens are spent.
            answer = run.extractive if run.extractive.refused else refusal(question, run.passages)
        else:
            packed = await asyncio.to_thread(
                answer_messages, run.rewritten, run.passages, context_tokens=self.settings.context_tokens
            )
            run.tokens.update(packed.tokens)
            text: str | None = None
            reason = ""
            try:
                with run.timed("llm"):
                    if stream:
                        parts: list[str] = []
                        async for delta in self.llm.stream(packed.messages):
                            parts.append(delta)
                            yield TextDelta(delta)
                        text = "".join(parts)
                    else:
                        completion = await self.llm.complete(packed.messages)
                        text = completion.text
                        run.tokens.update({f"llm_{k}": v for k, v in completion.usage.items()})
            except LLMError as err:
                reason = str(err)
                log.warning("LLM answer failed, falling back to extractive: %s", err)
            answer = await self._verified(run, packed, text) if text is not None else self._fallback(run, reason)
        answer = self._finish(run, answer)
        await self._remember(run, answer)  # before the final event: a consumer may stop right after it
        yield FinalAnswer(answer)

    def validate(self, question: str) -> str:
        q = " ".join((question or "").split())
        if not q:
            raise QuestionError("The question is empty: ask something about your documents.")
        if len(q) > self.settings.max_question_chars:
            raise QuestionError(
                f"The question is too long ({len(q)} characters; the limit is "
                f"{self.settings.max_question_chars}). Please shorten it."
            )
        return q

    async def _prepare(self, run: _Run) -> None:
        """Rewrite a follow-up, retrieve, compute the extractive answer (fallback and relevance gate)."""
        turns: list[Turn] = []
        if self.history is not None and run.conversation_id:
            history, cid = self.history, run.conversation_id
            with run.timed("history"):
                turns = await asyncio.to_thread(history.history, cid)
        with run.timed("rewrite"):
            run.rewritten = await self._rewrite(run, turns)
        run.tokens["question"] = await asyncio.to_thread(count_tokens, run.rewritten)
        with run.timed("retrieve"):
            retrieval = await asyncio.to_thread(
                self.retriever.retrieve, run.rewritten, top_k=self.settings.top_k, collection=run.collection,
                filters=run.filters,
            )
        run.retrieval_trace = retrieval.trace
        run.passages = list(retrieval.passages)
        parts = split_question(run.rewritten)
        if len(parts) > 1:
            # "X, and Y?": one query tends to find X or Y; each part also brings its own best passages.
            with run.timed("retrieve_parts"):
                for part in parts:
                    extra = await asyncio.to_thread(
                        self.retriever.retrieve, part, top_k=self.settings.top_k, collection=run.collection,
                        filters=run.filters,
                    )
                    seen = {p.chunk_id for p in run.passages}
                    run.passages += [p for p in extra.passages if p.chunk_id not in seen][: self.PART_EXTRA]
            run.retrieval_trace = {**retrieval.trace, "parts": parts}
        if turns and run.rewritten != run.question:
            # A follow-up may be answered by what the last answer cited: keep those passages in view.
            seen = {p.chunk_id for p in run.passages}
            run.passages += [p for p in turns[-1].passages if p.chunk_id not in seen]
        with run.timed("extractive"):
            run.extractive = await asyncio.to_thread(self.extractive.answer, run.rewritten, run.passages)

    async def _rewrite(self, run: _Run, turns: list[Turn]) -> str:
        if not turns:
            return run.question
        if self.llm is not None:
            messages = await asyncio.to_thread(
                condense_messages, run.question, turns, history_tokens=self.settings.history_tokens
            )
            try:
                completion = await self.llm.complete(messages)
                rewritten = completion.text.strip().strip('"').splitlines()[0].strip()
                if 0 < len(rewritten) <= self.settings.max_question_chars:
                    return rewritten
            except LLMError as err:
                log.warning("condensing the follow-up failed, rewriting offline: %s", err)
        return rewrite_offline(run.question, turns[-1])

    def _relevance(self, run: _Run) -> float:
        scored = self.extractive.score(run.rewritten, run.passages)
        w_sem, w_lex = self.extractive.semantic_weight, self.extractive.lexical_weight
        return max((w_sem * s.semantic + w_lex * s.lexical for s in scored), default=-1.0)

    async def _verified(self, run: _Run, packed: Packed, text: str) -> Answer:
        run.tokens["completion"] = await asyncio.to_thread(count_tokens, text)
        with run.timed("verify"):
            result = await asyncio.to_thread(self.verifier.verify, run.rewritten, text, packed.passages)
        run.tokens["context_passages"] = len(packed.passages)
        if result.outcome == "all_dropped":
            answer = self._fallback(run, "no sentence of the generated answer was supported by its sources")
            answer.checks, answer.removed = result.answer.checks, result.answer.removed
            answer.trace["verification"] = result.answer.trace.get("verification")
            return answer
        result.answer.trace["context_chunk_ids"] = [p.chunk_id for p in packed.passages]
        return result.answer

    def _fallback(self, run: _Run, reason: str) -> Answer:
        assert run.extractive is not None
        return replace(
            run.extractive,
            mode="fallback",
            fallback_reason=reason or "the LLM answer failed",
            trace=dict(run.extractive.trace),
        )

    def _finish(self, run: _Run, answer: Answer) -> Answer:
        answer.question = run.question
        answer.conversation_id = run.conversation_id
        answer.rewritten_question = run.rewritten if run.rewritten != run.question else None
        run.timings["total"] = round((time.perf_counter() - run.started) * 1000, 1)
        answer.trace = {
            "question": run.question,
            "rewritten_question": run.rewritten,
            "mode": answer.mode,
            "configured_mode": self.mode,
            "refused": answer.refused,
            "fallback_reason": answer.fallback_reason,
            "retrieval": run.retrieval_trace,
            "passages": [p.chunk_id for p in run.passages],
            "cited_chunk_ids": [c.chunk_id for c in answer.citations],
            "verification": [asdict_check(c) for c in answer.checks],
            "timings_ms": run.timings,
            "tokens": run.tokens,
            "answerer": answer.trace,
        }
        return answer

    async def _remember(self, run: _Run, answer: Answer) -> None:
        if self.history is None or not run.conversation_id:
            return
        cited = {c.chunk_id for c in answer.citations}
        turn = Turn(
            question=run.question,
            answer=answer.text,
            rewritten=run.rewritten,
            cited_chunk_ids=tuple(c.chunk_id for c in answer.citations),
            passages=tuple(p for p in run.passages if p.chunk_id in cited),
        )
        await asyncio.to_thread(self.history.add, run.conversation_id, turn)


def _load_on_first_use(*, with_llm: bool) -> None:
    """Load now what would otherwise load inside the first answer, on the event loop (measured: the tokenizer
    ~0.5 s, the openai client's API modules ~0.7 s, which `AsyncOpenAI.chat` imports on first access). Both are
    process-wide, so only the first engine pays. Loading them in a worker thread instead still stalled the loop
    for 100-200 ms (they hold the GIL in long stretches)."""
    count_tokens("")
    if with_llm:
        import openai.resources.chat  # noqa: F401


def asdict_check(check: Any) -> dict[str, Any]:
    return {k: getattr(check, k) for k in ("sentence", "cited", "supported_by", "action", "reason")}


def looks_like_followup(question: str) -> bool:
    """ "And what did Kyrgyzstan say?", "Which drones were used?", "What about it?": short, starts like a
    continuation, or leans on a pronoun."""
    toks = [w.lower() for w in words(question)]
    if _FOLLOWUP_START.match(question) or any(t in _PRONOUNS for t in toks):
        return True
    return len(toks) <= 4


def rewrite_offline(question: str, last: Turn) -> str:
    """Make a follow-up standalone without an LLM. When it swaps the subject ("And what did Kyrgyzstan
    say?"), reuse the previous question with the new names; otherwise add the previous question's names and
    subject ("Which drones were used (Kyrgyzstan)?")."""
    if not looks_like_followup(question):
        return question
    previous = last.rewritten or last.question
    new_names = [w for w in words(question)[1:] if w[0].isupper() and is_content(w)]
    own = [w for w in words(question) if is_content(w) and not w[0].isupper() and w.lower() not in _FILLER]
    old_names = [w for w in words(previous)[1:] if w[0].isupper() and is_content(w)]
    if new_names and old_names and len(own) <= 1:
        swapped = previous
        for old, new in zip(old_names, new_names + [new_names[-1]] * len(old_names), strict=False):
            swapped = re.sub(rf"\b{re.escape(old)}\b", new, swapped)
        if swapped != previous:
            return swapped
    mine = {w.lower() for w in words(question)}
    # The subject (names) carries over best; other keywords only when the previous question had no names.
    keywords = [w for w in old_names if w.lower() not in mine] or [
        w for w in words(previous) if is_content(w) and w.lower() not in mine
    ]
    keywords = list(dict.fromkeys(keywords))[:6]
    if not keywords:
        return question
    return f"{question.rstrip(' ?')} ({', '.join(keywords)})?"
