"""The answer-strategy protocol and what every strategy shares: the refusal and the citation builder.

A strategy turns (question, retrieved passages) into answer events: zero or more `TextDelta`s while it
streams, then exactly one `FinalAnswer`. The engine picks one strategy at the composition root and knows
nothing about how it answers; a new way of answering is one new class.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from bot.answer import Answer, AnswerEvent, AnswerMode, Citation, Passage
from bot.text.sentences import split_sentences

REFUSAL_TEXT = "The documents I have don't answer this question."


@dataclass
class AnswerRequest:
    """One question as a strategy sees it: already standalone (follow-ups rewritten) and retrieved for."""

    question: str  # the standalone question the passages were retrieved for
    passages: list[Passage]
    stream: bool = False
    deadline: float | None = None  # time.monotonic() by which the strategy must have answered
    timings: dict[str, float] = field(default_factory=dict)  # ms per stage, filled in by the strategy
    tokens: dict[str, int] = field(default_factory=dict)
    as_of: date | None = None  # the day the question is asked as of ("latest", "this week" are relative to it)

    def remaining(self) -> float | None:
        """Seconds left before the deadline (None: no deadline)."""
        return None if self.deadline is None else max(0.0, self.deadline - time.monotonic())


class AnswerStrategy(Protocol):
    """How an answer is made from passages (implemented by `ExtractiveStrategy`, `LLMStrategy`)."""

    @property
    def mode(self) -> str:
        """"extractive" or "llm": what the configured strategy is, for traces and frontends."""
        ...

    @property
    def streams(self) -> bool:
        """True when `run` yields TextDelta events before the final answer."""
        ...

    def run(self, request: AnswerRequest) -> AsyncIterator[AnswerEvent]:
        """Yields TextDelta events (streaming strategies) and always ends with exactly one FinalAnswer."""
        ...


def make_citation(n: int, passage: Passage, quote: str) -> Citation:
    return Citation(
        n=n,
        title=passage.title,
        source=passage.source,
        quote=quote,
        chunk_id=passage.chunk_id,
        context=passage.text,
        url=passage.url,
        date=passage.date,
    )


def refusal(question: str, passages: list[Passage], *, mode: AnswerMode = "extractive", reason: str = "") -> Answer:
    """The honest "not in the documents" answer, with the closest sources so the reader can look."""
    nearest = []
    for i, p in enumerate(passages[:3]):
        spans = split_sentences(p.text)
        nearest.append(make_citation(i + 1, p, spans[0].text if spans else p.text.strip()))
    trace: dict[str, Any] = {"refusal_reason": reason} if reason else {}
    return Answer(
        question=question,
        text=REFUSAL_TEXT,
        citations=[],
        mode=mode,
        refused=True,
        nearest_sources=nearest,
        trace=trace,
    )
