"""The engine orchestrates one question: history -> follow-up rewrite -> retrieval -> answer strategy ->
conversation history. Implements `bot.answer.AnswerService`. How an answer is made (extractive, or LLM +
verification + fallback) is the strategy's business (`bot.answering`), chosen at the composition root
(`bot.wiring`).

Each question gets one deadline (`settings.question_deadline_s`) shared by every LLM call it makes: the
follow-up rewrite (at most a third of it, so a hung server cannot starve the answer), the answer, the judge.
Local retrieval between the rewrite and the answer is not charged to it (the deadline moves by the time
retrieval took): the budget is for waiting on the model, and a slow index must not eat it.

Dependencies are injected; nothing here reads configuration. Blocking work (retrieval, embedding, token
counting, SQLite) runs in worker threads from the async API, and what loads on first use (tokenizer, the
openai client's modules) loads at construction: the Discord bot shares its event loop with the engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.answer import Answer, AnswerEvent, FinalAnswer, Passage, RetrievalFilters, Retriever
from bot.answering.base import AnswerRequest, AnswerStrategy
from bot.conversation import ConversationStore, Turn
from bot.deadline import sooner
from bot.followups import FollowupRewriter
from bot.prompting import count_tokens
from bot.recency import parse_as_of
from bot.text.questions import split_question
from index.errors import QuestionError
from index.settings import Settings


@dataclass
class _Run:
    """Everything one question collects on its way through the engine."""

    question: str
    conversation_id: str | None
    collection: str | None
    filters: RetrievalFilters | None = None
    as_of: date | None = None  # the day the question is asked as of (bot.recency): retrieval's reference date
    deadline: float | None = None  # time.monotonic() by which every LLM call of this question has finished
    started: float = field(default_factory=time.perf_counter)
    rewritten: str = ""
    passages: list[Passage] = field(default_factory=list)
    retrieval_trace: dict[str, Any] = field(default_factory=dict)
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
    # Passages a retrieval among the documents dated since a timeline's period began may add (the strategy's
    # `retrieval_since` hook). Analyst dev split (`python -m bench.analyst --split dev`, 2026-12-07): 3, 6 and
    # 12 all give timeline 39/43 (from 38/43: n59); the smallest, as PART_EXTRA.
    PERIOD_EXTRA = 3
    REWRITE_SHARE = 1 / 3  # of the question's deadline, at most, for condensing a follow-up

    def __init__(
        self,
        settings: Settings,
        retriever: Retriever,
        strategy: AnswerStrategy,
        *,
        rewriter: FollowupRewriter | None = None,
        history: ConversationStore | None = None,
    ) -> None:
        self.settings = settings
        self.retriever = retriever
        self.strategy = strategy
        self.rewriter = rewriter or FollowupRewriter(
            history_tokens=settings.history_tokens, max_chars=settings.max_question_chars
        )
        self.history = history
        _load_on_first_use(with_llm=strategy.mode == "llm", with_history=history is not None)

    @property
    def streams(self) -> bool:
        return self.strategy.streams

    @property
    def mode(self) -> str:
        return self.strategy.mode

    # --- public API ------------------------------------------------------------------------------------

    def ask(
        self, question: str, *, conversation_id: str | None = None, collection: str | None = None,
        filters: RetrievalFilters | None = None, as_of: str | date | None = None,
    ) -> Answer:
        """Blocking `aask`, for callers without an event loop (the CLI)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(
                self.aask(question, conversation_id=conversation_id, collection=collection, filters=filters,
                          as_of=as_of)
            )
        raise RuntimeError("Engine.ask() called inside an event loop: use `await engine.aask(...)`.")

    async def aask(
        self, question: str, *, conversation_id: str | None = None, collection: str | None = None,
        filters: RetrievalFilters | None = None, as_of: str | date | None = None,
    ) -> Answer:
        final: Answer | None = None
        async for event in self._run(question, conversation_id, collection, stream=False, filters=filters,
                                     as_of=as_of):
            if isinstance(event, FinalAnswer):
                final = event.answer
        assert final is not None
        return final

    async def astream(
        self, question: str, *, conversation_id: str | None = None, collection: str | None = None,
        filters: RetrievalFilters | None = None, as_of: str | date | None = None,
    ) -> AsyncIterator[AnswerEvent]:
        async for event in self._run(question, conversation_id, collection, stream=True, filters=filters,
                                     as_of=as_of):
            yield event

    # --- pipeline --------------------------------------------------------------------------------------

    async def _run(
        self, question: str, conversation_id: str | None, collection: str | None, *, stream: bool,
        filters: RetrievalFilters | None = None, as_of: str | date | None = None,
    ) -> AsyncIterator[AnswerEvent]:
        question = self.validate(question)
        run = _Run(question, conversation_id, collection, filters, parse_as_of(as_of))
        run.deadline = time.monotonic() + self.settings.question_deadline_s
        await self._prepare(run)
        request = AnswerRequest(
            run.rewritten, run.passages, stream=stream, deadline=run.deadline, timings=run.timings, tokens=run.tokens,
            as_of=run.as_of,
        )
        answer: Answer | None = None
        async for event in self.strategy.run(request):
            if isinstance(event, FinalAnswer):
                answer = event.answer
            else:
                yield event
        assert answer is not None, "an answer strategy must end with a FinalAnswer"
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
        """Rewrite a follow-up and retrieve (each part of a multi-part question too)."""
        turns: list[Turn] = []
        if self.history is not None and run.conversation_id:
            history, cid = self.history, run.conversation_id
            with run.timed("history"):
                turns = await asyncio.to_thread(history.history, cid)
        with run.timed("rewrite"):
            budget = sooner(run.deadline, self.settings.question_deadline_s * self.REWRITE_SHARE)
            run.rewritten = await self.rewriter.rewrite(run.question, turns, deadline=budget)
        if self.mode == "llm":  # no model reads an extractive question: its tokens cost nothing
            run.tokens["question"] = await asyncio.to_thread(count_tokens, run.rewritten)
        retrieval_started = time.monotonic()
        # A strategy may want more passages for some questions (AnalystRouter: timelines); optional hook.
        depth = getattr(self.strategy, "retrieval_depth", None)
        top_k = depth(run.rewritten, self.settings.top_k) if callable(depth) else self.settings.top_k
        with run.timed("retrieve"):
            retrieval = await asyncio.to_thread(
                self.retriever.retrieve, run.rewritten, top_k=top_k, collection=run.collection,
                filters=run.filters, as_of=run.as_of,
            )
        run.retrieval_trace = retrieval.trace
        run.passages = list(retrieval.passages)
        # A strategy may name the parts itself (AnalystRouter: a comparison's facets); optional hook.
        named_parts = getattr(self.strategy, "retrieval_parts", None)
        # The passages already retrieved go with it: a lower-case question's names are cased from them.
        parts = (named_parts(run.rewritten, run.passages) if callable(named_parts) else None) or split_question(
            run.rewritten
        )
        if len(parts) > 1:
            # "X, and Y?": one query tends to find X or Y; each part also brings its own best passages.
            with run.timed("retrieve_parts"):
                for part in parts:
                    extra = await asyncio.to_thread(
                        self.retriever.retrieve, part, top_k=self.settings.top_k, collection=run.collection,
                        filters=run.filters, as_of=run.as_of,
                    )
                    seen = {p.chunk_id for p in run.passages}
                    run.passages += [p for p in extra.passages if p.chunk_id not in seen][: self.PART_EXTRA]
            run.retrieval_trace = {**retrieval.trace, "parts": parts}
        # A strategy may bound the documents that can tell what it is asked (AnalystRouter: a timeline of a
        # period is told by documents dated since it began, which the topical ranking may bury); optional hook.
        since_hook = getattr(self.strategy, "retrieval_since", None)
        since = since_hook(run.rewritten) if callable(since_hook) else None
        if since is not None:
            with run.timed("retrieve_since"):
                extra = await asyncio.to_thread(
                    self.retriever.retrieve, run.rewritten, top_k=top_k, collection=run.collection,
                    filters=_since(run.filters, since), as_of=run.as_of,
                )
            seen = {p.chunk_id for p in run.passages}
            run.passages += [p for p in extra.passages if p.chunk_id not in seen][: self.PERIOD_EXTRA]
            run.retrieval_trace = {**run.retrieval_trace, "since": since}
        if run.deadline is not None:
            run.deadline += time.monotonic() - retrieval_started
        if turns and run.rewritten != run.question:
            # A follow-up may be answered by what the last answer cited: keep those passages in view.
            seen = {p.chunk_id for p in run.passages}
            run.passages += [p for p in turns[-1].passages if p.chunk_id not in seen]

    def _finish(self, run: _Run, answer: Answer) -> Answer:
        answer.question = run.question
        answer.conversation_id = run.conversation_id
        answer.rewritten_question = run.rewritten if run.rewritten != run.question else None
        run.timings["total"] = round((time.perf_counter() - run.started) * 1000, 1)
        answer.trace = {
            "question": run.question,
            "rewritten_question": run.rewritten,
            "as_of": run.as_of.isoformat() if run.as_of else None,
            "mode": answer.mode,
            "configured_mode": self.mode,
            "refused": answer.refused,
            "fallback_reason": answer.fallback_reason,
            "fallback_kind": answer.fallback_kind,
            "deadline_s": self.settings.question_deadline_s,
            "judge": answer.trace.get("judge"),
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


def _load_on_first_use(*, with_llm: bool, with_history: bool) -> None:
    """Load now what would otherwise load inside the first answer, on the event loop (measured: the tokenizer
    ~0.5 s, the openai client's API modules ~0.7 s, which `AsyncOpenAI.chat` imports on first access). Both are
    process-wide, so only the first engine pays. Loading them in a worker thread instead still stalled the loop
    for 100-200 ms (they hold the GIL in long stretches). An extractive engine without history never counts
    tokens (no model reads its question; no history to trim), so a one-shot `footnote ask` skips the tokenizer:
    0.5 s of its cold start (`python -m bench.cold_start`)."""
    if with_llm or with_history:
        count_tokens("")
    if with_llm:
        import openai.resources.chat  # noqa: F401


def asdict_check(check: Any) -> dict[str, Any]:
    return {k: getattr(check, k) for k in ("sentence", "cited", "supported_by", "action", "reason")}


def _since(filters: RetrievalFilters | None, day: str) -> RetrievalFilters:
    """The question's own filters, narrowed to documents dated on or after `day` (ISO)."""
    if filters is None:
        return RetrievalFilters(date_from=day)
    start = max(filters.date_from, day) if filters.date_from else day
    return RetrievalFilters(sources=filters.sources, date_from=start, date_to=filters.date_to)
