"""An analyst question typed in lower case, as Discord users do, is read with its names' capitals from the
passages: a comparison's rows are names, found by their capitals (real MiniLM embedder)."""

from __future__ import annotations

from bot.answer import Passage
from bot.answering.analyst.questions import classify
from bot.answering.analyst.router import AnalystRouter
from bot.answering.extractive import ExtractiveAnswerer, ExtractiveStrategy
from bot.text.embedder import SentenceEmbedder
from bot.wiring import assemble_engine
from index.settings import Settings
from tests.bot.answering.test_analyst import ask
from tests.bot.conftest import MemoryRetriever


def test_a_lower_case_comparison_gets_a_table_with_a_row_per_name(
    answerer: ExtractiveAnswerer, embed: SentenceEmbedder, sections: list[Passage]
) -> None:
    router = AnalystRouter(ExtractiveStrategy(answerer), answerer)
    question = "compare kyrgyzstan and tajikistan on deaths"
    assert classify(question).kind != "compare"  # no capitals, no names: the words alone find no rows
    answer = ask(router, embed, sections, question)
    assert answer.table is not None  # before: no table (the extractive answer)
    assert [r.label for r in answer.table.rows] == ["Kyrgyzstan", "Tajikistan"]
    assert answer.table.columns == ["deaths"]
    assert "41" in answer.table.rows[1].cells[0].text
    assert answer.trace["analyst"]["kind"] == "compare"


def test_cased_leaves_a_capitalised_question_and_common_words_alone(
    answerer: ExtractiveAnswerer, sections: list[Passage]
) -> None:
    router = AnalystRouter(ExtractiveStrategy(answerer), answerer)
    q = "Compare Kyrgyzstan and Tajikistan on the number of people killed."
    assert router.cased(q, sections) == q
    akar = [p for p in sections if "stood ready" in p.text]
    assert router.cased("who said turkey stood ready to help", akar) == "who said Turkey stood ready to help?"


def test_a_lower_case_comparison_on_two_facets_retrieves_each_facet(
    answerer: ExtractiveAnswerer, embed: SentenceEmbedder, offline_settings: Settings, passages: list[Passage]
) -> None:
    router = AnalystRouter(ExtractiveStrategy(answerer), answerer)
    question = "compare kyrgyzstan and tajikistan on ots membership and drone purchases"
    assert router.retrieval_parts(question) is None  # the question alone names no rows
    parts = ["Kyrgyzstan Tajikistan OTS membership", "Kyrgyzstan Tajikistan drone purchases"]
    ots = [p for p in passages if "OTS" in p.text]
    assert router.retrieval_parts(question, ots) == parts  # cased from the passages retrieved first
    retriever = MemoryRetriever(embed, passages)
    assemble_engine(offline_settings, retriever, embed).ask(question)
    # The engine gave the router its passages (before: no parts, the lower-case question names no rows).
    assert "Kyrgyzstan Tajikistan drone purchases" in retriever.queries


def test_a_question_typed_without_its_question_mark_gets_one(
    answerer: ExtractiveAnswerer, sections: list[Passage]
) -> None:
    from bot.answering.analyst.questions import with_question_mark

    assert with_question_mark("what was kyrgyzstan's death toll") == "what was kyrgyzstan's death toll?"
    assert with_question_mark("did tajikistan get turkish drones ") == "did tajikistan get turkish drones?"
    assert with_question_mark("What was the toll?") == "What was the toll?"
    assert with_question_mark("compare kyrgyzstan and tajikistan on deaths") == (
        "compare kyrgyzstan and tajikistan on deaths")  # a request, not a question
    assert with_question_mark("timeline of the border talks") == "timeline of the border talks"
    assert with_question_mark("whatever happened.") == "whatever happened."
    router = AnalystRouter(ExtractiveStrategy(answerer), answerer)
    toll = [p for p in sections if "Health Ministry" in p.text]
    assert router.cased("what was kyrgyzstan's death toll", toll) == "what was Kyrgyzstan's death toll?"
