"""Analyst fixes found on the dev questions of issue 11's second round, on the sample documents' own sections
(read from examples/corpus + examples/analyst, real MiniLM embedder): a list item does not hide the sentence
that contains it, a member-list item stands for its lead-in, comparison phrasings ("How do A's and B's X
differ?", "side by side"), timeline periods ("between X and Y", "after X") and conflict wording ("Do the
sources agree on ...?")."""

from __future__ import annotations

import pytest

from bot.answer import Passage
from bot.answering.analyst.compare import TableBuilder
from bot.answering.analyst.conflicts import ConflictFinder
from bot.answering.analyst.dates import When, asked_period, in_period
from bot.answering.analyst.evidence import lead_in_with_list, repeats, sentences
from bot.answering.analyst.questions import classify, disputed
from bot.answering.analyst.timeline import DatedAnswers
from bot.answering.extractive import ExtractiveAnswerer


def section(sections: list[Passage], heading: str) -> Passage:
    return next(p for p in sections if p.heading == heading)


def test_a_list_item_inside_a_sentence_is_no_repeat_of_it(sections: list[Passage]) -> None:
    members = section(sections, "Founding and members")
    sales = section(sections, "A regional sales drive")
    item = next(s.text for s in sentences(members) if s.text == "Kazakhstan")
    sentence = next(s.text for s in sentences(sales) if "Kazakhstan" in s.text)
    assert not repeats(item, sentence) and not repeats(sentence, item)
    assert repeats(sentence, sentence[len(sentence) // 3 :])  # a chunk-edge cut of it still is
    assert repeats(sentence, f"  {sentence}\n")


def test_a_member_list_item_does_not_hide_the_row_s_sentence(
    answerer: ExtractiveAnswerer, sections: list[Passage]
) -> None:
    # Before: the bare item "Kazakhstan" scored first and the sales-drive sentence was dropped as its repeat.
    passages = [section(sections, "Founding and members"), section(sections, "A regional sales drive")]
    cell = TableBuilder(answerer).cell_evidence("drone plans", "Kazakhstan", ["Kazakhstan", "Uzbekistan"], passages)
    assert cell is not None and "negotiating with Baykar" in cell.span.text


def test_a_list_item_stands_for_its_lead_in_with_the_list(
    answerer: ExtractiveAnswerer, sections: list[Passage]
) -> None:
    members = section(sections, "Founding and members")
    item = next(s for s in sentences(members) if s.text == "Kyrgyzstan")
    whole = lead_in_with_list(members, item)
    assert whole is not None and whole.text.startswith("Its founding members alongside Turkey are:")
    assert whole.text.rstrip().endswith("Uzbekistan") and members.text[whole.start : whole.end] == whole.text
    lead = next(s for s in sentences(members) if s.text.endswith(":"))
    assert lead_in_with_list(members, next(s for s in sentences(members) if s.start < lead.start)) is None
    tables = TableBuilder(answerer)
    rows = ["Kyrgyzstan", "Tajikistan"]
    cell = tables.cell_evidence("membership of the Organization of Turkic States", "Kyrgyzstan", rows, [members])
    assert cell is not None and cell.span.text == whole.text  # before: "not stated"
    # The lead-in must fit the facet: a member list says nothing about drone plans, though it names the row.
    assert tables.cell_evidence("drone plans", "Kazakhstan", ["Kazakhstan", "Uzbekistan"], [members]) is None


@pytest.mark.parametrize(
    ("question", "entities", "facets"),
    [
        # Before: facet "dead differ" (the "for" read as a facet lead) and no table.
        ("How do Kyrgyzstan's and Tajikistan's figures for the dead differ?", ("Kyrgyzstan", "Tajikistan"),
         ("figures for the dead",)),
        # Before: column "drone deliveries" and a third row "Tajikistan".
        ("How do the Dushanbe Herald's and Baykar's accounts of drone deliveries to Tajikistan differ?",
         ("Dushanbe Herald", "Baykar"), ("drone deliveries to Tajikistan",)),
        # Before: row "Put Kyrgyzstan", column "side on casualties".
        ("Put Kyrgyzstan and Tajikistan side by side on casualties.", ("Kyrgyzstan", "Tajikistan"), ("casualties",)),
        # Unchanged shapes.
        ("How do the Kyrgyz and Tajik accounts differ on deaths and wounded?", ("Kyrgyz", "Tajik"),
         ("deaths", "wounded")),
        ("How do the Kyrgyz and Tajik accounts differ?", ("Kyrgyz", "Tajik"), ()),
    ],
)  # fmt: skip
def test_comparison_phrasings(question: str, entities: tuple[str, ...], facets: tuple[str, ...]) -> None:
    aq = classify(question)
    assert (aq.kind, aq.entities, aq.facets) == ("compare", entities, facets)


@pytest.mark.parametrize(
    ("question", "period"),
    [
        ("What happened between April 2022 and February 2023, in order?", ("2022-04", "2023-02")),
        ("What happened after the September 2022 fighting, in order?", ("2022-09", None)),
        ("What happened before 2022?", (None, "2021")),  # "before" leaves 2022 out (was "2022")
        ("Give me a timeline of the September 2022 border events.", None),  # one month: read by the timeline
    ],
)
def test_asked_period(question: str, period: tuple[str | None, str | None] | None) -> None:
    got = asked_period(question)
    assert (None if got is None else tuple(w.label() if w else None for w in got)) == period
    assert in_period(When(2023, 2, 10), When(2022, 4), When(2023, 2))  # an end holds its whole month
    assert not in_period(When(2023, 3, 1), When(2022, 4), When(2023, 2))


def test_a_timeline_between_two_dates_keeps_both_ends(answerer: ExtractiveAnswerer, sections: list[Passage]) -> None:
    passages = [
        section(sections, "A defence pact signed in Ankara"),
        section(sections, "Conflicting signals about a contract"),
        section(sections, "The report"),
        section(sections, "The denial"),
        section(sections, "Bayraktar TB2 drones from Turkey"),
    ]
    question = "What happened between April 2022 and February 2023 with Tajikistan's bid for Turkish drones, in order?"
    labels = [i.when.label() for i in DatedAnswers(answerer).timeline(question, passages)]
    # Before: only April 2022 (the first month named was read as the whole period).
    assert "2022-05" in labels and "2023-01-20" in labels and "2023-02-10" in labels
    assert "2021-12" not in labels and labels == sorted(labels)


def test_conflict_wording_about_the_sources_is_not_the_counted_thing(answerer: ExtractiveAnswerer) -> None:
    question = "Is there any disagreement over how many Kyrgyz citizens died?"
    assert disputed(question) == "How many Kyrgyz citizens died?"
    assert disputed("Do the sources agree on the number of houses damaged?") == "The number of houses damaged?"
    assert disputed("How many people died?") == "How many people died?"
    # Before: {"ow", "yrgyz", "disagreement", ...}: the tails of "How" and "Kyrgyz", and the sources' wording.
    assert ConflictFinder(answerer)._focus(question) == {"citizens", "died"}
