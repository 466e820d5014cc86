"""Analyst answers over examples/corpus + examples/analyst with the real MiniLM embedder: routing, comparison
tables, conflicting sources, latest / timeline, attribution, JSON and Markdown export, LLM cells verified."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml

from bot.answer import Answer, AnswerEvent, Citation, FinalAnswer, Passage
from bot.answering.analyst.compare import NOT_STATED
from bot.answering.analyst.dates import UNDATED, When, as_of, stated_date
from bot.answering.analyst.questions import classify
from bot.answering.analyst.router import AnalystRouter
from bot.answering.base import AnswerRequest
from bot.answering.extractive import ExtractiveAnswerer, ExtractiveStrategy
from bot.answering.markdown_export import to_markdown
from bot.llm import LLMClient
from bot.text.embedder import SentenceEmbedder
from index.settings import Settings
from tests.bot.conftest import MemoryRetriever
from tests.fakes.openai_server import FakeOpenAI, Reply

ROOT = Path(__file__).resolve().parents[3]
FOLDERS = (ROOT / "examples" / "corpus", ROOT / "examples" / "analyst")


def load_sections() -> list[Passage]:
    """One passage per "## " section of every sample document, with its front-matter title, url and date."""
    out = []
    for path in sorted(p for folder in FOLDERS for p in folder.glob("*.md")):
        _, front, body = path.read_text(encoding="utf-8").split("---", 2)
        meta = yaml.safe_load(front)
        date = meta.get("date")
        for i, section in enumerate(re.split(r"\n## ", body)):
            heading, _, text = section.partition("\n")
            if len(text.strip()) < 40:
                continue
            out.append(
                Passage(
                    chunk_id=f"{path.stem}-{i}",
                    text=text.strip(),
                    doc_id=path.stem,
                    title=meta["title"],
                    source=path.name,
                    url=meta.get("url"),
                    date=date.isoformat() if date else None,
                    heading=heading.strip(),
                )
            )
    return out


@pytest.fixture(scope="module")
def router(answerer: ExtractiveAnswerer) -> AnalystRouter:
    return AnalystRouter(ExtractiveStrategy(answerer), answerer)


def ask(router: AnalystRouter, embed: SentenceEmbedder, sections: list[Passage], question: str) -> Answer:
    passages = MemoryRetriever(embed, sections).retrieve(question, top_k=6).passages
    events = asyncio.run(_collect(router, AnswerRequest(question, passages)))
    assert isinstance(events[-1], FinalAnswer)
    return events[-1].answer


async def _collect(router: AnalystRouter, request: AnswerRequest) -> list[AnswerEvent]:
    return [e async for e in router.run(request)]


def assert_quoted(answer: Answer) -> None:
    """Every footnote quotes its passage verbatim."""
    assert answer.citations
    for c in answer.citations:
        assert c.quote in c.context


# --- routing --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Compare Kyrgyzstan and Tajikistan on deaths and wounded.", "compare"),
        ("How do the Kyrgyz and Tajik accounts differ?", "compare"),
        ("Give me a timeline of the September 2022 border events.", "timeline"),
        ("What is the latest official Kyrgyz death toll?", "latest"),
        ("What does Kerim Has say about Russia?", "attribution"),
        ("How many people were killed in total?", "conflict"),
        ("Did Tajikistan receive Bayraktar drones?", "conflict"),
        ("What was Kyrgyzstan's death toll?", "conflict"),
        ("Why did Turkey sell drones to Kyrgyzstan?", "default"),
    ],
)
def test_classify(question: str, kind: str) -> None:
    assert classify(question).kind == kind


def test_comparison_parts() -> None:
    aq = classify("Compare Kyrgyzstan and Tajikistan on the number of people killed and wounded.")
    assert aq.entities == ("Kyrgyzstan", "Tajikistan")
    assert aq.facets == ("number of people killed", "wounded")


class Recording:
    """A wrapped strategy that records what it was asked and answers with a fixed Answer."""

    mode = "extractive"
    streams = False

    def __init__(self) -> None:
        self.requests: list[AnswerRequest] = []
        self.answer = Answer(question="q", text="plain [1].", citations=[], mode="extractive")

    async def run(self, request: AnswerRequest) -> AsyncIterator[AnswerEvent]:
        self.requests.append(request)
        yield FinalAnswer(self.answer)


def test_default_questions_go_to_the_wrapped_strategy_untouched(
    answerer: ExtractiveAnswerer, sections: list[Passage]
) -> None:
    wrapped = Recording()
    router = AnalystRouter(wrapped, answerer)
    request = AnswerRequest("Why did Turkey sell drones to Kyrgyzstan?", sections[:4])
    events = asyncio.run(_collect(router, request))
    assert wrapped.requests == [request]
    assert len(events) == 1 and isinstance(events[0], FinalAnswer)
    assert events[0].answer is wrapped.answer
    assert events[0].answer.text == "plain [1]." and events[0].answer.table is None


def test_no_conflict_goes_to_the_wrapped_strategy(
    router: AnalystRouter, embed: SentenceEmbedder, sections: list[Passage]
) -> None:
    a = ask(router, embed, sections, "How many houses were damaged according to Kyrgyzstan?")
    assert not a.conflicts and "Sources disagree" not in a.text
    assert "613" in a.text


# --- comparison tables ------------------------------------------------------------------------------------


def test_comparison_table_cites_every_cell_and_says_not_stated(
    router: AnalystRouter, embed: SentenceEmbedder, sections: list[Passage]
) -> None:
    a = ask(router, embed, sections, "How do the Kyrgyz and Tajik accounts differ on deaths and wounded?")
    assert a.table is not None
    assert a.table.columns == ["deaths", "wounded"]
    rows = {r.label: r.cells for r in a.table.rows}
    assert set(rows) == {"Kyrgyz", "Tajik"}
    assert re.search(r"\b(59|63)\b", rows["Kyrgyz"][0].text)
    assert "139" in rows["Kyrgyz"][1].text
    assert "41" in rows["Tajik"][0].text
    assert rows["Tajik"][1].text == NOT_STATED and rows["Tajik"][1].citations == []
    by_n = {c.n: c for c in a.citations}
    for cells in rows.values():
        for cell in cells:
            if cell.text != NOT_STATED:
                assert len(cell.citations) == 1
                assert cell.text in by_n[cell.citations[0]].quote
    assert_quoted(a)
    assert "| Tajik |" in a.text and NOT_STATED in a.text
    shape = a.to_json()["table"]
    assert shape["columns"] == ["deaths", "wounded"]
    assert set(shape["rows"][0]["cells"][0]) == {"text", "citations"}


# --- conflicting sources ----------------------------------------------------------------------------------


def test_conflicting_totals_are_flagged_with_who_when_and_where(
    router: AnalystRouter, embed: SentenceEmbedder, sections: list[Passage]
) -> None:
    a = ask(router, embed, sections, "How many people were killed in total in the September 2022 clashes?")
    assert a.text.startswith("Sources disagree:")
    (conflict,) = a.conflicts
    texts = " ".join(v.text for v in conflict.versions)
    assert "81" in texts and "100" in texts
    for v in conflict.versions:
        assert v.citations and v.date and v.stated_by
        assert f"as of {v.date}" in a.text
    assert any(v.stated_by == "Border Watch" for v in conflict.versions)
    assert_quoted(a)
    assert a.to_json()["conflicts"][0]["versions"][0]["citations"]


def test_an_explicit_denial_is_flagged(router: AnalystRouter, embed: SentenceEmbedder, sections: list[Passage]) -> None:
    a = ask(router, embed, sections, "Did Tajikistan receive Bayraktar drones from Turkey?")
    assert a.conflicts
    texts = [v.text for v in a.conflicts[0].versions]
    assert any("denied" in t or "not concluded" in t for t in texts)
    assert any("received" in t or "accurate" in t for t in texts)


def test_two_parties_figures_are_not_a_conflict(
    router: AnalystRouter, embed: SentenceEmbedder, sections: list[Passage]
) -> None:
    # Tajikistan's 41 and Kyrgyzstan's 59 count different people: asking about the Tajik toll is no conflict.
    a = ask(router, embed, sections, "How many Tajik people were killed in the clashes?")
    assert not a.conflicts
    assert "41" in a.text


# --- dates ----------------------------------------------------------------------------------------------


def test_stated_dates() -> None:
    assert stated_date("On 10 February 2023 a spokesperson denied it.") == When(2023, 2, 10)
    assert stated_date("13 September: the base opened.", 2022) == When(2022, 9, 13)
    assert stated_date("13 September: the base opened.") is None  # no year known: never guessed
    assert stated_date("bought them in 2021 and took delivery in December 2021") == When(2021, 12)
    assert stated_date("In early April 2022, the minister travelled.") == When(2022, 4)


def test_undated_documents_are_marked_undated(sections: list[Passage]) -> None:
    undated = [p for p in sections if p.doc_id == "05-undated-briefing-note"]
    assert undated and all(as_of(p) == UNDATED for p in undated)


def test_latest_prefers_the_newest_document_and_says_its_date(
    router: AnalystRouter, embed: SentenceEmbedder, sections: list[Passage]
) -> None:
    a = ask(router, embed, sections, "What is the latest official Kyrgyz death toll?")
    assert "63" in a.citations[0].quote
    assert a.citations[0].date == "2022-12-20"
    assert "as of 2022-12-20" in a.text.splitlines()[0]
    assert_quoted(a)


def test_timeline_is_dated_ordered_and_cited(
    router: AnalystRouter, embed: SentenceEmbedder, sections: list[Passage]
) -> None:
    a = ask(router, embed, sections, "Give me a timeline of the September 2022 border events.")
    items = [line for line in a.text.splitlines() if line.startswith("- ")]
    dates = [line[2:].split(":")[0] for line in items]
    assert len(items) >= 3 and dates == sorted(dates)
    assert "2022-09-16" in dates and "2022-09-25" in dates
    assert all(re.search(r"\[\d+\]", line) for line in items)
    assert_quoted(a)


# --- attribution ------------------------------------------------------------------------------------------


def test_attribution_names_who_says_it(router: AnalystRouter, embed: SentenceEmbedder, sections: list[Passage]) -> None:
    a = ask(router, embed, sections, "Who warned that Tajikistan might buy drones from Iran?")
    line = next(line for line in a.text.splitlines() if "Iran" in line)
    assert line.startswith("According to Kerim Has")
    assert_quoted(a)


# --- export -------------------------------------------------------------------------------------------------


def test_markdown_export_has_footnotes_dates_and_full_quotes(
    router: AnalystRouter, embed: SentenceEmbedder, sections: list[Passage]
) -> None:
    a = ask(router, embed, sections, "Compare Kyrgyzstan and Tajikistan on the number of people killed.")
    md = to_markdown(a)
    assert md.startswith("# Compare Kyrgyzstan and Tajikistan")
    assert "| Kyrgyzstan |" in md and "[^1]" in md
    for c in a.citations:
        assert f"[^{c.n}]: **{c.title}** (as of {c.date})" in md
        assert "    > " + c.quote.splitlines()[0] in md
    assert not re.search(r"\[\d+\]", md.split("## Sources")[0])  # every marker became a footnote


def test_markdown_export_marks_undated_and_strips_control_characters() -> None:
    cite = Citation(
        1, "Note\x1b[31m", "note.md", "Kazakhstan agreed\u202e to it.", "c1", "Kazakhstan agreed\u202e to it."
    )
    a = Answer(question="Q?", text="Kazakhstan agreed to it [1].", citations=[cite], mode="extractive")
    md = to_markdown(a)
    assert "(undated)" in md and "\x1b" not in md and "\u202e" not in md
    assert "Kazakhstan agreed to it [^1]." in md


# --- with an LLM: generated cells, each verified ------------------------------------------------------------


def test_llm_cells_are_verified_and_unsupported_ones_become_not_stated(
    answerer: ExtractiveAnswerer, embed: SentenceEmbedder, sections: list[Passage], llm_settings: Settings,
    fake_llm: FakeOpenAI,
) -> None:  # fmt: skip
    question = "Compare Kyrgyzstan and Tajikistan on the number of people killed."
    passages = MemoryRetriever(embed, sections).retrieve(question, top_k=6).passages
    tajik = next(i + 1 for i, p in enumerate(passages) if "at 41" in p.text)
    fake_llm.script(
        Reply(
            "Kyrgyzstan | number of people killed | 5,000 soldiers were killed in Bishkek [1]\n"
            "Tajikistan | number of people killed | "
            f"The Tajik government puts the number of people killed at 41 [{tajik}]"
        )
    )
    router = AnalystRouter(ExtractiveStrategy(answerer), answerer, llm=LLMClient(llm_settings))
    a = asyncio.run(_collect(router, AnswerRequest(question, passages)))[-1].answer  # type: ignore[union-attr]
    assert a.mode == "llm" and a.table is not None
    cells = {r.label: r.cells[0] for r in a.table.rows}
    assert cells["Kyrgyzstan"].text == NOT_STATED  # invented figure: not supported, not shown
    assert "41" in cells["Tajikistan"].text and cells["Tajikistan"].citations
    assert any("5,000" in r for r in a.removed)
    assert_quoted(a)
