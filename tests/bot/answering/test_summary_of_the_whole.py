"""A summary with no topic of its own ("Summarize the documents.") reads every document from its opening: the
engine retrieves deeper for it, and each document's opening chunk comes first."""

from __future__ import annotations

from bot.answer import Passage
from bot.answering.analyst.router import AnalystRouter
from bot.answering.extractive import ExtractiveAnswerer, ExtractiveStrategy
from bot.answering.extractive_compose import is_summary_of_the_whole, openings, openings_first


def test_only_a_summary_without_a_topic_is_one_of_the_whole() -> None:
    assert is_summary_of_the_whole("Summarize the documents.")
    assert is_summary_of_the_whole("Summarize the article.")
    assert not is_summary_of_the_whole("Summarize the Tajik account.")
    assert not is_summary_of_the_whole("Who makes the TB2?")


def test_a_summary_of_the_whole_retrieves_deeper(answerer: ExtractiveAnswerer) -> None:
    router = AnalystRouter(ExtractiveStrategy(answerer), answerer)
    assert router.retrieval_depth("Summarize the documents.", 6) > 6
    assert router.retrieval_depth("Summarize the Tajik account.", 6) == 6


def test_each_documents_opening_is_its_earliest_chunk_with_a_real_sentence() -> None:
    def p(cid: str, text: str, doc: str) -> Passage:
        return Passage(cid, text, doc, doc.upper(), f"{doc}.md")

    passages = [
        p("a-00003-c", "Later text of a.", "a"),
        p("a-00000-a", "*Sample document written for a demo corpus.*", "a"),  # a note only: opens nothing
        p("b-00002-x", "Later text of b.", "b"),
        p("a-00001-b", "## Roots\n\nThe opening of a.", "a"),
        p("b-00000-y", "The opening of b.", "b"),
    ]
    assert openings(passages) == {"a-00001-b", "b-00000-y"}
    assert [x.chunk_id for x in openings_first(passages)][:2] == ["a-00001-b", "b-00000-y"]
