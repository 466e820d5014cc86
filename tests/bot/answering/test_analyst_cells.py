"""Comparison cells found with the new dev questions of issue 11's sixth round (n09, n13), on the sample
documents' own sections (real MiniLM embedder): a facet asking for people's titles takes the sentence giving
the title next to the name, and a counted facet named by another word of its class ("injuries" for
"wounded") finds its figure and needs one."""

from __future__ import annotations

import pytest

from bot.answer import Passage
from bot.answering.analyst.compare import Footnotes, TableBuilder, titled
from bot.answering.analyst.questions import AnalystQuestion
from bot.answering.extractive import ExtractiveAnswerer
from bot.text.embedder import SentenceEmbedder


@pytest.fixture(scope="module")
def tables(embed: SentenceEmbedder) -> TableBuilder:
    return TableBuilder(ExtractiveAnswerer(embed))


def section(sections: list[Passage], doc: str, heading: str) -> Passage:
    return next(p for p in sections if p.doc_id.startswith(doc) and p.heading == heading)


def test_titled() -> None:
    assert titled("President Recep Tayyip Erdogan's Turkey has been paying attention to the east.", "Erdogan")
    assert titled("Jeenbek Kulubaev, Kyrgyzstan's foreign minister, confirmed it.", "Jeenbek Kulubaev")
    assert titled("Kerim Has is a Turkish academic based in Moscow.", "Kerim Has")
    assert not titled("Erdogan has hinted that Turkey would like membership of the SCO.", "Erdogan")


def test_a_title_facet_takes_the_titled_sentence(tables: TableBuilder, sections: list[Passage]) -> None:
    passages = [section(sections, "06-turkey", "Turning east"), section(sections, "06-turkey", "The bottom line")]
    cell = tables.cell_evidence("titles", "Erdogan", ["Erdogan", "Japarov"], passages, ["titles"])
    # Before: "Erdogan has hinted that Turkey would like membership of the Shanghai Cooperation Organization".
    assert cell is not None and "President Recep Tayyip Erdogan" in cell.span.text


def test_a_counted_facet_in_another_word_of_its_class(tables: TableBuilder, sections: list[Passage]) -> None:
    passages = [
        section(sections, "02-kyrgyz", "Figures released by the Kyrgyz side"),
        section(sections, "03-tajik", "Tajikistan's death toll"),
        section(sections, "03-tajik", "A reversal of fortunes"),
    ]
    rows, columns = ["Kyrgyzstan", "Tajikistan"], ["deaths", "injuries", "homes damaged"]
    kyrgyz = tables.cell_evidence("injuries", "Kyrgyzstan", rows, passages, columns)
    # Before: not stated (the sentence says "wounded", the facet "injuries").
    assert kyrgyz is not None and "139" in kyrgyz.span.text
    # Before: "previous flare-ups had generally hurt Kyrgyzstan more" (no figure; "injuries" was not a count).
    assert tables.cell_evidence("injuries", "Tajikistan", rows, passages, columns) is None


def test_a_section_headed_by_the_facet_answers_it(tables: TableBuilder, sections: list[Passage]) -> None:
    passages = [
        section(sections, "01-border", "An independent tally"),
        section(sections, "01-border", "Method"),
        section(sections, "02-kyrgyz-toll", "A higher official figure"),
    ]
    rows, columns = ["Border Watch", "Health Ministry"], ["death figures", "methods"]
    cell = tables.cell_evidence("methods", "Border Watch", rows, passages, columns)
    # Before: not stated ("The monitors relied on hospital records ..." never says "method"; its heading does).
    assert cell is not None and "hospital records" in cell.span.text
    assert tables.cell_evidence("methods", "Health Ministry", rows, passages, columns) is None


def test_a_lead_in_cell_keeps_its_list(tables: TableBuilder, sections: list[Passage]) -> None:
    passages = [section(sections, "04-kyrgyzstan", "Purchases from Russia")]
    aq = AnalystQuestion("compare", ("Russia",), ("what they supplied to Kyrgyzstan",))
    notes = Footnotes()
    table = tables.extractive("Compare Turkey and Russia on what they supplied to Kyrgyzstan.", aq, passages, notes)
    cell = table.rows[0].cells[0]
    # Before: "In February 2021 Kyrgyzstan concluded an agreement with Russia covering two kinds of equipment".
    assert "S-300" in cell.text and "Orlan-10" in cell.text
    assert cell.text in notes.citations[0].quote  # still a verbatim span of its footnote's quote
