"""A comparison on several facets retrieves per facet, and in reported speech the row a cell is about is the
party of what is reported, not the party saying it (real MiniLM embedder)."""

from __future__ import annotations

from bot.answer import Passage
from bot.answering.analyst.compare import TableBuilder
from bot.answering.analyst.evidence import reported_clause
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
