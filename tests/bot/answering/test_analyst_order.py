"""Timelines asked without the usual wording: "Which came first: A, B or C?", and a period two events bound
("Between the ceasefire and the agreement on ..., what steps did they take?"), each event found by most of its
words, as an analyst paraphrases it (on the sample documents' own sections)."""

from __future__ import annotations

import pytest

from bot.answer import Passage
from bot.answering.analyst.questions import classify
from bot.answering.analyst.timeline import DatedAnswers
from bot.answering.extractive import ExtractiveAnswerer
from tests.bot.answering.test_analyst_periods import section


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Which came first: the S-300 deal or the TB2 delivery?", "timeline"),
        ("What happened first, the ceasefire or the protocol?", "timeline"),
        ("Which event came earlier?", "timeline"),
        ("Between the ceasefire and the border talks, what happened?", "timeline"),
        ("Between the base opening and the ceasefire, what did the two governments do?", "timeline"),
        # Not an order of events: a comparison, a count, a person coming first.
        ("What is the difference between Kyrgyzstan and Tajikistan?", "compare"),
        ("How many people were killed between 13 and 25 September?", "conflict"),
        ("Who came first in the race?", "default"),
    ],
)
def test_an_order_of_events_is_a_timeline(question: str, kind: str) -> None:
    assert classify(question).kind == kind  # before: the first five were no timelines


def test_a_period_between_two_events(answerer: ExtractiveAnswerer, sections: list[Passage]) -> None:
    passages = [
        section(sections, "04-kyrgyzstan", "Bayraktar TB2 drones from Turkey"),
        section(sections, "06-ceasefire", "The ceasefire"),
        section(sections, "06-ceasefire", "Talks on the border line"),
        section(sections, "03-dushanbe", "The report"),
        section(sections, "04-baykar", "The denial"),
    ]
    question = (
        "Between the ceasefire and the agreement on another 20 kilometres of the boundary, what steps did the "
        "two sides take?"
    )
    labels = [i.when.label() for i in DatedAnswers(answerer).timeline(question, passages)]
    # Before: no timeline at all (the question was not routed), and read as one, every dated item: the 2021
    # delivery and the 13 September opening before the ceasefire. "the agreement on another 20 kilometres"
    # names the event "the commissions agreed on ... a further 20 kilometres of the boundary" by most words.
    assert labels[0] == "2022-09-16" and labels[-1] == "2023-02-14"
    assert "2022-12" in labels
