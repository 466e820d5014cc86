"""Attribution beyond "say": a speech act ("Who hailed X as ...?") asks who said it, and a claim whose subject
is a plural pronoun ("Many of them presented ...") is quoted with the sentence naming who they are."""

from __future__ import annotations

import pytest

from bot.answer import Passage
from bot.answering.analyst.evidence import with_antecedent
from bot.answering.analyst.questions import classify
from bot.answering.extractive import ExtractiveAnswerer
from bot.text.sentences import Span, split_sentences


@pytest.mark.parametrize(
    "question",
    [
        "Who hailed the Bayraktars' showing in Kyrgyzstan as a milestone for the Turkish weapon?",
        "Who accused Kyrgyz forces of striking schools?",
        "Who described the sales as simply business?",
    ],
)
def test_a_speech_act_question_is_attribution(question: str) -> None:
    assert classify(question).kind == "attribution"  # before: default (the verb was not 'say' or the like)


def test_who_opened_is_no_attribution() -> None:
    assert classify("Who opened the drone base?").kind != "attribution"


def test_a_pronoun_subject_is_quoted_with_its_antecedent() -> None:
    text = (
        "Turkish social media users were quick to cheer. Many of them presented the Bayraktars' performance as "
        "another landmark moment for the Turkish weapon.\n\nThey said nothing else."
    )
    p = Passage("c1", text, "d1", "Claims", "d1.md", None, "2022-09-27", "Celebration")
    start = text.index("Many")
    end = text.index("weapon.") + len("weapon.")
    quoted = with_antecedent(p, Span(start, end, text[start:end]))
    assert quoted.text.startswith("Turkish social media users") and quoted.text.endswith("weapon.")
    assert text[quoted.start : quoted.end] == quoted.text  # still a verbatim span
    # A paragraph break before it: the sentence before is not what "they" refers to for sure.
    start = text.index("They said")
    assert with_antecedent(p, Span(start, len(text), text[start:])).start == start
    # No pronoun subject: unchanged.
    assert with_antecedent(p, Span(0, 47, text[:47])).start == 0


def test_who_says_what_quotes_no_sentence_twice_and_prefers_the_topic_asked_about(
    answerer: ExtractiveAnswerer, sections: list[Passage]
) -> None:
    from bot.answering.analyst.timeline import DatedAnswers

    passages = [p for p in sections if "Kerim Has" in p.title]
    found = DatedAnswers(answerer).attributed("What does Kerim Has say about Russia?", passages)
    quoted = [s.text for _, e in found for s in split_sentences(e.span.text)]
    assert len(quoted) == len(set(quoted))  # before: "Still, he sees no Russian countermove ..." twice (dev d38)
    assert any("irritate Russia" in q for q in quoted)  # before: scored seventh, not quoted
    assert all(who == "Kerim Has" for who, _ in found)


@pytest.mark.parametrize(
    "question",
    ["What did Kyrgyz authorities say about the toll?", "Who reported that a drone strike knocked out a tank?"],
)
def test_who_says_what_quotes_statements_not_lead_ins_or_bare_list_items(
    question: str, answerer: ExtractiveAnswerer, sections: list[Passage]
) -> None:
    from bot.answering.analyst.timeline import DatedAnswers
    from bot.text.pos import has_verb

    passages = [p for p in sections if "Official Toll" in p.title or "Tajikistan's Account" in p.title]
    found = DatedAnswers(answerer).attributed(question, passages)
    assert found
    # Before: "By the Kyrgyz count:" and "- Turkish-made Bayraktar combat drones," were quoted, and the
    # verifier could certify neither.
    assert all(not e.span.text.rstrip().endswith(":") and has_verb(e.span.text) for _, e in found)


def test_what_one_party_said_lists_that_partys_claims_only(
    answerer: ExtractiveAnswerer, sections: list[Passage]
) -> None:
    from bot.answering.analyst.timeline import DatedAnswers

    passages = [p for p in sections if "Official Toll" in p.title or "Pursuit of Bayraktar" in p.title]
    found = DatedAnswers(answerer).attributed("What did Qirim News report?", passages)
    # Before: the State Committee's claim was listed under the question too (dev chain d40).
    assert any(who == "Qirim News" for who, _ in found) and all(who in (None, "Qirim News") for who, _ in found)
    who_asked = DatedAnswers(answerer).attributed("Who reported that a drone strike destroyed a tank?", passages)
    assert any(who == "Qirim News" for who, _ in who_asked)  # a "who" question names no speaker to keep
