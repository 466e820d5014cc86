"""Comparison-table fixes found on the seventh round's dev questions (n27-n31), on the sample documents' own
sections: comparison idioms ("stack up", "differ in X"), a title fills the role column whatever else the
sentence fits, a list item is quoted with its lead-in, rows compared on their own accounts keep what they say
about another row, a "both A and B" clause is each row's, and "The outlet X reported" names X."""

from __future__ import annotations

from bot.answer import Passage, Table
from bot.answering.analyst.attribution import speaker
from bot.answering.analyst.compare import NOT_STATED, Footnotes, TableBuilder
from bot.answering.analyst.evidence import lead_in_with_list, sentences
from bot.answering.analyst.questions import classify, comparison_parts, is_when
from bot.answering.extractive import ExtractiveAnswerer


def _table(answerer: ExtractiveAnswerer, question: str, passages: list[Passage]) -> Table:
    return TableBuilder(answerer).extractive(question, classify(question), passages, Footnotes())


def _sections(sections: list[Passage], *headings: str) -> list[Passage]:
    return [p for p in sections if p.heading in headings]


def _cell(table: Table, row: str, column: int = 0) -> str:
    return next(r for r in table.rows if r.label == row).cells[column].text


def test_comparison_idioms_and_the_facet_after_differ_in() -> None:
    aq = classify("How do Turkmenistan and Uzbekistan stack up on buying Bayraktar TB2s?")
    assert aq.kind == "compare"  # before: the default strategy, no table
    assert (aq.entities, aq.facets) == (("Turkmenistan", "Uzbekistan"), ("buying Bayraktar TB2s",))
    # Before: "CSTO" was a third row and the column "membership".
    assert comparison_parts("Do Kyrgyzstan and Tajikistan differ in CSTO membership?") == (
        ("Kyrgyzstan", "Tajikistan"),
        ("CSTO membership",),
    )
    # "in" alone is no facet lead: a period stays out of the facet.
    assert comparison_parts("Compare Kyrgyzstan and Tajikistan in 2022 on drone purchases")[1] == ("drone purchases",)


def test_a_title_fills_the_role_column_though_another_column_fits_too(
    answerer: ExtractiveAnswerer, sections: list[Passage]
) -> None:
    passages = _sections(sections, "A defence pact signed in Ankara", "Kyrgyz complaints to Ankara", "Turning east")
    table = _table(answerer, "Compare Hulusi Akar and Jeenbek Kulubaev on country and position.", passages)
    assert "Defence Minister Hulusi Akar" in _cell(table, "Hulusi Akar", 1)  # before: not stated
    assert "foreign minister" in _cell(table, "Jeenbek Kulubaev", 1)


def test_a_both_clause_is_each_row_s(answerer: ExtractiveAnswerer, sections: list[Passage]) -> None:
    passages = _sections(
        sections, "Regional security organisations", "Conflicting signals about a contract", "Why Tajikistan is outside"
    )
    table = _table(answerer, "Do Kyrgyzstan and Tajikistan differ in CSTO membership?", passages)
    for row in ("Kyrgyzstan", "Tajikistan"):  # before: Tajikistan's cell was a sentence about a Baykar contract
        assert "both Kyrgyzstan and Tajikistan belong" in _cell(table, row)


def test_accounts_keep_what_a_row_says_about_another_and_list_items_keep_their_lead_in(
    answerer: ExtractiveAnswerer, sections: list[Passage]
) -> None:
    online = next(p for p in sections if p.heading == "Claims circulating online")
    claim = next(s for s in sentences(online) if "Qirim News" in s.text)
    assert speaker(claim, online) == "Qirim News"  # before: None ("The outlet Qirim News reported ...")
    passages = [online, *_sections(sections, "What Tajik media accused Kyrgyz forces of", "A reversal of fortunes")]
    table = _table(answerer, "Compare Qirim News and the Tajik press on their claims about drone strikes.", passages)
    assert "T-72" in _cell(table, "Qirim News")  # before: not stated (the claim names a Tajik tank)
    tajik = _cell(table, "Tajik")
    assert tajik != NOT_STATED and tajik.startswith("According to those reports")  # before: the bare list item
    assert "Bayraktar" in tajik


def test_a_when_column_dates_the_row_s_own_cell(answerer: ExtractiveAnswerer, sections: list[Passage]) -> None:
    question = "Compare Russia and Turkey on what they sold Kyrgyzstan and when."
    # Before: the "when" column was dropped (a question word, no content).
    assert comparison_parts(question) == (("Russia", "Turkey"), ("what they sold Kyrgyzstan", "when"))
    assert is_when("when") and is_when("in what year") and not is_when("whenever they could")
    passages = _sections(sections, "Purchases from Russia", "Risks for Turkey")
    table = _table(answerer, question, passages)
    assert table.columns == ["what they sold Kyrgyzstan", "when"]
    assert _cell(table, "Russia", 1).startswith("In February 2021 Kyrgyzstan concluded an agreement with Russia")
    assert "S-300" not in _cell(table, "Russia", 1)  # the date's clause, not the list it leads into
    # The Turkey cell states no date: no other sentence's date is borrowed for it.
    assert _cell(table, "Turkey", 1) == NOT_STATED


def test_a_list_of_whole_sentences_is_quoted_item_by_item_a_list_of_fragments_with_its_lead_in() -> None:
    claims = (
        "Two claims drew attention:\n\n1. The outlet reported that a strike hit a tank.\n"
        "2. Others said troops won back five villages."
    )
    parts = "Kyrgyz units used:\n\n- military helicopters, and\n- Turkish-made Bayraktar combat drones."
    for text, whole in ((claims, False), (parts, True)):
        passage = Passage("c1", text, "d1", "T", "d1.md")
        item = sentences(passage)[1]
        found = lead_in_with_list(passage, item)
        # Before: "Two claims drew attention: 1. The outlet ..." was one cell, and its "1." a figure (dev n31).
        assert (found is not None and found.text.startswith(text.split(":")[0])) == whole
