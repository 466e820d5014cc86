"""Answer composition: each sentence once, no dangling pronoun openers, no bare bullets, summaries."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.answer import Passage
from bot.answering.extractive import ExtractiveAnswerer
from bot.answering.extractive_compose import (
    display_text,
    is_summary_request,
    mmr,
    sentence_keys,
    summary_topic,
    with_antecedent,
    without_bullet,
)
from bot.text.embedder import SentenceEmbedder
from bot.text.markers import BULLET
from bot.text.sentences import Span, split_sentences
from tests.bot.conftest import MemoryRetriever

CORPUS = Path(__file__).parents[3] / "examples" / "corpus"


def _span(text: str, part: str) -> Span:
    start = text.index(part)
    return Span(start, start + len(part), part)


# --- pure composition rules ----------------------------------------------------------------------------


def test_a_pronoun_opener_brings_its_antecedent_sentence() -> None:
    text = "Kerim Has is an analyst in Moscow. He also warned that the truce is fragile. Talks resume."
    got = with_antecedent(_span(text, "He also warned that the truce is fragile."), text)
    assert got is not None
    assert got.text == "Kerim Has is an analyst in Moscow. He also warned that the truce is fragile."
    assert text[got.start : got.end] == got.text


def test_a_pronoun_opener_without_antecedent_in_the_passage_is_not_quotable() -> None:
    text = "They answered that it was business. Nothing else was said."
    assert with_antecedent(_span(text, "They answered that it was business."), text) is None
    # Not a pronoun opener: unchanged.
    plain = _span(text, "Nothing else was said.")
    assert with_antecedent(plain, text) == plain
    # "This week" is a time, not a pronoun leaning on the sentence before.
    week = "Talks stalled. This week the border reopened."
    span = _span(week, "This week the border reopened.")
    assert with_antecedent(span, week) == span


def test_list_items_are_quoted_without_bullets() -> None:
    text = "Buyers:\n- Baykar sells to Kyrgyzstan\n- Turkmenistan bought first"
    item = _span(text, "- Baykar sells to Kyrgyzstan")
    got = without_bullet(item)
    assert got.text == "Baykar sells to Kyrgyzstan" and text[got.start : got.end] == got.text
    shown = display_text(Span(0, len(text), text))
    assert shown == "Buyers: Baykar sells to Kyrgyzstan; Turkmenistan bought first."
    assert not BULLET.search(shown)


def test_sentence_keys_match_across_chunks_and_bullets() -> None:
    assert sentence_keys("A drone flew. It landed.") & sentence_keys("It landed.")
    assert sentence_keys("- It landed.") == sentence_keys("It landed")


def test_summary_requests_and_their_topic() -> None:
    for q in ("Summarize the conflict", "Give me an overview of the drone sales", "What happened at the border?"):
        assert is_summary_request(q), q
    assert not is_summary_request("How many people died?")
    assert summary_topic("Summarize the conflict") == "conflict"
    assert summary_topic("Summarize") == "Summarize"


def test_mmr_prefers_a_new_point_over_a_near_repeat() -> None:
    vectors = np.array([[1.0, 0.0], [0.995, 0.0998], [0.0, 1.0]])
    assert mmr([0.9, 0.89, 0.6], vectors, 2, diversity=0.3) == [0, 2]
    assert mmr([0.9, 0.89, 0.6], vectors, 2, diversity=0.0) == [0, 1]


# --- through the answerer (real MiniLM) -----------------------------------------------------------------


def corpus_passages() -> list[Passage]:
    out = []
    for path in sorted(CORPUS.glob("*.md")):
        body = path.read_text(encoding="utf-8").split("---", 2)[-1]
        for i, para in enumerate(p.strip() for p in body.split("\n\n") if len(p.strip()) > 40):
            out.append(Passage(chunk_id=f"{path.stem}-{i}", text=para, doc_id=path.stem, title=path.stem,
                               source=path.name))
    return out


@pytest.fixture(scope="module")
def corpus(embed: SentenceEmbedder) -> MemoryRetriever:
    return MemoryRetriever(embed, corpus_passages())


def test_no_sentence_twice_when_chunks_overlap(embed: SentenceEmbedder, corpus: MemoryRetriever) -> None:
    question = "Who makes the TB2?"
    hits = corpus.retrieve(question, top_k=6).passages
    # Every passage twice, as overlapping chunks of one document would hold it.
    doubled = [*hits, *(Passage(**{**p.__dict__, "chunk_id": p.chunk_id + "-overlap"}) for p in hits)]
    answer = ExtractiveAnswerer(embed).answer(question, doubled)
    keys = [k for c in answer.citations for k in sentence_keys(c.quote)]
    assert keys and len(keys) == len(set(keys)), answer.text


def test_who_makes_the_tb2_quotes_the_baykar_sentence(embed: SentenceEmbedder, corpus: MemoryRetriever) -> None:
    question = "Who makes the TB2?"
    answer = ExtractiveAnswerer(embed).answer(question, corpus.retrieve(question, top_k=8).passages)
    assert not answer.refused
    assert any("Baykar" in c.quote for c in answer.citations), answer.text


def test_answers_never_open_with_a_dangling_pronoun_or_a_bullet(
    embed: SentenceEmbedder, corpus: MemoryRetriever
) -> None:
    answerer = ExtractiveAnswerer(embed)
    for question in ("What did Kerim Has warn about?", "Why did Turkey hesitate to sell drones to Tajikistan?",
                     "Which countries bought TB2s?", "Summarize the conflict"):
        answer = answerer.answer(question, corpus.retrieve(question, top_k=8).passages)
        for c in answer.citations:
            first = split_sentences(c.quote)[0].text
            assert not BULLET.match(c.quote), (question, c.quote)
            assert with_antecedent(Span(0, len(first), first), first) is not None, (question, c.quote)


def test_summarize_gives_a_cited_multi_passage_summary(embed: SentenceEmbedder, corpus: MemoryRetriever) -> None:
    question = "Summarize the conflict"
    answer = ExtractiveAnswerer(embed).answer(question, corpus.retrieve(question, top_k=8).passages)
    assert not answer.refused, answer.trace
    assert len(answer.citations) >= 3
    assert len({c.chunk_id for c in answer.citations}) >= 2
    for c in answer.citations:
        assert c.quote in c.context and f"[{c.n}]" in answer.text


def test_summary_of_an_absent_topic_is_refused(embed: SentenceEmbedder, corpus: MemoryRetriever) -> None:
    question = "Summarize the sourdough bread recipe"
    assert ExtractiveAnswerer(embed).answer(question, corpus.retrieve(question, top_k=8).passages).refused


def test_the_answer_opens_with_the_passage_naming_what_the_question_names(
    embed: SentenceEmbedder, corpus: MemoryRetriever
) -> None:
    question = "How many people did Tajikistan say were killed?"
    answer = ExtractiveAnswerer(embed).answer(question, corpus.retrieve(question, top_k=6).passages)
    assert not answer.refused and "41" in answer.citations[0].quote, answer.text
    assert answer.text.startswith(answer.citations[0].quote.rstrip("."))
