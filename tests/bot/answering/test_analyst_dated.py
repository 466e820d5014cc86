"""Timeline fixes found on the seventh round's dev questions (n21-n40), on the sample documents' own sections:
requests for dates worded without "timeline" ("List them by date", "with dates", "a dated rundown", "over
time", "milestones"), and the date of a sentence that only names a dated event ("the September 2022
fighting")."""

from __future__ import annotations

import pytest

from bot.answer import Passage
from bot.answering.analyst.dates import When, asked_period, in_period, reported_date
from bot.answering.analyst.evidence import Evidence, sentences
from bot.answering.analyst.questions import classify
from bot.answering.analyst.timeline import DatedAnswers, Item, _one_per_event, most_relevant
from bot.answering.extractive import ExtractiveAnswerer
from bot.text.sentences import split_sentences


def section(sections: list[Passage], heading: str) -> Passage:
    return next(p for p in sections if p.heading == heading)


@pytest.mark.parametrize(
    "question",
    [
        "How have the death toll figures shifted over time? Give the dates.",
        "What were the main milestones in the region's arms deals? List them by date.",
        "Trace events from the opening of the drone base to the ceasefire, with dates.",
        "Can you give me a dated rundown of how officials reacted?",
        "What were the key milestones of the border talks?",
    ],
)
def test_asking_for_dates_is_a_timeline(question: str) -> None:
    assert classify(question).kind == "timeline"


@pytest.mark.parametrize("question", ["Why does the base matter?", "Who dated the report?", "Is it out of date?"])
def test_other_questions_are_no_timeline(question: str) -> None:
    assert classify(question).kind != "timeline"


def _sentence(p: Passage, starts: str) -> str:
    return next(s.text for s in split_sentences(p.text) if s.text.startswith(starts))


def test_a_named_dated_event_is_not_the_date_of_the_report(sections: list[Passage]) -> None:
    # Before: dated 2022-09, the month of the fighting, so the revision came before Border Watch's count.
    revised = section(sections, "A higher official figure")
    sentence = _sentence(revised, "Kyrgyzstan's Health Ministry now puts")
    assert reported_date(sentence, revised) == When(2022, 12, 20)
    # A date the sentence states as its own stays its date; a yearless day takes the heading's year.
    ceasefire = section(sections, "The ceasefire")
    assert reported_date(_sentence(ceasefire, "On 16 September 2022"), ceasefire) == When(2022, 9, 16)
    sept = section(sections, "September 2022")
    assert reported_date("14 September: fighting flared up once more.", sept) == When(2022, 9, 14)
    # "After the deadly border fighting of April 2022, ...": no "the <date> <event>", the date is its own.
    complaints = section(sections, "Kyrgyz complaints to Ankara")
    assert reported_date(_sentence(complaints, "After the deadly"), complaints) == When(2022, 4)


def test_a_sentence_without_a_date_takes_its_section_heading_s_month(sections: list[Passage]) -> None:
    sides = section(sections, "Taking sides in September 2022")
    assert reported_date(_sentence(sides, "The OTS secretary-general"), sides) == When(2022, 9)
    # No date anywhere: no timeline item (a document's date is not when an undated claim happened).
    members = section(sections, "Why Tajikistan is outside")
    assert reported_date(_sentence(members, "Tajikistan does not belong"), members) is None


def test_the_timeline_cut_keeps_dated_events_before_as_of_items(sections: list[Passage]) -> None:
    p = section(sections, "The ceasefire")
    s = split_sentences(p.text)[0]
    dated = [Item(When(2022, 9, d), Evidence(0, p, s, 0.1)) for d in range(1, 4)]
    as_of = [Item(When(2022, 9, 20 + d), Evidence(0, p, s, 0.9), as_of=True) for d in range(1, 4)]
    assert most_relevant(as_of + dated, 4) == dated + as_of[:1]  # before: the three as-of items first
    assert most_relevant(as_of, 4) == as_of


def test_a_month_s_timeline_lists_its_dated_days_not_documents_dates(
    answerer: ExtractiveAnswerer, sections: list[Passage]
) -> None:
    # Sentences naming "the September 2022 clashes" are dated by their documents (27-29 September) now; they
    # are no event days of the month asked about (dev d01 listed them after the four events).
    items = DatedAnswers(answerer).timeline("Give me a timeline of the September 2022 border events.", sections)
    assert [i.when.label() for i in items] == ["2022-09-13", "2022-09-14", "2022-09-16", "2022-09-25"]
    assert not any(i.as_of for i in items)


def test_a_section_s_sentences_on_one_borrowed_date_are_one_item(sections: list[Passage]) -> None:
    # Before: "Border Watch ... published its own count of the dead on 15 November 2022" and "According to
    # Border Watch, 81 people were killed ..." (dated by the document) were two items of one event.
    tally = section(sections, "An independent tally")
    published, killed = (
        next(s for s in sentences(tally) if s.text.startswith(w)) for w in ("Border Watch,", "According")
    )
    day = When(2022, 11, 15)
    told = Item(day, Evidence(0, tally, published, 0.2))
    as_of = Item(day, Evidence(0, tally, killed, 0.3), as_of=True, borrowed=True)
    assert _one_per_event([told, as_of]) == [as_of]  # the better-scoring telling
    # Two sentences of one section each stating the same date stay two items (two events that day).
    other = Item(day, Evidence(0, tally, killed, 0.3))
    assert len(_one_per_event([told, other])) == 2
    # The same borrowed date in another section is another event.
    elsewhere = Item(day, Evidence(1, section(sections, "Evacuations"), killed, 0.1), as_of=True, borrowed=True)
    assert len(_one_per_event([told, elsewhere])) == 2


def test_before_leaves_its_date_out_until_keeps_it() -> None:
    # Before: "Before the September 2022 fighting" kept 13-25 September 2022 in the timeline.
    end = asked_period("Before the September 2022 fighting, what were the milestones?")
    assert end == (None, When(2022, 8))
    assert not in_period(When(2022, 9, 13), *end) and in_period(When(2022, 8, 31), *end)
    assert asked_period("What happened until September 2022?") == (None, When(2022, 9))
    assert asked_period("What happened before 2022?") == (None, When(2021))
    assert asked_period("What happened prior to 1 March 2023?") == (None, When(2023, 2))
    assert asked_period("What happened before 14 February 2023?") == (None, When(2023, 2, 13))
    assert asked_period("What happened before January 2023?") == (None, When(2022, 12))


def test_a_period_from_one_event_to_another_ends_at_the_second(
    answerer: ExtractiveAnswerer, sections: list[Passage]
) -> None:
    passages = [
        section(sections, h) for h in ("Bayraktar TB2 drones from Turkey", "The ceasefire", "Talks on the border line")
    ]
    dates = DatedAnswers(answerer)
    items = dates.timeline("Trace events from the opening of the drone base to the ceasefire, with dates.", passages)
    # Before: the talks of December 2022 and February 2023 ran on after the ceasefire.
    assert items[0].when == When(2022, 9, 13) and items[-1].when == When(2022, 9, 16)
    # No start, no end event: "to" alone bounds nothing.
    assert len(dates.timeline("Give me a timeline of what happened to the border talks.", passages)) >= 3
