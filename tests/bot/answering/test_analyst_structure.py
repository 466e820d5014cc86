"""Analyst structure rules on small hand-written passages (real MiniLM embedder): a count cell needs its own
kind of count, a cell's clause names its row, "in order" asks for a timeline, a year in a timeline question
keeps that year, a long timeline keeps its most relevant items, and "latest" within one document is its latest
reported event."""

from __future__ import annotations

import pytest

from bot.answer import Passage
from bot.answering.analyst.compare import TableBuilder
from bot.answering.analyst.evidence import short_span
from bot.answering.analyst.questions import classify
from bot.answering.analyst.timeline import DatedAnswers, DatedSettings
from bot.answering.extractive import ExtractiveAnswerer
from bot.text.sentences import Span
from bot.text.terms import content_terms


def passage(n: int, text: str, title: str, date: str | None = "2022-10-01", heading: str = "") -> Passage:
    return Passage(f"c{n}", text, f"d{n}", title, f"d{n}.md", None, date, heading)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Lay out in order the events of 2022 on the Kyrgyz-Tajik border.", "timeline"),
        ("List the border talks in chronological order.", "timeline"),
        ("What was the order of events after the ceasefire?", "timeline"),
    ],
)
def test_in_order_asks_for_a_timeline(question: str, kind: str) -> None:
    assert classify(question).kind == kind


def test_in_order_to_is_a_purpose_not_a_timeline() -> None:
    assert classify("What did Turkey do in order to sell drones to the region?").kind != "timeline"


def test_a_cell_clause_names_its_row() -> None:
    text = (
        "Turkmenistan was the first republic in the region to buy TB2s, in December 2020; Kyrgyzstan was next, "
        "and Uzbekistan and Kazakhstan are negotiating with Baykar."
    )
    whole = Span(0, len(text), text)
    focus = content_terms("drone deals Kazakhstan")
    assert short_span(whole, focus).text.startswith("Turkmenistan")  # the figure wins without a row
    cell = short_span(whole, focus, must=content_terms("Kazakhstan"))
    assert cell.text == "Kyrgyzstan was next, and Uzbekistan and Kazakhstan are negotiating with Baykar."
    assert text[cell.start : cell.end] == cell.text


def test_a_count_cell_needs_its_own_kind_of_count(answerer: ExtractiveAnswerer) -> None:
    passages = [
        passage(1, "The Tajik government puts the number of people killed on its side at 41.", "Tajikistan's Account"),
        passage(2, "By the Kyrgyz count, 139 further people were wounded.", "Kyrgyzstan's Official Toll"),
        passage(3, "Posts carried pictures said to show wrecked Tajik military hardware.", "Tajikistan's Account"),
    ]
    tables = TableBuilder(answerer)
    rows = ["Kyrgyzstan", "Tajikistan"]
    killed = tables.cell_evidence("number of people killed", "Tajikistan", rows, passages)
    assert killed is not None and "41" in killed.span.text
    assert tables.cell_evidence("wounded", "Tajikistan", rows, passages) is None  # "killed" is no wounded figure
    assert tables.cell_evidence("houses damaged", "Tajikistan", rows, passages) is None  # hardware, not houses
    wounded = tables.cell_evidence("wounded", "Kyrgyzstan", rows, passages)
    assert wounded is not None and "139" in wounded.span.text


def test_latest_within_one_document_is_its_latest_event(answerer: ExtractiveAnswerer) -> None:
    text = (
        "In December 2022 the Kyrgyz and Tajik border commissions met in Batken to resume work on the disputed "
        "sections.\n\nOn 14 February 2023 the commissions agreed on the route of a further 20 kilometres of the "
        "boundary."
    )
    passages = [passage(1, text, "After the Fighting: Ceasefire and Border Talks", "2023-03-01")]
    found = DatedAnswers(answerer).latest("What is the latest progress of the border commissions?", passages)
    assert found is not None
    best, when, _ = found
    assert "20 kilometres" in best.span.text
    assert when is not None and when.label() == "2023-03-01"  # the "as of" date stays the document's


def test_a_year_in_a_timeline_question_keeps_that_year(answerer: ExtractiveAnswerer) -> None:
    passages = [
        passage(1, "In December 2021 Kyrgyzstan took delivery of drones for the border guard.", "Border arms"),
        passage(2, "In April 2022 a deadly episode took place on the border.", "Border clashes"),
        passage(3, "On 14 September 2022 fighting flared up again along the border.", "Border clashes"),
        passage(4, "On 14 February 2023 the border commissions agreed a further stretch.", "Border talks"),
    ]
    items = DatedAnswers(answerer).timeline("Lay out in order the events of 2022 on the border.", passages)
    assert [i.when.label() for i in items] == ["2022-04", "2022-09-14"]


