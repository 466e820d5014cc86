"""Regression tests for issue 13: the sentences a real LLM wrote over the seed article, checked against the span
their footnote quotes. Passages are paragraphs of ../shared/seed/ (see tests/bot/conftest.py)."""

from __future__ import annotations

import pytest

from bot.answer import Passage
from bot.answering.alignment import role_failures
from bot.answering.verify import CitationVerifier
from bot.text.embedder import SentenceEmbedder


@pytest.fixture(scope="module")
def verifier(embed: SentenceEmbedder) -> CitationVerifier:
    return CitationVerifier(embed)


def find(passages: list[Passage], phrase: str) -> Passage:
    return next(p for p in passages if phrase in p.text)


@pytest.fixture
def ctx(passages: list[Passage]) -> list[Passage]:
    """[1] Turkmenistan / Uzbekistan and Kazakhstan, [2] Mirzo visits Baykar, [3] casualties, [4] Kulubaev,
    [5] OTS creation, [6] OTS secretary-general, [7] Baykar deal not sealed."""
    want = [
        "Turkmenistan became the first", "managers of Baykar", "death toll at 41", "Jeenbek Kulubaev",
        "Persian-speaking", "secretary-general sided", "has not sealed any deal",
    ]
    return [find(passages, w) for w in want]


def only(verifier: CitationVerifier, text: str, ctx: list[Passage]) -> tuple[str, str, list[int]]:
    result = verifier.verify("q", text, ctx)
    check = result.answer.checks[0]
    return check.action, check.reason, check.supported_by


def test_entity_from_elsewhere_in_the_passage_is_a_swap(verifier: CitationVerifier, ctx: list[Passage]) -> None:
    text = "Kyrgyzstan was the first Central Asian republic to acquire the TB2 drones in December 2020 [1]."
    action, reason, _ = only(verifier, text, ctx)
    assert action == "dropped"
    assert "kyrgyzstan" in reason  # the span's subject is Turkmenistan: the country is what fails


def test_the_same_sentence_with_the_right_country_is_kept_and_quotes_its_span(
    verifier: CitationVerifier, ctx: list[Passage]
) -> None:
    text = "Turkmenistan was the first Central Asian republic to acquire TB2 drones, in December 2020 [1]."
    result = verifier.verify("q", text, ctx)
    assert result.answer.checks[0].action == "kept"
    # The footnote quote is the aligned sentence, not the passage's first sentence or the whole passage.
    assert result.answer.citations[0].quote == (
        "Turkmenistan became the first Central Asian republic to acquire the TB2 drones in December 2020."
    )
    aligned = result.claims[0].chosen[0]
    assert ctx[0].text[aligned.quote.start : aligned.quote.end] == aligned.quote.text


def test_entity_not_in_the_span_is_not_repointed_either(verifier: CitationVerifier, ctx: list[Passage]) -> None:
    text = "Turkmenistan and Uzbekistan are in talks with Baykar to follow suit after Kyrgyzstan [1]."
    action, reason, supported = only(verifier, text, ctx)
    assert action == "dropped" and supported == []
    assert "turkmenistan" in reason


def test_wrong_country_is_dropped_for_the_country_not_for_the_plural(
    verifier: CitationVerifier, ctx: list[Passage]
) -> None:
    text = "Kyrgyzstan was the first Central Asian republic to receive TB2s in December 2020 [1]."
    action, reason, _ = only(verifier, text, ctx)
    assert action == "dropped"
    assert "kyrgyzstan" in reason and "tb2" not in reason


def test_sentence_initial_name_in_no_passage_is_a_name(verifier: CitationVerifier, ctx: list[Passage]) -> None:
    text = "Azerbaijan and Uzbekistan are now in talks with Baykar to follow suit after Kyrgyzstan [1]."
    action, reason, _ = only(verifier, text, ctx)
    assert action == "dropped"
    assert "azerbaijan" in reason


