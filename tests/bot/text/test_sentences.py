"""Sentence spans: NLTK Punkt plus the pass for markers, lower-case continuations and terminal abbreviations."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from bot.text.sentences import read_punkt_params, split_sentences
from tests.conftest import SEED_ARTICLE


def texts(text: str) -> list[str]:
    return [s.text for s in split_sentences(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The talks ended at 5 p.m. Then they left.", ["The talks ended at 5 p.m.", "Then they left."]),
        ("Dr. Smith met Mr. J. Jones on Sept. 5. He left.", ["Dr. Smith met Mr. J. Jones on Sept. 5.", "He left."]),
        ("The U.S. Army arrived. It was late.", ["The U.S. Army arrived.", "It was late."]),
        ("e.g. this works. Yes.", ["e.g. this works.", "Yes."]),
        ("It cost $5.5 million. Officials agreed.", ["It cost $5.5 million.", "Officials agreed."]),
        ('He said "No." Then he left.', ['He said "No."', "Then he left."]),
    ],
)
def test_sentence_boundaries(text: str, expected: list[str]) -> None:
    assert texts(text) == expected


def test_markers_after_the_full_stop_belong_to_the_sentence_before() -> None:
    assert texts("Kyrgyzstan bought TB2s. [1][2] Later it bought more [3].") == [
        "Kyrgyzstan bought TB2s. [1][2]",
        "Later it bought more [3].",
    ]
    assert texts("Casualties rose to 41 [1]. Kyrgyzstan said 59 [2].") == [
        "Casualties rose to 41 [1].",
        "Kyrgyzstan said 59 [2].",
    ]


def test_headings_and_list_items_are_their_own_spans() -> None:
    text = "# Casualties\nBy the Kyrgyz count:\n- 59 people lost their lives;\n- 139 were wounded."
    assert texts(text) == [
        "# Casualties", "By the Kyrgyz count:", "- 59 people lost their lives;", "- 139 were wounded."
    ]


def test_a_numbered_list_items_enumerator_opens_its_sentence() -> None:
    # Punkt cut "1." off as a sentence of its own, and an answer quoted "Two claims drew attention: 1".
    text = "Two claims drew attention:\n\n1. A strike hit a tank.\n2) Troops won back five villages."
    assert texts(text) == [
        "Two claims drew attention:", "1. A strike hit a tank.", "2) Troops won back five villages."
    ]


def test_a_number_ending_a_sentence_mid_line_is_no_enumerator() -> None:
    assert texts("Deaths in Batken? 41. Injured? 139. Both figures were later revised.") == [
        "Deaths in Batken?", "41.", "Injured?", "139.", "Both figures were later revised."
    ]


def test_spans_are_exact_slices_of_the_real_article() -> None:
    text = SEED_ARTICLE.read_text(encoding="utf-8")
    spans = split_sentences(text)
    assert len(spans) > 30
    assert all(text[s.start : s.end] == s.text for s in spans)
    assert all(a.end <= b.start for a, b in pairwise(spans))
    # Every word of the article is in some sentence.
    covered = "".join(s.text for s in spans)
    assert sum(c.isalnum() for c in covered) == sum(c.isalnum() for c in text)


def test_a_number_after_no_stays_in_its_sentence() -> None:
    # Punkt ended sentences at "No." before a rank (news-mutation dev: quotes cut at "... was No.").
    text = "The album spent 19 weeks at No. 1 on the chart. It then fell to No. 4 in May."
    assert [s.text for s in split_sentences(text)] == [
        "The album spent 19 weeks at No. 1 on the chart.", "It then fell to No. 4 in May."
    ]


def test_punkt_parameters_read_directly_equal_nltks_own_loader() -> None:
    from llama_index.core.utils import globals_helper
    from nltk.data import find
    from nltk.tokenize.punkt import PunktTokenizer

    globals_helper.wait_for_nltk_check()
    ours = read_punkt_params(Path(find("tokenizers/punkt_tab/english/")))
    theirs = PunktTokenizer("english")._params
    assert ours.abbrev_types == theirs.abbrev_types and len(ours.abbrev_types) > 100
    assert ours.collocations == theirs.collocations and ours.sent_starters == theirs.sent_starters
    assert dict(ours.ortho_context) == dict(theirs.ortho_context) and len(ours.ortho_context) > 10_000