def test_a_timeline_of_a_month_lists_its_dated_days_not_mentions_of_the_month(answerer: ExtractiveAnswerer) -> None:
    passages = [
        passage(1, "On 13 September 2022 a new drone base opened near the border.", "Border arms"),
        passage(2, "On 14 September 2022 fighting flared up again along the border.", "Border clashes"),
        passage(3, "The border weakness became visible after the September 2022 flare-up.", "Border analysis"),
        passage(4, "On 16 September 2022 the border services agreed a ceasefire.", "Border clashes"),
    ]
    items = DatedAnswers(answerer).timeline("Give me a timeline of the September 2022 border events.", passages)
    assert [i.when.label() for i in items] == ["2022-09-13", "2022-09-14", "2022-09-16"]


def test_a_row_named_in_a_later_clause_owns_that_clause(answerer: ExtractiveAnswerer) -> None:
    text = (
        "Turkmenistan was the first republic in the region to buy TB2s, in December 2020; Kyrgyzstan was next, "
        "and Uzbekistan and Kazakhstan are negotiating with Baykar."
    )
    passages = [passage(1, text, "A regional sales drive")]
    tables = TableBuilder(answerer)
    rows = ["Turkmenistan", "Kyrgyzstan"]
    first = tables.cell_evidence("buying TB2s", "Turkmenistan", rows, passages)
    later = tables.cell_evidence("buying TB2s", "Kyrgyzstan", rows, passages)
    assert first is not None and later is not None  # before: the sentence was Turkmenistan's alone


def test_latest_comes_from_a_passage_naming_what_is_asked(answerer: ExtractiveAnswerer) -> None:
    passages = [
        passage(1, "Turkish armed drones are selling across the region.", "Drone exports", "2022-10-03"),
        passage(2, "Uzbekistan is negotiating with Baykar over Turkish drones.", "Drone talks", "2022-10-01"),
    ]
    found = DatedAnswers(answerer).latest("What is the latest on Uzbekistan and Turkish drones?", passages)
    assert found is not None and "Uzbekistan" in found[0].span.text


def test_a_timeline_item_that_is_a_lead_in_keeps_its_list(answerer: ExtractiveAnswerer) -> None:
    passages = [
        passage(1, "In February 2021 Kyrgyzstan signed a deal with Russia covering two kinds of equipment:\n\n"
                   "- S-300 air defence systems, and\n- Orlan-10 drones.\n\n## Later\n\nIt paid in cash.", "Arms"),
        passage(2, "In December 2021 Kyrgyzstan took delivery of Bayraktar drones for the border.", "Drones"),
    ]
    items = DatedAnswers(answerer).timeline("Give a timeline of Kyrgyzstan's arms deals.", passages)
    first = next(i for i in items if i.when.label() == "2021-02")
    assert first.evidence.span.text.endswith("Orlan-10 drones.")  # the lead-in with both items, not cut at ":"
    assert "Later" not in first.evidence.span.text


TALKS = "Ceasefire and Talks"


def test_a_long_timeline_keeps_its_most_relevant_items_in_date_order(answerer: ExtractiveAnswerer) -> None:
    passages = [
        passage(1, "In March 2022 a border guard remarked on the weather at the Batken post.", "Border Diary"),
        passage(2, "On 16 September 2022 the two border services agreed a ceasefire.", TALKS),
        passage(3, "On 25 September 2022 the governments signed a protocol on the ceasefire line.", TALKS),
        passage(4, "In December 2022 the border commissions met to continue the ceasefire talks.", TALKS),
    ]
    question = "Give me a timeline of the ceasefire and the border talks."
    everything = DatedAnswers(answerer, DatedSettings(max_items=4)).timeline(question, passages)
    assert everything[0].when.label() == "2022-03"  # the weather remark is dated and scores, least
    items = DatedAnswers(answerer, DatedSettings(max_items=3)).timeline(question, passages)
    # Before: the three oldest, so the December talks were cut and the weather remark kept.
    assert [i.when.label() for i in items] == ["2022-09-16", "2022-09-25", "2022-12"]