def test_paraphrase_of_the_baykar_sentence_is_kept(verifier: CitationVerifier, ctx: list[Passage]) -> None:
    # Issue 13 saw "The Bayraktar TB2 drones are made by Baykar, the company producing the drones, ..." dropped
    # at lexical 0.46 / semantic 0.45. Without "TB2" (which that passage never names) it must be kept.
    text = "The Bayraktar drones are made by Baykar, the company producing the drones [2]."
    action, reason, supported = only(verifier, text, ctx)
    assert (action, supported) == ("kept", [2]), reason


def test_a_model_name_the_span_lacks_is_not_certified(verifier: CitationVerifier, ctx: list[Passage]) -> None:
    text = "The Bayraktar TB2 drones are made by Baykar, the company producing the drones [2]."
    action, reason, _ = only(verifier, text, ctx)
    assert action == "dropped" and "tb2" in reason


def test_dangling_is_marker_is_never_kept(verifier: CitationVerifier, ctx: list[Passage]) -> None:
    result = verifier.verify("q", "The name of the OTS secretary-general who sided with Kyrgyzstan is [1].", ctx)
    assert result.outcome == "all_dropped"
    assert "fragment" in result.answer.checks[0].reason


def test_swapped_numbers_of_one_sentence_are_caught(verifier: CitationVerifier, ctx: list[Passage]) -> None:
    action, reason, _ = only(verifier, "The Kyrgyz say 139 people were killed [3].", ctx)
    assert action == "dropped" and "swap" in reason
    action, _, _ = only(verifier, "The Kyrgyz say 59 people were killed [3].", ctx)
    assert action == "kept"


def test_subject_and_object_exchanged_is_caught(verifier: CitationVerifier, ctx: list[Passage]) -> None:
    exchanged = "Kulubaev said reports about Tajikistan supplying drones to Turkey were true [4]."
    action, reason, _ = only(verifier, exchanged, ctx)
    assert action == "dropped" and "swap" in reason
    true = "Kulubaev said reports about Turkey supplying drones to Tajikistan were true [4]."
    action, _, _ = only(verifier, true, ctx)
    assert action == "kept"


def test_negation_added_or_removed_is_caught_on_the_cited_span(verifier: CitationVerifier, ctx: list[Passage]) -> None:
    action, reason, _ = only(verifier, "Tajikistan has sealed a deal with Baykar [7].", ctx)
    assert action == "dropped" and "negat" in reason
    action, _, _ = only(verifier, "Tajikistan has not sealed any deal with Baykar [7].", ctx)
    assert action == "kept"


def test_negation_removed_is_not_repointed_to_a_topical_span(verifier: CitationVerifier, ctx: list[Passage]) -> None:
    action, reason, _ = only(verifier, "Tajikistan has sealed a deal with Baykar [7].", ctx)
    assert action == "dropped" and "negat" in reason
    action, _, _ = only(verifier, "Tajikistan has not sealed any deal with Baykar [7].", ctx)
    assert action == "kept"
    action, reason, _ = only(verifier, "Tajikistan is part of the group [5].", ctx)
    assert action == "dropped" and "negat" in reason


def test_markers_written_before_their_sentences_are_repaired(verifier: CitationVerifier, ctx: list[Passage]) -> None:
    text = "[3] Tajikistan puts its death toll at 41. [6] The OTS secretary-general sided with Kyrgyzstan."
    result = verifier.verify("q", text, ctx)
    assert [c.action for c in result.answer.checks] != ["dropped", "dropped"]
    by_sentence = {c.sentence: c.supported_by for c in result.answer.checks}
    assert by_sentence["Tajikistan puts its death toll at 41."] == [3]
    assert by_sentence["The OTS secretary-general sided with Kyrgyzstan."] == [6]


def test_a_multi_word_name_swapped_in_from_the_next_sentence_is_caught(
    verifier: CitationVerifier, passages: list[Passage]
) -> None:
    # Found by the mutation bench (dev): the swapped-in organisation's other words ("Security Treaty
    # Organization") in the next sentence made the claim look as if it spanned two sentences.
    p = find(passages, "harder to find a diplomatic settlement")
    first = p.text.split(". ")[0]
    assert first.endswith("Kyrgyzstan and Tajikistan") and "Collective Security Treaty Organization" in p.text
    swapped = first.replace("and Tajikistan", "and Collective Security Treaty Organization")
    action, reason, _ = only(verifier, f"{swapped} [1].", [p])
    assert action == "dropped" and "collective" in reason
    assert only(verifier, f"{first} [1].", [p])[0] == "kept"


