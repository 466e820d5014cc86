"""The lower-case question set keeps each item but its question's capitals and question mark."""

from __future__ import annotations

from bench.lowercase import lowered


def test_lowered_drops_capitals_and_the_question_mark_only() -> None:
    item = {"id": "d1", "question": "How many houses were damaged on the Tajik side? ", "gold": ["613"]}
    assert lowered(item) == {"id": "d1", "question": "how many houses were damaged on the tajik side", "gold": ["613"]}
    assert item["question"].startswith("How")  # the original is left alone
