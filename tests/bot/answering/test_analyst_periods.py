"""Timeline periods and items found with the new dev questions of issue 11's sixth round (n01-n06), on the
sample documents' own sections: a range whose first end is a day or month alone ("between 13 and 25 September
2022"), "what happened in 2021", a period starting from an event ("from the opening of the drone base until
..."), the same event told by two documents, and a document's editorial note kept out of the events."""

from __future__ import annotations

import pytest

from bot.answer import Passage
from bot.answering.analyst.dates import When, asked_period
from bot.answering.analyst.evidence import Evidence
from bot.answering.analyst.questions import classify, topic
from bot.answering.analyst.timeline import DatedAnswers, Item, _one_per_event
from bot.answering.extractive import ExtractiveAnswerer
from bot.text.sentences import Span


def section(sections: list[Passage], doc: str, heading: str) -> Passage:
    return next(p for p in sections if p.doc_id.startswith(doc) and p.heading == heading)


@pytest.mark.parametrize(
    ("question", "period"),
    [
        ("What happened between 13 and 25 September 2022, in order?", ("2022-09-13", "2022-09-25")),
        ("What happened between April and May 2022?", ("2022-04", "2022-05")),
        ("What happened between November and February 2023?", ("2022-11", "2023-02")),
        ("What happened from 2 to 9 May 2022?", ("2022-05-02", "2022-05-09")),
        # "from" an event (no date): the next range word still bounds the period.
        ("What happened from the opening of the drone base until the end of 2022?", (None, "2022")),
        ("What happened between Kyrgyzstan and Tajikistan in 2022?", None),
    ],
)
def test_a_range_s_first_end_borrows_from_the_second(question: str, period: tuple[str | None, ...] | None) -> None:
    got = asked_period(question)
    assert (None if got is None else tuple(w.label() if w else None for w in got)) == period


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("What happened in 2021?", "timeline"),
        ("What took place in early April 2022?", "timeline"),
        ("What happened from the opening of the drone base until the end of 2022?", "timeline"),
        ("What happened in Batken?", "default"),
    ],
)
def test_what_happened_in_a_period_is_a_timeline(question: str, kind: str) -> None:
    assert classify(question).kind == kind


def test_the_asked_period_stays_in_the_topic() -> None:
    assert topic("What happened in 2021?") == "2021?"


def test_a_day_range_timeline(answerer: ExtractiveAnswerer, sections: list[Passage]) -> None:
    passages = [
        section(sections, "01-border", "September 2022"),
        section(sections, "04-kyrgyzstan", "Bayraktar TB2 drones from Turkey"),
        section(sections, "06-ceasefire", "The ceasefire"),
        section(sections, "06-ceasefire", ""),  # "*Fictional ...: the dates after 14 September 2022 are invented.*"
        section(sections, "02-kyrgyz", "Figures released by the Kyrgyz side"),
    ]
    items = DatedAnswers(answerer).timeline("What happened between 13 and 25 September 2022?", passages)
    labels = [i.when.label() for i in items]
    # Before: no range (every dated item, 2021-12 and the month-only September items too), the base opening
    # twice (two documents tell it) and the editorial note as a 14 September event.
    assert labels == ["2022-09-13", "2022-09-14", "2022-09-16", "2022-09-25"]
    assert not any("Fictional" in i.evidence.span.text for i in items)


def test_a_period_from_an_event(answerer: ExtractiveAnswerer, sections: list[Passage]) -> None:
    passages = [
        section(sections, "04-kyrgyzstan", "Bayraktar TB2 drones from Turkey"),
        section(sections, "04-kyrgyzstan", "Purchases from Russia"),
        section(sections, "06-ceasefire", "The ceasefire"),
        section(sections, "06-ceasefire", "Talks on the border line"),
    ]
    question = "What happened from the opening of the drone base until the end of 2022?"
    labels = [i.when.label() for i in DatedAnswers(answerer).timeline(question, passages)]
    # Before: from the first dated item (2021-02) to the last (2023-02-14).
    assert labels[0] == "2022-09-13" and labels[-1] == "2022-12"


def _item(doc: str, text: str, when: When, score: float) -> Item:
    p = Passage(chunk_id=doc, text=text, doc_id=doc, title=doc, source=doc)
    return Item(when, Evidence(0, p, Span(0, len(text), text), score))


def test_two_events_of_one_day_are_both_kept() -> None:
    day = When(2022, 9, 16)
    ceasefire = _item("a", "On 16 September 2022 the commanders of the border services agreed a ceasefire.", day, 0.5)
    shelling = _item("b", "On 16 September 2022 shelling hit a school near the border.", day, 0.4)
    retold = _item("c", "The border services' commanders agreed a ceasefire on 16 September 2022.", day, 0.3)
    kept = _one_per_event([ceasefire, shelling, retold])
    assert kept == [ceasefire, shelling]


def test_a_timeline_of_a_period_retrieves_among_the_documents_dated_since_it_began(
    answerer: ExtractiveAnswerer,
) -> None:
    from bot.answering.analyst.dates import period_start
    from bot.answering.analyst.router import AnalystRouter
    from bot.answering.extractive import ExtractiveStrategy

    assert period_start("What happened between December 2022 and March 2023?") == When(2022, 12)
    assert period_start("Give me a timeline of the September 2022 border events.") == When(2022, 9)
    assert period_start("What happened between 13 and 25 September 2022, in order?") == When(2022, 9, 13)
    assert period_start("Before September 2022, what were the milestones? List them by date.") is None
    assert period_start("What happened from the opening of the drone base until the end of 2022?") is None
    router = AnalystRouter(ExtractiveStrategy(answerer), answerer)
    assert router.retrieval_since("What happened between December 2022 and March 2023?") == "2022-12-01"
    assert router.retrieval_since("what happened in 2023") == "2023-01-01"
    assert router.retrieval_since("Give me a timeline of the border talks after the ceasefire.") is None
    assert router.retrieval_since("How many people died in September 2022?") is None  # no timeline
