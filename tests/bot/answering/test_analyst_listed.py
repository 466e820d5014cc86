"""Fixes found on the ninth round's dev questions (n77-n99), on the sample documents' own sections."""

from __future__ import annotations

from bot.answer import Passage
from bot.answering.analyst.compare import TableBuilder
from bot.answering.analyst.conflicts import ConflictFinder
from bot.answering.analyst.facets import country_facet, placed
from bot.answering.analyst.questions import classify, timeline_parts, topic
from bot.answering.analyst.router import AnalystRouter
from bot.answering.extractive import ExtractiveAnswerer, ExtractiveStrategy
from bot.text.terms import content_terms


def _sections(sections: list[Passage], *headings: str) -> list[Passage]:
    return [p for p in sections if p.heading in headings]


def test_a_lead_in_without_a_figure_stands_for_its_list_item(
    answerer: ExtractiveAnswerer, sections: list[Passage]
) -> None:
    # Dev n94: "By the Kyrgyz count:" scored for the question, its item "59 people lost their lives;" did not.
    passages = _sections(sections, "Figures released by the Kyrgyz side", "A higher official figure")
    question = "How many Kyrgyz citizens died in the September 2022 border fighting?"
    conflict, evidence = ConflictFinder(answerer).figures(question, passages)
    assert conflict is not None  # before: None, the 59 toll was never read
    texts = [e.span.text for e in evidence]
    assert any(t.startswith("59 people lost their lives") for t in texts) and any("at 63" in t for t in texts)
    assert not any("139" in t for t in texts)  # the item counting the asked class, not the wounded


def test_a_lead_in_for_another_class_gives_that_class_item(
    answerer: ExtractiveAnswerer, sections: list[Passage]
) -> None:
    passages = _sections(sections, "Figures released by the Kyrgyz side")
    conflict, evidence = ConflictFinder(answerer).figures("How many people were wounded on the Kyrgyz side?", passages)
    assert conflict is None
    assert any(e.span.text.startswith("139 further people") for e in evidence)


def test_which_of_a_or_b_is_a_comparison_of_the_options() -> None:
    # Dev n87, n99: before, default answers (no table).
    aq = classify("Which of Turkmenistan or Kyrgyzstan bought TB2s first?")
    assert (aq.kind, aq.entities, aq.facets) == ("compare", ("Turkmenistan", "Kyrgyzstan"), ("bought TB2s first",))
    aq = classify("Which of Kyrgyzstan, Tajikistan or Azerbaijan belongs to the Organization of Turkic States?")
    assert aq.entities == ("Kyrgyzstan", "Tajikistan", "Azerbaijan")
    assert aq.facets == ("belongs to the Organization of Turkic States",)
    assert classify("Which of the drones did Kyrgyzstan buy?").kind != "compare"  # one name: no options
    # Review: a possessive names no options ("Which of Baykar's drones ..." compares nothing).
    assert classify("Which of Baykar's drones did Kyrgyzstan buy?").kind != "compare"
    assert classify("Who of Erdogan's ministers visited Dushanbe?").kind != "compare"
    assert classify("Which came first: the S-300 deal or the drone base?").kind == "timeline"


def test_a_colon_after_the_names_leads_the_facets() -> None:
    # Dev n88: before, one column "countries posts".
    aq = classify("Akar vs Mirzo: countries and posts")
    assert (aq.entities, aq.facets) == (("Akar", "Mirzo"), ("countries", "posts"))


def test_a_row_that_speaks_is_given_its_own_statement_not_another_party_s_about_it(
    answerer: ExtractiveAnswerer, sections: list[Passage]
) -> None:
    # Dev n90: the Baykar cell quoted the Kyrgyz State Committee saying Tajikistan had no contract with Baykar.
    passages = _sections(sections, "Conflicting signals about a contract", "The denial", "The report")
    rows = ["Dushanbe Herald", "Baykar"]
    e = TableBuilder(answerer).cell_evidence("Tajikistan's drones", "Baykar", rows, passages, ["Tajikistan's drones"])
    assert e is not None and "Baykar spokesperson denied" in e.span.text  # before: the committee's sentence
    # A row that says nothing on the facet keeps the other party's sentence about it.
    e = TableBuilder(answerer).cell_evidence(
        "a contract", "Baykar", rows, _sections(sections, "Conflicting signals about a contract"), ["a contract"]
    )
    assert e is not None and "had not concluded a contract with Baykar" in e.span.text


def test_a_person_s_country_is_the_sentence_naming_it_next_to_them(
    answerer: ExtractiveAnswerer, sections: list[Passage]
) -> None:
    # Dev n88: the Mirzo "countries" cell quoted his factory tour, which names no country of his.
    assert placed("In early April 2022, Tajik Defence Minister Sherali Mirzo travelled to Ankara", "Mirzo")
    assert not placed("During the same trip Mirzo toured the factory where the Bayraktars are built", "Mirzo")
    assert country_facet(content_terms("countries")) and country_facet(content_terms("nationality"))
    assert not country_facet(content_terms("drone purchases"))
    passages = _sections(sections, "A defence pact signed in Ankara")
    e = TableBuilder(answerer).cell_evidence("countries", "Mirzo", ["Akar", "Mirzo"], passages, ["countries", "posts"])
    assert e is not None and "Tajik Defence Minister Sherali Mirzo" in e.span.text


def test_a_timeline_of_several_subjects_retrieves_each(answerer: ExtractiveAnswerer) -> None:
    # Dev n24: "the region's drone and arms deals" retrieved no passage on the Russian S-300 deal.
    parts = timeline_parts("Before the fighting, what were the milestones in the drone and arms deals? By date.")
    assert parts is not None and any(p.startswith("arms deals") for p in parts)
    assert timeline_parts("Give me a timeline of the ceasefire talks.") is None  # one subject
    assert timeline_parts("What happened between December 2022 and March 2023?") is None  # dates only
    router = AnalystRouter(ExtractiveStrategy(answerer), answerer)
    parts = router.retrieval_parts("Lay out chronologically: its drone sales, the bloc it led and its pacts.")
    assert parts is not None and parts[-3:] == ["its drone sales", "the bloc it led", "its pacts"]
    assert topic("Chronology of the ceasefire") == "of the ceasefire"  # before: "y of the ceasefire"


def test_a_long_timeline_list_is_a_few_retrievals_not_dozens() -> None:
    from bot.answering.analyst.questions import MAX_TIMELINE_PARTS, timeline_parts

    question = "Timeline of " + ", ".join(f"the drone deal number {n}" for n in range(60)) + "?"
    parts = timeline_parts(question)
    assert parts is not None and len(parts) == MAX_TIMELINE_PARTS
