"""Conflict fixes found on the seventh round's dev questions (n32, n33), on the sample documents' own sections:
a figure asked for by its noun ("What's the combined death toll ...?"), a total bounded by two parties, and
the denial of an affirmed claim that scores low for the question's wording."""

from __future__ import annotations

from bot.answer import Passage
from bot.answering.analyst.conflicts import ConflictFinder, ConflictSettings, _denies
from bot.answering.analyst.questions import classify
from bot.answering.extractive import ExtractiveAnswerer

TOTAL_Q = "What's the combined death toll of the 2022 Kyrgyz-Tajik fighting for both countries?"


def _sections(sections: list[Passage], *headings: str) -> list[Passage]:
    return [p for p in sections if p.heading in headings]


def test_a_figure_asked_by_its_noun_is_a_conflict_question() -> None:
    assert classify(TOTAL_Q).kind == "conflict"  # before: default (the question shape saw no number)
    assert classify("What is the latest figure?").kind == "latest"
    assert classify("What is the role of the OTS?").kind == "default"


def test_a_total_bounded_by_two_parties_is_compared_with_totals(
    answerer: ExtractiveAnswerer, sections: list[Passage]
) -> None:
    passages = _sections(
        sections, "Figures released by the Kyrgyz side", "Tajikistan's death toll", "An independent tally"
    )
    conflict, evidence = ConflictFinder(answerer).figures(TOTAL_Q, passages)
    assert conflict is not None  # before: None, read as one figure per party
    texts = " ".join(e.span.text for e in evidence)
    assert "81 people" in texts and "close to 100" in texts and "41" not in texts


def test_the_denial_of_the_affirmed_claim_is_found_though_it_scores_low(
    answerer: ExtractiveAnswerer, sections: list[Passage]
) -> None:
    claim = "The Dushanbe Herald reported on 20 January 2023 that Tajikistan had received its first Bayraktar TB2s."
    assert _denies(
        "On 10 February 2023 a Baykar spokesperson denied that Tajikistan had received Bayraktar drones.", claim
    )
    assert not _denies("Tajikistan's defence ministry declined to comment on the report.", claim)  # no "received"
    assert not _denies("Kyrgyzstan had not received any aid.", claim)  # the verb alone, not the claim
    passages = _sections(
        sections, "The report", "The denial", "A regional sales drive", "A new factor in an old conflict"
    )
    conflict, evidence = ConflictFinder(answerer).denial("Has Baykar actually supplied TB2s to Dushanbe?", passages)
    assert conflict is not None  # before: None, the denial scored under min_score
    assert any("denied" in e.span.text for e in evidence) and any(
        "had received its first" in e.span.text for e in evidence
    )


def test_a_negative_sentence_about_something_else_is_no_denial(answerer: ExtractiveAnswerer) -> None:
    # Dev chain d45: "signed" and "not without adding" were shown as "Sources disagree".
    text = (
        "Earlier in April, Tajik Defense Minister Sherali Mirzo and his Turkish counterpart, Hulusi Akar, had signed a "
        "Military Framework Agreement in Ankara. Such an outcome could add momentum to the Bayraktars' journey on the "
        "global market, but not without adding a thorny factor to Turkey's ties with the Central Asian republics."
    )
    finder = ConflictFinder(answerer, ConflictSettings(min_score=0.0, margin=1.0))  # every sentence takes part
    passages = [Passage("a:0", text, "a", "Article", "a.md")]
    texts = " ".join(e.span.text for e in finder._relevant("Is it state-run (Anatolia, Turkish)?", passages))
    assert "signed" in texts and "not without" in texts  # both are candidates ...
    conflict, _ = finder.denial("Is it state-run (Anatolia, Turkish)?", passages)
    assert conflict is None  # ... but no side denies the other