def test_a_preposition_the_document_strands_is_not_a_fragment(verifier: CitationVerifier) -> None:
    p = Passage(
        "a:0", "We met. Turkey now has two partners it wants good relations with. Then it rained.", "a", "A", "a"
    )
    assert only(verifier, "Turkey has two partners it wants good relations with [1].", [p])[0] == "kept"
    # A sentence the model cut off before its object stays a fragment.
    q = Passage("b:0", "The drones were delivered to Kyrgyzstan in 2021.", "b", "B", "b")
    action, reason, _ = only(verifier, "The drones were delivered to [1].", [q])
    assert action == "dropped" and "fragment" in reason


def test_an_abbreviation_the_claim_or_passage_defines_is_the_same_name(verifier: CitationVerifier) -> None:
    p = Passage("c:0", "Cells switch to a RAD52-dependent form of break-induced DNA replication.", "c", "C", "c")
    assert only(verifier, "RAD52 is involved in break-induced DNA replication (BIR) [1].", [p])[0] == "kept"
    # Without the definition, BIR is a name the span lacks.
    action, reason, _ = only(verifier, "RAD52 is involved in BIR [1].", [p])
    assert action == "dropped" and "bir" in reason
    q = Passage(
        "d:0", "The Organization of Turkic States (OTS) was founded in 2021. Ministers of the OTS met in Samarkand.",
        "d", "D", "d",
    )
    result = verifier.verify("q", "Ministers of the Organization of Turkic States met in Samarkand [1].", [q])
    assert result.answer.checks[0].action == "kept"
    assert result.answer.citations[0].quote == "Ministers of the OTS met in Samarkand."


def test_a_whole_number_for_a_stated_decimal_is_rounding_not_a_swap(verifier: CitationVerifier) -> None:
    p = Passage("e:0", "In poorer countries 76.3% of serious cases received no treatment.", "e", "E", "e")
    assert only(verifier, "In poorer countries 76% of serious cases received no treatment [1].", [p])[0] == "kept"
    action, _, _ = only(verifier, "In poorer countries 74% of serious cases received no treatment [1].", [p])
    assert action == "dropped"


def test_a_list_quoted_whole_is_checked_against_its_lead_in_and_items(verifier: CitationVerifier) -> None:
    items = "- 59 people lost their lives;\n- 139 further people were wounded;\n- 613 houses were damaged."
    p = Passage("f:0", f"The toll was published. By the count:\n\n{items}\n\nNothing else.", "f", "F", "f")
    claim = "By the count: 59 people lost their lives; 139 further people were wounded; 613 houses were damaged [1]."
    result = verifier.verify("q", claim, [p])
    assert result.answer.checks[0].action == "kept"
    assert result.answer.citations[0].quote.startswith("By the count:")
    # One item's fact moved onto another item is not backed by the list as a whole.
    action, _, _ = only(verifier, "613 further people were wounded [1].", [p])
    assert action == "dropped"


