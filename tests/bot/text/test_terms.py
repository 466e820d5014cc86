"""Whole-word and stem matching of terms and names: never by prefix."""

from __future__ import annotations

import pytest

from bot.text.terms import content_terms, designators, name_present, names, numbers, stem, term_in


@pytest.mark.parametrize(
    ("a", "b"),
    [("niger", "nigeria"), ("austria", "australia"), ("organ", "organization"), ("turkmenistan", "turkey"),
     ("france", "german"), ("american", "us"), ("england", "english"), ("poland", "polish")],
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
        ("france", "french"),  # demonyms no ending derives: a table
        ("germany", "german"),
        ("netherlands", "dutch"),
        ("britain", "british"),
        ("italy", "italians"),
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


@pytest.mark.parametrize(
    "sentence",
    [
        "Mitochondria play a major role in apoptosis.",
        "Students who perform poorly are at increased risk.",
        "Integrated care is successful at tackling comorbidities.",
        "Results showed a lower rate.",
        "Tissue-resident macrophages are seeded before birth.",
    ],
)
def test_sentence_initial_dictionary_words_are_not_names(sentence: str) -> None:
    # Passages that never write the word in lower case: the corpus-independent dictionary decides.
    assert names(sentence, common_words=set()) == set()


def test_sentence_initial_word_the_passages_capitalise_is_a_name() -> None:
    assert "turkey" in names("Turkey sold drones.", {"turkey"}, common_words=set())
    assert "turkey" not in names("Turkey sold drones.", common_words=set())  # "turkey" is also a dictionary word


def test_letters_inside_a_code_are_not_names() -> None:
    assert names("Removal of H3K9me3 improves reprogramming of MUC1-C and 10EB.", common_words=set()) == {
        "h3k9me3", "muc1"}


def test_hyphenated_compounds_match_by_parts() -> None:
    from bot.answering.alignment import missing_facts

    assert missing_facts(set(), {"rank-rankl"}, "RANK and RANKL signalling is needed.", "") == []
    assert missing_facts(set(), {"aire-expressing"}, "Aire is expressing the genes.", "") == []
    assert missing_facts(set(), {"aire-expressing"}, "Cells expressing the genes.", "") == ["aire-expressing"]
    assert missing_facts(set(), {"il-6"}, "IL and 7 were measured.", "") == ["il-6"]  # a number part as written


def test_may_mid_sentence_capitalised_is_the_month() -> None:
    from bot.text.terms import names

    assert "may" in names("Later in May, Kyrgyzstan said so.")
    assert "may" not in names("Tajikistan may buy drones.") and "may" not in names("May the drones fly.")


@pytest.mark.parametrize(
    ("verb", "noun"), [("owns", "owners"), ("makes", "maker"), ("buys", "buyers"), ("leads", "leader")]
)
def test_an_agent_noun_matches_its_verb(verb: str, noun: str) -> None:
    # "Who owns Baykar?" is answered by "The company's owners are ...": Snowball keeps "owner" whole.
    assert term_in(stem(verb), {stem(noun)}) and term_in(stem(noun), {stem(verb)})


def test_agent_forms_need_the_whole_other_word() -> None:
    assert not term_in(stem("own"), {stem("ownership")})
    for a, b in (("form", "former"), ("count", "counter"), ("late", "later"), ("live", "liver")):
        assert not term_in(stem(a), {stem(b)}) and not term_in(stem(b), {stem(a)})  # no agent nouns
    assert not term_in(stem("lead"), {stem("leaders") + "ship"})
    assert not term_in(stem("make"), {stem("makeup")})


def test_truecase_gives_a_lower_case_question_its_names_capitals_from_the_passages() -> None:
    from bot.text.terms import truecase

    texts = [
        "Many of them said so. Turkmenistan was the first to buy TB2s; the Tajik side said Turkey's drones "
        "were decisive. President Sadyr Japarov opened the base, and many observers agreed.",
    ]
    assert truecase("how many houses were damaged on the tajik side", texts) == (
        "how many houses were damaged on the Tajik side")
    assert truecase("who is turkey's ambassador", texts) == "who is Turkey's ambassador"
    # a name that only opens sentences, if it is no dictionary word; the right form of a designator
    assert truecase("when did turkmenistan buy tb2s", texts) == "when did Turkmenistan buy TB2s"
    # not a word the passages also write in lower case, one that only opens sentences, or an office
    assert truecase("what did many observers say", texts) == "what did many observers say"
    assert truecase("who is the president", texts) == "who is the president"


def test_a_list_items_enumerator_is_not_a_number() -> None:
    assert numbers("1. The outlet reported 3 tanks hit.") == {"3"}
    assert numbers("The claims:\n2) Troops won back five villages.") == {"5"}
    assert numbers("It ranked 1. Then it fell.") == {"1"}  # mid-line, a figure


def test_truecase_gives_a_two_word_name_its_dictionary_word_second_half() -> None:
    from bot.text.terms import truecase

    texts = ["Kerim Has is a Turkish academic. He has argued that the drones matter; Has says so often."]
    # "has" is written in lower case too: only the capitalised pair "Kerim Has" shows it is part of the name
    assert truecase("compare kerim has and sherali mirzo on their roles", texts) == (
        "compare Kerim Has and sherali mirzo on their roles")
    assert truecase("what has kerim argued", texts) == "what has Kerim argued"  # not after the name
    texts = ["Turkish Defence Minister Hulusi Akar signed it."]
    assert truecase("what did the turkish defence minister sign", texts) == (
        "what did the Turkish defence minister sign")  # an office stays in lower case


def test_truecase_gives_a_two_word_name_both_capitals_where_one_word_alone_is_common() -> None:
    from bot.text.terms import truecase

    texts = [
        "The figure, according to Border Watch, is 81; the border was quiet. Kyrgyzstan's Health Ministry puts "
        "it at 63, and the ministry said the health of the wounded improved. The Kyrgyz side agreed.",
    ]
    assert truecase("how do border watch and the health ministry differ", texts) == (
        "how do Border Watch and the Health Ministry differ")  # "border", "health", "ministry": common alone
    assert truecase("was the border quiet", texts) == "was the border quiet"
    # a pair opening a sentence is no name unless its first word is no dictionary word: "The Kyrgyz"
    assert truecase("what did the kyrgyz side say", texts) == "what did the Kyrgyz side say"
    # the same two words also written in lower case are no name
    texts = ["It was Border Watch who said it, and the border watch post agreed."]
    assert truecase("what did border watch say", texts) == "what did border watch say"


def test_a_capital_stands_for_its_country_but_is_no_form_of_its_name() -> None:
    from bot.text.terms import country_of_capital, same_name

    assert country_of_capital("Bishkek") == "kyrgyzstan" and country_of_capital("Ankara") == "turkey"
    assert country_of_capital("Turkey") is None
    # Matching sentences: "Moscow's mounting problems" is not Russia's view (dev chain d38).
    assert not same_name("moscow", "russia")
