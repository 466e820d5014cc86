"""The data the read path produces. Plain dataclasses: no discord, no llama-index, easy to render and to test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Literal, Protocol

AnswerMode = Literal["extractive", "llm", "fallback"]
FallbackKind = Literal["llm_error", "deadline", "unverified"]


@dataclass(frozen=True)
class Passage:
    """One retrieved chunk, as the answerers see it."""

    chunk_id: str
    text: str
    doc_id: str
    title: str
    source: str
    url: str | None = None
    date: str | None = None
    heading: str | None = None  # heading path of the section, "Part > Section"
    score: float = 0.0  # fused score (higher is better)
    scores: dict[str, float] = field(default_factory=dict)  # per retriever: {"vector": .., "bm25": ..}


@dataclass(frozen=True)
class Citation:
    """Footnote [n]: `quote` is an exact span of the passage `context` that supports the cited sentence."""

    n: int
    title: str
    source: str
    quote: str
    chunk_id: str
    context: str
    url: str | None = None
    date: str | None = None


@dataclass(frozen=True)
class SentenceCheck:
    """What citation verification found for one answer sentence."""

    sentence: str
    cited: list[int]  # passage numbers as the generator wrote them
    supported_by: list[int]  # passage numbers that verification accepts (after re-pointing)
    action: Literal["kept", "repointed", "dropped", "uncited"]
    reason: str = ""
    lexical: float = 0.0
    semantic: float = 0.0


@dataclass
class TableCell:
    """One cell of a comparison table: a short span with its own footnotes, or "not stated" and none."""

    text: str
    citations: list[int] = field(default_factory=list)


@dataclass
class TableRow:
    label: str  # the entity or source the row is about
    cells: list[TableCell]  # one per column


@dataclass
class Table:
    columns: list[str]
    rows: list[TableRow]

    def to_json(self) -> dict[str, Any]:
        return {
            "columns": list(self.columns),
            "rows": [
                {"label": r.label, "cells": [{"text": c.text, "citations": list(c.citations)} for c in r.cells]}
                for r in self.rows
            ],
        }


@dataclass
class ConflictVersion:
    """One side of a disagreement: what is stated, by whom, as of when, and where."""

    text: str
    stated_by: str
    date: str | None  # ISO date of the statement or its document; None: undated
    citations: list[int]


@dataclass
class Conflict:
    about: str  # the measured thing or claim the sources disagree on
    versions: list[ConflictVersion]


@dataclass
class Answer:
    question: str
    text: str  # with inline [n] markers that refer to `citations`
    citations: list[Citation]
    mode: AnswerMode
    refused: bool = False
    fallback_reason: str | None = None  # why the LLM answer was replaced by the extractive one
    # What happened, for frontends to label it: the LLM failed, ran out of the question's time, or answered
    # but no sentence survived verification. None unless mode == "fallback".
    fallback_kind: FallbackKind | None = None
    nearest_sources: list[Citation] = field(default_factory=list)  # shown with refusals
    checks: list[SentenceCheck] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # sentences dropped by verification
    rewritten_question: str | None = None
    conversation_id: str | None = None
    trace: dict[str, Any] = field(default_factory=dict)
    table: Table | None = None  # analyst comparisons (bot.answering.analyst)
    conflicts: list[Conflict] = field(default_factory=list)  # sources that disagree

    def to_json(self) -> dict[str, Any]:
        """The `footnote ask --json` shape."""
        return {
            "answer": self.text,
            "refused": self.refused,
            "mode": self.mode,
            "fallback_reason": self.fallback_reason,
            "fallback_kind": self.fallback_kind,
            "citations": [
                {"n": c.n, "title": c.title, "source": c.source, "url": c.url, "date": c.date, "quote": c.quote}
                for c in self.citations
            ],
            "nearest_sources": [{"title": c.title, "source": c.source} for c in self.nearest_sources],
            "removed": self.removed,
            "checks": [asdict(c) for c in self.checks],
            "rewritten_question": self.rewritten_question,
            "trace": self.trace,
            "table": self.table.to_json() if self.table else None,
            "conflicts": [asdict(c) for c in self.conflicts],
        }


@dataclass(frozen=True)
class TextDelta:
    """A streamed piece of LLM text (not yet verified)."""

    text: str


@dataclass(frozen=True)
class FinalAnswer:
    """The last event of a stream: the verified answer that replaces the streamed text."""

    answer: Answer


AnswerEvent = TextDelta | FinalAnswer


@dataclass(frozen=True)
class RetrievalFilters:
    """Optional metadata filters, enforced at retrieval. Dates are ISO strings (YYYY-MM-DD)."""

    sources: tuple[str, ...] = ()  # keep only chunks whose `source` is one of these
    date_from: str | None = None
    date_to: str | None = None


@dataclass
class Retrieval:
    """What a retriever returns: passages best first (fused), and a JSON-able trace of how it got them."""

    passages: list[Passage]
    trace: dict[str, Any] = field(default_factory=dict)


class Retriever(Protocol):
    """The read path's view of the index (implemented by `bot.retrieval.HybridRetriever`)."""

    def retrieve(
        self,
        query: str,
        *,
        top_k: int,
        collection: str | None = None,
        filters: RetrievalFilters | None = None,
        as_of: date | None = None,  # serve nothing dated after it; prefer what is dated shortly before it
    ) -> Retrieval: ...


class AnswerService(Protocol):
    """What a frontend (CLI, Discord) needs from the engine (implemented by `bot.engine.Engine`)."""

    @property
    def streams(self) -> bool:
        """True when answers come from an LLM and `astream` yields text progressively."""
        ...

    async def aask(
        self, question: str, *, conversation_id: str | None = None, collection: str | None = None,
        as_of: date | None = None,
    ) -> Answer: ...

    def astream(
        self, question: str, *, conversation_id: str | None = None, collection: str | None = None,
        as_of: date | None = None,
    ) -> AsyncIterator[AnswerEvent]:
        """Yields TextDelta events (LLM mode) and always ends with exactly one FinalAnswer."""
        ...
