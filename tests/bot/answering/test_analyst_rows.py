"""Comparison rows and columns read generally: a facet lead repeated before a later facet ("on X and on Y"),
and a row that is a source owning what it reports, not the party it reports about (real MiniLM embedder)."""

from __future__ import annotations

from bot.answer import Passage
from bot.answering.analyst.compare import TableBuilder
from bot.answering.analyst.questions import comparison_parts
from bot.answering.extractive import ExtractiveAnswerer
from bot.text.embedder import SentenceEmbedder


def passage(n: int, text: str, title: str, heading: str = "") -> Passage:
    return Passage(f"c{n}", text, f"d{n}", title, f"d{n}.md", None, "2022-11-15", heading)


def test_a_repeated_facet_lead_is_not_part_of_the_facet() -> None:
    q = "How do Border Watch and the Kyrgyz authorities compare on the death toll and on evacuations?"
    assert comparison_parts(q)[1] == ("death toll", "evacuations")  # before: "on evacuations"
    q = "Compare Kyrgyzstan and Tajikistan in terms of price, and in terms of range"
    assert comparison_parts(q)[1] == ("price", "range")
    q = "Do Kyrgyzstan and Tajikistan differ in CSTO membership and in OTS membership?"
    assert comparison_parts(q)[1] == ("CSTO membership", "OTS membership")
    # A facet that only starts like the lead keeps its words.
    assert comparison_parts("Compare Kyrgyzstan and Tajikistan on deaths and online claims")[1] == (
        "deaths",
        "online claims",
    )


def test_a_source_row_owns_what_it_reports(embed: SentenceEmbedder) -> None:
    said = (
        "Border Watch reported that about 136,000 residents were evacuated from the Kyrgyz border districts "
        "while the fighting lasted."
    )
    passages = [passage(1, said, "Border Watch: An Independent Count", "Evacuations")]
    tables = TableBuilder(ExtractiveAnswerer(embed))
    rows = ["Border Watch", "Kyrgyz"]
    # Before: the Kyrgyz row got Border Watch's figure (the evacuated districts are Kyrgyz) and the Border
    # Watch row, its speaker, nothing.
    own = tables.cell_evidence("evacuations", "Border Watch", rows, passages)
    assert own is not None and "136,000" in own.span.text
    assert tables.cell_evidence("evacuations", "Kyrgyz", rows, passages) is None
    # A speaker only naming a row's country is no other row: the committee's claim stays Tajikistan's.
    said = (
        "In May 2022 the Kyrgyz State Committee said it held information that Tajikistan had not concluded a "
        "contract with Baykar for drone purchases."
    )
    cell = tables.cell_evidence(
        "drone purchases", "Tajikistan", ["Kyrgyzstan", "Tajikistan"], [passage(2, said, "Tajik drones")]
    )
    assert cell is not None and "not concluded" in cell.span.text
