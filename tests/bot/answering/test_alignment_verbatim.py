"""`verbatim_failures`: a claim that copies its span closely but changes one fact, exchanges two, or adds or
drops a negation. The shapes come from the news-article mutation bench (`python -m bench.verifier --only news`,
dev split), where each was kept before this check; the sentences here are written for the tests."""

from __future__ import annotations

import pytest

from bot.answering.verbatim import verbatim_failures
from bot.text.terms import names, numbers, proper_vocabulary


def failures(claim: str, span: str, context: str = "") -> list[str]:
    proper = proper_vocabulary([span, context])
    common = {w.lower() for w in f"{span} {context}".split() if w.islower()}
    claim_facts = names(claim, proper, common_words=common) | numbers(claim)
    span_facts = names(span, proper, common_words=common) | numbers(span)
    return verbatim_failures(claim, span, claim_facts, span_facts)


SPAN = "The deal was welcomed, said Maria Keller, President of the Regional Council, on Monday."


def test_a_name_put_where_the_span_has_another_is_a_swap_even_when_the_title_names_it() -> None:
    # "Norway" is only in the document's title: the fact check finds it there, the position shows the swap.
    out = failures("The deal was welcomed, said Maria Keller, President of the Norway, on Monday.", SPAN)
    assert out and out[0].startswith("swap:") and "norway" in out[0]


def test_the_same_sentence_unchanged_or_shortened_passes() -> None:
    assert failures(SPAN, SPAN) == []
    assert failures("Maria Keller, President of the Regional Council, welcomed the deal.", SPAN) == []


def test_a_number_changed_in_a_copied_sentence_is_a_swap() -> None:
    span = "Staff answered only 31% of the calls, the report noted, against 88% a year before."
    out = failures("Staff answered only 88% of the calls, the report noted.", span)
    assert out and "88" in out[0]


def test_two_names_exchanged_across_a_verb_are_an_exchange() -> None:
    span = "Halvorsen Group announced on Tuesday that it was buying Pellam Systems for $2 billion."
    out = failures("Pellam Systems announced on Tuesday that it was buying Halvorsen Group for $2 billion.", span)
    assert out and out[0].startswith("swap:")


def test_a_coordination_in_the_other_order_is_not_an_exchange() -> None:
    span = "Estonia and Latvia are now in talks with the supplier about a second order."
    assert failures("Latvia and Estonia are now in talks with the supplier about a second order.", span) == []


@pytest.mark.parametrize(
    "claim",
    [
        "The outbreak linked to the onions is not officially over, according to officials.",
        "Residents never seemed to accept the closure of the Harbour Street clinic.",
    ],
)
def test_a_negation_added_to_a_copied_sentence_fails(claim: str) -> None:
    span = ("The outbreak linked to the onions is officially over, according to officials. "
            if "outbreak" in claim else "Residents just seemed to accept the closure of the Harbour Street clinic.")
    out = failures(claim, span)
    assert out and out[0].startswith("negation:")


def test_a_negation_dropped_from_a_copied_sentence_fails() -> None:
    span = "Refunds cannot be paid until the identity claim is resolved by the agency."
    out = failures("Refunds can be paid until the identity claim is resolved by the agency.", span)
    assert out and out[0].startswith("negation:")


def test_leaving_out_a_negated_clause_of_the_span_is_not_a_negation() -> None:
    span = "Exports to Finland rose in March, but imports from Sweden did not recover until the autumn."
    assert failures("Exports to Finland rose in March.", span) == []


def test_a_paraphrase_is_not_compared_position_by_position() -> None:
    # Few tokens in common: positions mean nothing, the other checks decide.
    span = "The Tajik government puts the number of people killed on its side at 41."
    assert failures("Tajikistan says 41 of its people died.", span) == []


def test_a_name_put_in_place_of_a_plain_word_is_a_swap() -> None:
    span = "Today several on the block are apparently empty."
    out = failures("Marlow several on the block are apparently empty.", span)
    assert out and "marlow" in out[0]
    # A name added where the span has only a function word is context, not a swap.
    span = "The defence minister Hulusi Akar signed the agreement."
    assert failures("Turkey's defence minister Hulusi Akar signed the agreement.", span) == []


def test_not_only_affirms_and_a_negation_anywhere_in_the_span_counts() -> None:
    from bot.answering.alignment import polarity_failures

    # Found on the RealTime QA test split (SmolLM2 on Tax Day), written here in other words.
    span = "The fair opens every May in Port Lane. Although shops close early, the fair day is not a public holiday."
    assert polarity_failures("The fair day is a public holiday.", span)
    assert polarity_failures("The fair day is not only a public holiday but also a market day.", span)
    assert polarity_failures("The fair day is not a public holiday.", span) == []
