"""Analyst rules on counted things (real MiniLM embedder): a word of the same counted class stands for the
question's word ("lives" ~ "died"), a sentence with one figure is read whole, and a question asking each of
several parties for its figure is a list of facts, not a disagreement."""

from __future__ import annotations

import pytest

from bot.answer import Passage
from bot.answering.analyst.compare import TableBuilder
from bot.answering.analyst.conflicts import ConflictFinder
from bot.answering.analyst.evidence import count_synonyms, quantities
from bot.answering.extractive import ExtractiveAnswerer


def passage(n: int, text: str, title: str, date: str | None = "2022-10-01") -> Passage:
    return Passage(f"c{n}", text, f"d{n}", title, f"d{n}.md", None, date, "")


KYRGYZ_TOLLS = [
    passage(1, "By the Kyrgyz count, 59 people lost their lives.", "Kyrgyzstan's Official Toll", "2022-09-27"),
    passage(
        2,
        "Kyrgyzstan's Health Ministry now puts the number of Kyrgyz citizens killed in the September 2022 fighting "
        "at 63.",
        "Kyrgyz Health Ministry Revises Its Toll",
        "2022-12-20",
    ),
    passage(3, "The Tajik government puts the number of people killed on its side at 41.", "Tajikistan's Account"),
]


def test_count_synonyms_are_words_of_one_counted_class() -> None:
    assert count_synonyms("lives", "died") and count_synonyms("killed", "dead") and count_synonyms("Deaths", "toll")
    assert not count_synonyms("wounded", "killed") and not count_synonyms("citizens", "died")


def test_a_figure_counts_a_synonym_of_the_focus_and_a_lone_figure_is_read_whole(answerer: ExtractiveAnswerer) -> None:
    finder = ConflictFinder(answerer)
    focus = {"citizens", "died"}
    lives = "59 people lost their lives;"
    assert finder._counts_focus(lives, quantities(lives, set())[0], focus)  # "lives" ~ "died"
    far = KYRGYZ_TOLLS[1].text  # "killed" is eight words before its only figure
    assert finder._counts_focus(far, quantities(far, set())[0], focus)
    # With two figures (a number word counts) the window still tells them apart: 139 is wounded, not dead.
    two = "Of the wounded, some 139 people were in hospital for weeks, while ten of them later died of their injuries."
    first = next(q for q in quantities(two, set()) if q.value == 139)
    assert not finder._counts_focus(two, first, focus)


def test_one_party_s_two_tolls_disagree_but_each_party_s_figure_is_no_conflict(answerer: ExtractiveAnswerer) -> None:
    finder = ConflictFinder(answerer)
    conflict, evidence = finder.figures("Is there any disagreement over how many Kyrgyz citizens died?", KYRGYZ_TOLLS)
    assert conflict is not None
    assert {"59", "63"} <= {q for e in evidence for q in ("59", "63") if q in e.span.text}
    each, _ = finder.figures("How many people did Tajikistan and Kyrgyzstan each say were killed?", KYRGYZ_TOLLS)
    assert each is None


def test_a_count_cell_is_found_in_the_sentence_s_own_word_for_the_counted_class(answerer: ExtractiveAnswerer) -> None:
    passages = [
        *KYRGYZ_TOLLS,
        passage(4, "Tajikistan's figure is lower than the toll the Kyrgyz side published.", "Tajikistan's Account"),
        passage(5, "Each government has put out its own count of the dead and injured.", "Tajikistan's Account"),
        passage(6, "The Tajik side said drones had struck a mosque and a school.", "Tajikistan's Account"),
    ]
    tables = TableBuilder(answerer)
    # "dead" is not in the sentence; "killed", of the same class, is: the query is also read in its word.
    cell = tables.cell_evidence("figures for the dead", "Tajikistan", ["Kyrgyzstan", "Tajikistan"], passages)
    assert cell is not None and "41" in cell.span.text
    # The variant query only lends its score to sentences using its word: the toll sentence has no figure anyway,
    # and a wounded count is still no dead count.
    assert tables.cell_evidence("figures for the wounded", "Tajikistan", ["Kyrgyzstan", "Tajikistan"], passages) is None


@pytest.mark.parametrize(
    ("sentence", "title", "party"),
    [
        ("They put the toll at 41.", "Tajikistan's account", "tajik"),  # "They" ends like "Turkey"
        ("These figures put the toll at 41.", "Tajikistan's account", "tajik"),  # "These" like "Chinese"
        ("They said the Kyrgyz side lost 59.", "Report", "kyrgyz"),
        ("These numbers reflect the losses.", "Report", None),
    ],
)
def test_a_function_word_that_ends_like_a_demonym_names_no_party(sentence: str, title: str, party: str | None) -> None:
    from bot.answering.analyst.attribution import owner

    assert owner(sentence, passage(1, sentence, title)) == party


TOTALS = [
    passage(
        6,
        "According to Border Watch, 81 people were killed in total in the September 2022 clashes, on both sides "
        "of the border combined.",
        "Border Watch",
        "2022-11-15",
    ),
    passage(7, "Taken together, the fighting was said to have killed close to 100 people.", "The September Fighting"),
]


def test_a_question_naming_its_source_asks_for_that_source_s_figure(answerer: ExtractiveAnswerer) -> None:
    finder = ConflictFinder(answerer)
    overall, _ = finder.figures("How many people were killed in total?", TOTALS)
    assert overall is not None  # two sources' totals disagree
    named, evidence = finder.figures("How many people did Border Watch count as killed?", TOTALS)
    assert named is None  # ... but the question asks for one source's figure
    assert evidence and all("Border Watch" in e.span.text for e in evidence)


def test_a_list_items_enumerator_is_not_a_quantity() -> None:
    assert [q.value for q in quantities("1. The outlet reported that 3 tanks were hit.", set())] == [3.0]
