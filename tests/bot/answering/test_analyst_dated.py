"""Timeline fixes found on the seventh round's dev questions (n21-n40): requests for dates worded without
"timeline" ("List them by date", "with dates", "a dated rundown", "over time", "milestones")."""

from __future__ import annotations

import pytest

from bot.answering.analyst.questions import classify


@pytest.mark.parametrize(
    "question",
    [
        "How have the death toll figures shifted over time? Give the dates.",
        "What were the main milestones in the region's arms deals? List them by date.",
        "Trace events from the opening of the drone base to the ceasefire, with dates.",
        "Can you give me a dated rundown of how officials reacted?",
        "What were the key milestones of the border talks?",
    ],
)
def test_asking_for_dates_is_a_timeline(question: str) -> None:
    assert classify(question).kind == "timeline"


@pytest.mark.parametrize("question", ["Why does the base matter?", "Who dated the report?", "Is it out of date?"])
def test_other_questions_are_no_timeline(question: str) -> None:
    assert classify(question).kind != "timeline"