def test_a_person_given_the_other_party_s_office_is_dropped(verifier: CitationVerifier) -> None:
    # SmolLM2 (bench.real_llm, s17): the Tajik minister named as the Turkish one; the span names both.
    p = Passage(
        "g:0", "In April, Tajik Defence Minister Sherali Mirzo and Turkish Defence Minister Hulusi Akar signed an "
        "agreement in Ankara.", "g", "G", "g",
    )
    action, reason, _ = only(verifier, "The Turkish defence minister who signed was Sherali Mirzo [1].", [p])
    assert action == "dropped" and reason.startswith("role:")
    assert only(verifier, "The Turkish defence minister who signed was Hulusi Akar [1].", [p])[0] == "kept"
    # The other holder named in apposition ("his Turkish counterpart, Hulusi Akar"): SmolLM2, bench.real_llm c05.
    q = Passage(
        "g:1", "Earlier in April, Tajik Defense Minister Sherali Mirzo and his Turkish counterpart, Hulusi Akar, had "
        "signed a Military Framework Agreement in Ankara.", "g", "G", "g",
    )
    # Verbless, it is now dropped before the role check runs ("not a statement"); the role check alone still
    # finds the swap.
    action, reason, _ = only(verifier, "The Turkish Minister: Sherali Mirzo [1].", [q])
    assert action == "dropped"
    assert role_failures("The Turkish Minister: Sherali Mirzo.", q.text)[0].startswith("role:")
    # A claim that gives the person their own office too is not a role swap (the check alone: the slot check has
    # its own view of "Mirzo signed" where the span's "signed" follows Akar).
    assert role_failures("Tajik Defence Minister Sherali Mirzo met the Turkish minister in Ankara.", p.text) == []


def test_a_name_only_the_title_holds_is_not_added_to_the_span_s_list(verifier: CitationVerifier) -> None:
    # SmolLM2 (bench.real_llm, c08): Tajikistan appended to the founding members; only the title names it.
    items = "- Azerbaijan\n- Kazakhstan\n- Kyrgyzstan\n- Uzbekistan"
    p = Passage("h:0", f"Its founding members alongside Turkey are:\n\n{items}\n\nThe body grew.", "h",
                "Why Tajikistan Stays Outside the Turkic Bloc", "h")
    text = "Its founding members included Azerbaijan, Kazakhstan, Kyrgyzstan, Uzbekistan, and Tajikistan [1]."
    action, reason, _ = only(verifier, text, [p])
    assert action == "dropped" and "tajikistan" in reason
    text = "Its founding members included Azerbaijan, Kazakhstan, Kyrgyzstan and Uzbekistan [1]."
    assert only(verifier, text, [p])[0] == "kept"


def test_an_answer_lead_in_is_dropped_and_the_statement_after_it_checked(verifier: CitationVerifier) -> None:
    # SmolLM2 (bench.real_llm, s08): "The answer is:\nKerim Has is ..." was dropped whole as meta-talk.
    p = Passage("k:0", "Kerim Has is a Moscow-based Turkish academic specializing on Eurasian affairs.", "k", "K", "k")
    text = "The answer is:\nKerim Has is a Turkish academic specializing in Eurasian affairs [1]."
    result = verifier.verify("q", text, [p])
    assert result.answer.checks[0].action == "kept"
    assert result.answer.text == "Kerim Has is a Turkish academic specializing in Eurasian affairs [1]."
    # With nothing after it, the lead-in alone is still meta-talk.
    assert verifier.verify("q", "The answer is: [1].", [p]).answer.refused


def test_a_month_swapped_for_may_is_caught(verifier: CitationVerifier) -> None:
    # "May" is also a modal (a stopword): capitalised mid-sentence it was no fact, so "in May" for "in April" passed.
    p = Passage("m:0", "Later in April, after another round, Kyrgyzstan confirmed the reports.", "m", "M", "m")
    action, _, _ = only(verifier, "Later in May, after another round, Kyrgyzstan confirmed the reports [1].", [p])
    assert action == "dropped"
    assert only(verifier, "Later in April, after another round, Kyrgyzstan confirmed them [1].", [p])[0] == "kept"


def test_the_quote_is_the_sentence_holding_the_fact_not_one_under_a_heading_naming_it(
    verifier: CitationVerifier,
) -> None:
    # SmolLM2 (bench.real_llm): "... signed in Ankara" was quoted with a sentence lacking Ankara, which only the
    # section heading ("A defence pact signed in Ankara") held.
    text = ("In early April 2022, Tajik Defence Minister Sherali Mirzo travelled to Ankara, where he and Turkish "
            "Defence Minister Hulusi Akar put their signatures to a Military Framework Agreement. Akar said on that "
            "occasion that Turkey stood ready to help Tajikistan with securing its borders.")
    p = Passage("n:0", text, "n", "Tajikistan's Pursuit", "n.md", heading="A defence pact signed in Ankara")
    result = verifier.verify("q", "Tajikistan and Turkey signed an agreement in Ankara [1].", [p])
    assert result.answer.checks[0].action == "kept"
    assert "Ankara" in result.answer.citations[0].quote


