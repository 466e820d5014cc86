"""Comparing sources' own accounts (real MiniLM embedder): "X's and Y's accounts of ..." makes the rows who
says it, so a row's cell is a sentence that row states, not one that merely names it."""

from __future__ import annotations

import pytest

from bot.answer import Passage
from bot.answering.analyst.compare import Footnotes, TableBuilder
from bot.answering.analyst.questions import classify, compares_accounts
from bot.answering.extractive import ExtractiveAnswerer


def passage(n: int, text: str, title: str, date: str | None = "2023-02-10") -> Passage:
    return Passage(f"c{n}", text, f"d{n}", title, f"d{n}.md", None, date, "")


@pytest.mark.parametrize(
    ("question", "accounts"),
    [
        ("How do the Dushanbe Herald's and Baykar's accounts of drone deliveries to Tajikistan differ?", True),
        ("Compare Kyrgyzstan's and Tajikistan's versions of the death toll.", True),
        ("Compare the two ministries on their claims about the ceasefire.", True),
        ("How do the Kyrgyz and Tajik accounts of the fighting differ?", True),  # demonyms, no possessive
        ("How do the accounts of the fighting differ?", False),  # no one's accounts named
        ("Compare Kyrgyzstan and Tajikistan on drone purchases.", False),
        ("Compare Kyrgyzstan and Tajikistan on reports of drone deliveries.", False),
    ],
)
def test_compares_accounts(question: str, accounts: bool) -> None:
    assert compares_accounts(question) is accounts


def test_a_row_s_account_is_what_that_row_states(answerer: ExtractiveAnswerer) -> None:
    passages = [
        passage(
            1,
            "The State Committee said Tajikistan had not concluded a contract with Baykar for drone deliveries.",
            "Tajikistan's Pursuit of Bayraktar Drones",
            "2022-06-01",
        ),
        passage(2, "A Baykar spokesperson denied that any drones had been delivered to Tajikistan.", "Baykar Denies"),
        passage(3, "The Herald reported that Tajikistan had received its first drones.", "Herald: Drones Arrive"),
    ]
    question = "How do the Herald's and Baykar's accounts of drone deliveries to Tajikistan differ?"
    aq = classify(question)
    assert aq.kind == "compare" and aq.accounts
    table = TableBuilder(answerer).extractive(question, aq, passages, Footnotes())
    cells = {r.label: r.cells[0].text for r in table.rows}
    assert "denied" in cells["Baykar"], cells  # not the committee's sentence that names Baykar
    assert "received" in cells["Herald"]
