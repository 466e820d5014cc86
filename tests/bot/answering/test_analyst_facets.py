"""A comparison on several facets retrieves per facet, and in reported speech the row a cell is about is the
party of what is reported, not the party saying it (real MiniLM embedder)."""

from __future__ import annotations

from bot.answer import Passage
from bot.answering.analyst.attribution import reported_clause
from bot.answering.analyst.compare import TableBuilder
from bot.answering.analyst.router import AnalystRouter
from bot.answering.extractive import ExtractiveAnswerer, ExtractiveStrategy
from bot.text.embedder import SentenceEmbedder
from bot.wiring import assemble_engine
from index.settings import Settings
from tests.bot.conftest import MemoryRetriever


def passage(n: int, text: str, title: str, date: str | None = "2022-10-01") -> Passage:
    return Passage(f"c{n}", text, f"d{n}", title, f"d{n}.md", None, date, "")


def test_a_comparison_on_two_facets_retrieves_each_facet(
    embed: SentenceEmbedder, offline_settings: Settings, passages: list[Passage]
) -> None:
    answerer = ExtractiveAnswerer(embed)
    router = AnalystRouter(ExtractiveStrategy(answerer), answerer)
    question = "Compare Kyrgyzstan and Tajikistan on OTS membership and drone purchases."
    assert router.retrieval_parts(question) == [
        "Kyrgyzstan Tajikistan OTS membership",
        "Kyrgyzstan Tajikistan drone purchases",
    ]
    assert router.retrieval_parts("Compare Kyrgyzstan and Tajikistan on drone purchases.") is None
    assert router.retrieval_parts("How many people died in Kyrgyzstan?") is None
    retriever = MemoryRetriever(embed, passages)
    assemble_engine(offline_settings, retriever, embed).ask(question)
    assert "Kyrgyzstan Tajikistan OTS membership" in retriever.queries  # the engine asked the router


def test_reported_speech_is_about_its_reported_party(embed: SentenceEmbedder) -> None:
    said = (
        "In May 2022 the Kyrgyz State Committee said it held information that Tajikistan had not concluded a "
        "contract with Baykar for drone purchases."
    )
    assert reported_clause(said) == "Tajikistan had not concluded a contract with Baykar for drone purchases."
    tables = TableBuilder(ExtractiveAnswerer(embed))
    assert not tables._owned_by_other(said, "Tajikistan", ["Kyrgyzstan"])
    assert tables._owned_by_other("The Kyrgyz toll was 59, not the Tajik 41.", "Tajikistan", ["Kyrgyzstan"])
    assert reported_clause("The Tajik government puts the toll at 41.") is None
    passages = [passage(1, said, "Tajikistan's Pursuit of Bayraktar Drones")]
    cell = tables.cell_evidence(
        "drone purchases", "Tajikistan", ["Kyrgyzstan", "Tajikistan"], passages
    )
    assert cell is not None and "not concluded" in cell.span.text  # before: the Kyrgyz committee's figure


def test_a_ship_facet_is_stated_by_its_holders(embed: SentenceEmbedder) -> None:
    from bot.answering.analyst.facets import with_holders
    from bot.text.terms import content_terms

    assert with_holders(content_terms("OTS membership")) == content_terms("OTS membership members")
    assert with_holders(content_terms("ownership")) == content_terms("ownership owner")
    assert with_holders(content_terms("drone purchases")) == content_terms("drone purchases")  # no "-ship"
    text = (
        "The Organization of Turkic States (OTS) was set up in November 2021, with Turkey in the lead role. "
        "Its founding members alongside Turkey are:\n\n- Azerbaijan\n- Kazakhstan\n- Kyrgyzstan\n- Uzbekistan"
    )
    title = "The Organization of Turkic States"
    p = Passage("c1", text, "d1", title, "d1.md", None, "2022-10-02", "Founding and members")
    tables = TableBuilder(ExtractiveAnswerer(embed))
    ev = tables.cell_evidence("OTS membership", "Azerbaijan", ["Azerbaijan", "Tajikistan"], [p])
    assert ev is not None  # before: not stated (the lead-in says "members", the facet "membership")
    assert ev.span.text.startswith("Its founding members alongside Turkey are:")
