"""Whole-word and stem matching of terms and names: never by prefix."""

from __future__ import annotations

import pytest

from bot.text.terms import content_terms, designators, name_present, names, stem, term_in


@pytest.mark.parametrize(
    ("a", "b"),
    [("niger", "nigeria"), ("austria", "australia"), ("organ", "organization"), ("turkmenistan", "turkey")],
)
def test_different_names_and_words_do_not_match(a: str, b: str) -> None:
    assert not name_present(a, {b}) and not name_present(b, {a})
    assert not term_in(stem(a), {stem(b)}) and not term_in(stem(b), {stem(a)})


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("kyrgyz", "kyrgyzstan"),
        ("tajik", "tajikistan"),
        ("turkey", "turkish"),
        ("russia", "russian"),
        ("iran", "iranian"),
        ("uzbek", "uzbekistan"),
        ("china", "chinese"),
    ],
)
def test_forms_of_one_name_match(a: str, b: str) -> None:
    assert name_present(a, {b}) and name_present(b, {a})


def test_inflections_share_a_stem_derivations_do_not() -> None:
    assert stem("killed") == stem("kills") == stem("killing") == "kill"
    assert stem("drones") == stem("drone")
    assert stem("organizations") == stem("organization") != stem("organ")
    assert content_terms("The drones killed 41 people") >= {"drone", "kill", "41"}


def test_designator_plurals_name_the_model() -> None:
    assert designators("Kyrgyzstan received TB2s and S-300 systems") == {"tb2", "s-300"}


def test_sentence_initial_names_with_common_words() -> None:
    sentence = "Azerbaijan and Uzbekistan are in talks with Baykar."
    assert "azerbaijan" not in names(sentence)  # without a lexicon, a sentence-initial word is ambiguous
    assert "azerbaijan" in names(sentence, common_words={"talks"})
    assert "drones" not in names("Drones were sold to Kyrgyzstan.", common_words={"drones"})
    assert "however" not in names("However, Kyrgyzstan disagreed.", common_words=set())
