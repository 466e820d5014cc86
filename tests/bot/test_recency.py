"""bot.recency (as-of dates, "is this question about now?") and the engine passing an as-of date through."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.answer import Passage, Retrieval, RetrievalFilters
from bot.recency import as_of_option, day_number, days_before, is_time_sensitive, parse_as_of
from bot.text.embedder import SentenceEmbedder
from bot.wiring import assemble_engine
from index.errors import QuestionError
from index.settings import Settings


@pytest.mark.parametrize("question", [
    "Which federal personnel were sent to major US airports this week?",
    "What is the latest on the Corpus Christi water shortage?",
    "Who is currently leading the league?",
    "What happened last week in Congress?",
    "What did the company report today?",
    "Which recent study found microplastics in clouds?",
])
def test_questions_about_now(question: str) -> None:
    assert is_time_sensitive(question)


@pytest.mark.parametrize("question", [
    "Which city in Texas is running out of water?",
    "How many people did Tajikistan say died?",
    "Who makes the TB2?",
    "What is the weekly limit?",  # "week" inside a word is no time cue
    "Which weekend event was cancelled in 2019?",
])
def test_questions_not_tied_to_now(question: str) -> None:
    assert not is_time_sensitive(question)


def test_parse_as_of_forms() -> None:
    assert parse_as_of("2026-04-10") == date(2026, 4, 10)
    assert parse_as_of("2026/04/10") == date(2026, 4, 10)
    assert parse_as_of("2026-04-10T23:30:00+00:00") == date(2026, 4, 10)
    assert parse_as_of(datetime(2026, 4, 10, 23, 59, tzinfo=UTC)) == date(2026, 4, 10)
    assert parse_as_of(date(2026, 4, 10)) == date(2026, 4, 10)
    assert parse_as_of(None) is None


@pytest.mark.parametrize("bad", ["last tuesday", "10/04/2026", "2026-13-01", ""])
def test_parse_as_of_refuses_non_dates_clearly(bad: str) -> None:
    with pytest.raises(QuestionError, match="YYYY-MM-DD"):
        parse_as_of(bad)


def test_as_of_option_takes_the_cli_date_forms() -> None:
    assert as_of_option(None) is None
    assert as_of_option("2026-04") == date(2026, 4, 30)  # a month: as of its last day
    assert as_of_option("2026/04/10") == date(2026, 4, 10)
    with pytest.raises(QuestionError, match="--as-of"):
        as_of_option("next blue moon")


def test_days_before() -> None:
    as_of = date(2026, 4, 10)
    assert days_before(as_of, day_number(date(2026, 4, 3))) == 7
    assert days_before(as_of, day_number(date(2026, 4, 12))) == -2
    assert days_before(as_of, 0) is None  # undated
    assert days_before(as_of, 20261399) is None  # not a real day


class RecordingRetriever:
    """The Retriever protocol, remembering the as-of date of every call."""

    def __init__(self, passages: list[Passage]) -> None:
        self.passages = passages
        self.as_of: list[date | None] = []

    def retrieve(self, query: str, *, top_k: int, collection: str | None = None,
                 filters: RetrievalFilters | None = None, as_of: date | None = None) -> Retrieval:
        self.as_of.append(as_of)
        return Retrieval(self.passages[:top_k], {})


def test_engine_passes_the_as_of_date_to_retrieval_and_trace(
    offline_settings: Settings, embed: SentenceEmbedder, passages: list[Passage],
) -> None:
    retriever = RecordingRetriever(passages)
    engine = assemble_engine(offline_settings, retriever, embed)
    answer: Any = engine.ask("How many people did Tajikistan say died?", as_of="2022/09/30")
    assert retriever.as_of and set(retriever.as_of) == {date(2022, 9, 30)}
    assert answer.trace["as_of"] == "2022-09-30"
    engine.ask("How many people did Tajikistan say died?")
    assert retriever.as_of[-1] is None
    with pytest.raises(QuestionError):
        engine.ask("How many people did Tajikistan say died?", as_of="soon")


def test_footnote_ask_as_of_refuses_a_non_date_before_loading_anything(
    offline_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    from bot import cli

    monkeypatch.setenv("FOOTNOTE_DATA_DIR", str(offline_settings.data_dir))  # no index there: must not matter
    assert cli.main(["ask", "--as-of", "next blue moon", "What changed this week?"]) == 2
    err = capsys.readouterr().err
    assert "--as-of" in err and "YYYY-MM-DD" in err


def test_footnote_ask_as_of_reaches_the_trace(
    settings: Settings, embedder: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    from bot import cli
    from index.ingest import Ingestor

    docs = tmp_path / "news"
    docs.mkdir()
    (docs / "a.md").write_text("---\ntitle: Water\ndate: 2026-03-20\n---\nCorpus Christi declared a water emergency.\n")
    (docs / "b.md").write_text("---\ntitle: Later\ndate: 2026-04-20\n---\nCorpus Christi began water rationing.\n")
    Ingestor(settings, embedder).run([docs])
    monkeypatch.setenv("FOOTNOTE_DATA_DIR", str(settings.data_dir))
    assert cli.main(["ask", "--json", "--as-of", "2026-03-26", "What did Corpus Christi do about water?"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["trace"]["as_of"] == "2026-03-26"
    assert "Later" not in {c["title"] for c in out["citations"]}  # dated after the as-of day
