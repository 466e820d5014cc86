"""Analyst fixes found on the dev questions of issue 11's second round, on the sample documents' own sections
(read from examples/corpus + examples/analyst, real MiniLM embedder): a list item does not hide the sentence
that contains it, a member-list item stands for its lead-in, comparison phrasings ("How do A's and B's X
differ?", "side by side"), timeline periods ("between X and Y", "after X") and conflict wording ("Do the
sources agree on ...?")."""

from __future__ import annotations

import pytest

from bot.answer import Passage
from bot.answering.analyst.compare import TableBuilder
from bot.answering.analyst.evidence import lead_in_with_list, repeats, sentences
from bot.answering.extractive import ExtractiveAnswerer
from bot.text.embedder import SentenceEmbedder
from tests.bot.answering.test_analyst import load_sections


@pytest.fixture(scope="module")
def sections() -> list[Passage]:
    return load_sections()


@pytest.fixture(scope="module")
def answerer(embed: SentenceEmbedder) -> ExtractiveAnswerer:
    return ExtractiveAnswerer(embed)


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
