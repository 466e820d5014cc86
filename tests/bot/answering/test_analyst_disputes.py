"""Conflict fixes found on the seventh round's dev questions (n32, n33), on the sample documents' own sections:
a figure asked for by its noun ("What's the combined death toll ...?"), a total bounded by two parties, and
the denial of an affirmed claim that scores low for the question's wording."""

from __future__ import annotations

from bot.answer import Passage
from bot.answering.analyst.conflicts import ConflictFinder, _denies
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
