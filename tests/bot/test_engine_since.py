"""A strategy's `retrieval_since` hook: the engine also retrieves among the documents dated since the day it
names, within the question's own filters, and adds a few of those passages (AnalystRouter: a timeline of a
period, whose later documents the topical ranking buries under older ones)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

from bot.answer import Answer, AnswerEvent, FinalAnswer, Passage, Retrieval, RetrievalFilters
from bot.answering.base import AnswerRequest
from bot.engine import Engine, _since
from index.settings import Settings


def _p(n: int, day: str) -> Passage:
    return Passage(f"c{n}", f"Text {n}.", f"d{n}", f"Doc {n}", f"d{n}.md", None, day)


class _Dated:
    """Passages best first regardless of the query; the date filter honoured; every call recorded."""

    def __init__(self, passages: list[Passage]) -> None:
        self.passages = passages
        self.calls: list[RetrievalFilters | None] = []

    def retrieve(
        self, query: str, *, top_k: int, collection: str | None = None, filters: RetrievalFilters | None = None,
        as_of: date | None = None,
    ) -> Retrieval:
        self.calls.append(filters)
        since = filters.date_from if filters is not None else None
        return Retrieval([p for p in self.passages if since is None or (p.date or "") >= since][:top_k])


class _Since:
    """A strategy that names a day for every question and answers with the passages it was given."""

    mode = "extractive"
    streams = False

    def __init__(self, day: str | None) -> None:
        self.day = day
        self.seen: list[str] = []

    def retrieval_since(self, question: str) -> str | None:
        return self.day

    async def run(self, request: AnswerRequest) -> AsyncIterator[AnswerEvent]:
        self.seen = [p.chunk_id for p in request.passages]
        yield FinalAnswer(Answer(question=request.question, text="ok", citations=[], mode="extractive"))


def test_the_engine_adds_passages_dated_since_the_strategys_day(tmp_path: object) -> None:
    settings = Settings(_env_file=None, data_dir=f"{tmp_path}/data", answer_mode="extractive", top_k=2)  # type: ignore[call-arg]
    old = [_p(i, "2022-09-2" + str(i)) for i in range(1, 6)]
    new = [_p(6, "2022-12-20"), _p(7, "2023-02-10")]
    retriever = _Dated(old + new)
    strategy = _Since("2022-12-01")
    answer = Engine(settings, retriever, strategy).ask("What happened between December 2022 and March 2023?")
    assert strategy.seen == ["c1", "c2", "c6", "c7"]  # before: c1 and c2 only
    assert retriever.calls[-1] == RetrievalFilters(date_from="2022-12-01")
    assert answer.trace["retrieval"]["since"] == "2022-12-01"
    strategy = _Since(None)
    Engine(settings, retriever, strategy).ask("What happened?")
    assert strategy.seen == ["c1", "c2"]


def test_since_keeps_the_questions_own_filters_and_the_later_start() -> None:
    assert _since(None, "2022-12-01") == RetrievalFilters(date_from="2022-12-01")
    mine = RetrievalFilters(sources=("a.md",), date_from="2023-01-01", date_to="2023-03-01")
    assert _since(mine, "2022-12-01") == mine
    earlier = RetrievalFilters(date_from="2022-01-01")
    assert _since(earlier, "2022-12-01") == RetrievalFilters(date_from="2022-12-01")
