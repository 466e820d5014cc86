"""What a question asks for: reasons."""

from __future__ import annotations

import pytest

from bot.text.questions import has_reason


@pytest.mark.parametrize(
    "sentence",
    [
        "Tajikistan is outside the group because its population is Persian-speaking.",
        "Ankara was forced to relocate its Ethiopian embassy to Kenya after threats over the drones.",
        "Tajikistan lodged protests in response to the secretary-general's statement.",
        "The embassy moved in the face of threats.",
    ],
)
def test_sentences_giving_a_cause_hold_a_reason(sentence: str) -> None:
    assert has_reason(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "Ankara relocated its embassy after the election.",  # a time, not a cause
        "The Turkish embassy in Tajikistan published photographs of the visit.",
    ],
)
def test_sentences_without_a_cause_hold_none(sentence: str) -> None:
    assert not has_reason(sentence)