# An uncited sentence gets a footnote only when its quote holds every content word of it, counted: the model named
# no source, so a footnote the verifier attaches must back a copy. Every wrong claim SmolLM2 got past the verifier on
# SciFact sets 1 and 2 was such a re-pointed uncited sentence ("The coronary heart ..." under "The functional heart
# ..."); bench.real_llm dev drafts, 2026-12-07.
def test_an_uncited_copy_is_attached_to_its_quote(verifier: CitationVerifier, ctx: list[Passage]) -> None:
    text = "Turkmenistan became the first Central Asian republic to acquire the TB2 drones in December 2020."
    assert only(verifier, text, ctx)[::2] == ("repointed", [1])


def test_an_uncited_sentence_with_one_word_changed_is_dropped(verifier: CitationVerifier, ctx: list[Passage]) -> None:
    text = "Turkmenistan became the first Central Asian republic to acquire the TB2 helicopters in December 2020."
    action, reason, _ = only(verifier, text, ctx)
    assert action == "dropped"
    assert reason == "no citation; the quote of [1] does not hold 'helicopt'"


def test_a_paraphrase_keeps_its_own_citation_but_is_not_attached_one(
    verifier: CitationVerifier, ctx: list[Passage]
) -> None:
    paraphrase = "Turkmenistan was the first Central Asian country to obtain TB2 drones, in December 2020"
    assert only(verifier, f"{paraphrase} [1].", ctx)[0] == "kept"
    action, reason, _ = only(verifier, f"{paraphrase}.", ctx)
    assert action == "dropped" and "'countri obtain'" in reason


def test_an_uncited_sentence_using_a_quoted_word_more_often_than_the_quote_is_dropped(
    verifier: CitationVerifier, ctx: list[Passage]
) -> None:
    # SmolLM2: "The primary measure of incidence of acute rejection was 1-year incidence of acute rejection ..."
    # under a quote naming acute rejection once: every word is quoted, the sentence still says more.
    text = "Turkmenistan, the first Central Asian republic to acquire the TB2 drones, acquired the TB2 drones in 2020."
    assert only(verifier, text, ctx)[0] == "dropped"


@pytest.mark.parametrize(
    ("claim", "quote", "unquoted"),
    [
        # Another form of a name the quote uses is that name, as in the name check.
        ("Tajikistan put the number of people killed on its side at 41.",
         "The Tajik government puts the number of people killed on its side in the clashes at 41.", []),
        # Never a prefix (Niger is not Nigeria), and a name form is used up once.
        ("Niger put the number of people killed at 41.", "Nigeria puts the number of people killed at 41.",
         ["niger"]),
        ("Tajikistan and Tajikistan again put it at 41.", "The Tajik side put it at 41.", ["tajikistan"]),
    ],
    ids=["demonym", "prefix", "once"],
)
def test_unquoted_terms_takes_another_form_of_a_name_as_the_name(claim: str, quote: str, unquoted: list[str]) -> None:
    from bot.answering.alignment import unquoted_terms

    assert unquoted_terms(claim, quote) == unquoted


@pytest.mark.parametrize(
    "text",
    [
        # Uncited mutations of "Turkmenistan became the first Central Asian republic to acquire the TB2 drones in
        # December 2020.", each swapping in a name or date the same passage holds: the uncited rule counts a name
        # form as the name ("Kyrgyzstan" for "Kyrgyz"), so the other checks must still drop such swaps.
        "Kyrgyzstan became the first Central Asian republic to acquire the TB2 drones in December 2020.",
        "Turkmenistan became the first Central Asian republic to acquire the TB2 drones in December 2021.",
    ],
    ids=["entity", "date"],
)
def test_an_uncited_swap_within_the_passage_is_dropped(
    verifier: CitationVerifier, ctx: list[Passage], text: str
) -> None:
    assert only(verifier, text, ctx)[0] == "dropped"
