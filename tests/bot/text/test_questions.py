"""What a question asks for: reasons, counts, the parts of a two-part question."""

from __future__ import annotations

import pytest

from bot.text.questions import has_reason, question_shape, split_question


@pytest.mark.parametrize(
    "sentence",
    [
        "Tajikistan is outside the group because its population is Persian-speaking.",
        "Ankara was forced to relocate its Ethiopian embassy to Kenya after threats over the drones.",
        "Tajikistan lodged protests in response to the secretary-general's statement.",
        "The embassy moved in the face of threats.",
        "He sees no Russian countermove for now, given Moscow's mounting problems in Ukraine.",  # dev chain d38
    ],
)
def test_sentences_giving_a_cause_hold_a_reason(sentence: str) -> None:
    assert has_reason(sentence)


@pytest.mark.parametrize(
    "sentence",
    [
        "Ankara relocated its embassy after the election.",  # a time, not a cause
        "The Turkish embassy in Tajikistan published photographs of the visit.",
        "The dates given in the report differ.",  # "given" as a participle
        "The contract, given the green light by parliament in March, covered three TB2s.",
    ],
)
def test_sentences_without_a_cause_hold_none(sentence: str) -> None:
    assert not has_reason(sentence)


def test_a_plural_count_noun_asks_for_a_number() -> None:
    assert question_shape("What death tolls do the Kyrgyz and Tajik governments give?").kind == "number"
    assert question_shape("What death toll does Tajikistan give?").kind == "number"
    # Two modifiers before the counted noun, and "what about" for the copula (a follow-up).
    assert question_shape("What was the Tajik death toll?").kind == "number"
    assert question_shape("What about the Tajik toll?").kind == "number"
    assert question_shape("What about the Tajik side?").kind != "number"
    # Review: function words are no modifiers ("impact of price controls" asks for no count).
    for question in ("What is the impact of price controls?", "What is the reason the price rose?",
                     "What was the effect of rate hikes?"):
        assert question_shape(question).kind != "number", question


def test_an_elliptical_second_part_swaps_the_first_parts_phrase() -> None:
    assert split_question("What did Kyrgyzstan buy from Turkey and what from Russia?") == [
        "What did Kyrgyzstan buy from Turkey?",
        "What did Kyrgyzstan buy from Russia?",
    ]
    assert split_question("How many were killed according to Kyrgyzstan, and how many according to Tajikistan?") == [
        "How many were killed according to Kyrgyzstan?",
        "How many were killed according to Tajikistan?",
    ]


def test_parts_with_different_question_words_are_not_swapped() -> None:
    parts = split_question("How many drones did Kyrgyzstan buy from Turkey and when from Russia?")
    assert parts[1] != "How many drones did Kyrgyzstan buy from Russia?"


def test_a_plural_noun_that_is_no_count_does_not_ask_for_a_number() -> None:
    assert question_shape("What figures attended the Bishkek summit?").kind != "number"


def test_what_something_cost_asks_for_a_figure_near_what_was_paid_for() -> None:
    shape = question_shape("What did the drone base in Kyrgyzstan cost?")
    assert shape.kind == "number"  # a figure: a price, or "more than 100 lives" for "What did the fighting cost?"
    assert shape.focus == ("drone", "base")  # not "cost", which "profits" resembles
    assert question_shape("What does a TB2 cost?").kind == "number"
    # "cost" with an object is no price: "What did the war cost Turkey?"
    assert question_shape("What did the war cost Turkey in prestige?").kind is None


def test_what_as_the_subject_of_a_verb_asks_for_an_event_not_a_name() -> None:
    for q in ("What broke out on the border the day after?", "What caused the fighting?", "What led to it?",
              "What happened next?"):
        assert question_shape(q).kind is None, q
    # "what" before a noun still asks for a name of that kind
    assert question_shape("What drones did Kyrgyzstan buy?").kind == "name"
    assert question_shape("What red lines did Turkey set?").kind == "name"
    assert question_shape("What speed does the drone reach?").kind == "name"
    # an adjective in -ed or an irregular past before a noun is no verb (review)
    for q in ("What armed group attacked the convoy?", "What disputed village was shelled?",
              "What set of sanctions was imposed?", "What left-wing party won?"):
        assert question_shape(q).kind == "name", q


def test_why_something_matters_asks_for_its_effects_not_a_cause() -> None:
    assert question_shape("Why would Iranian drones in Tajikistan matter, according to Has?").kind is None  # dev d132
    assert question_shape("Why did Turkey move its embassy?").kind == "reason"
