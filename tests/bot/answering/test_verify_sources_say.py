"""What SmolLM2 still got kept on the RealTime QA test weeks (`python -m bench.real_llm --news test`) and on
SciFact set 1 (`--scifact 1`), 2026-12-07: a heading line as the quote, a list of names as the answer, a bare
"X is Y" answer whose predicate only the question held, a part of a claim that no quote says. Written for the
tests in the shape of those cases."""

from __future__ import annotations

import pytest

from bot.answer import Passage
from bot.answering.aligner import heading_line
from bot.answering.statements import left_to_question, verbless
from bot.answering.verify import CitationVerifier
from bot.text.embedder import SentenceEmbedder
from bot.text.sentences import split_sentences


@pytest.fixture(scope="module")
def verifier(embed: SentenceEmbedder) -> CitationVerifier:
    return CitationVerifier(embed)


def passage(text: str, title: str = "Harbour news") -> Passage:
    return Passage(chunk_id=f"c{abs(hash(text))}", text=text, doc_id="d", title=title, source="harbour.md")


def check(verifier: CitationVerifier, question: str, text: str, passages: list[Passage]) -> tuple[str, str]:
    c = verifier.verify(question, text, passages).answer.checks[0]
    return c.action, c.reason


RANKING = passage(
    "Cleanest air in the region\n\nThe coastal towns breathe better than the valley this spring.\n\n"
    "Valley towns ranked last on ozone for the third year."
)


def test_heading_lines_are_found_and_sentences_are_not() -> None:
    text = RANKING.text
    found = {s.text: heading_line(text, s) for s in split_sentences(text)}
    assert found["Cleanest air in the region"] is True
    assert found["The coastal towns breathe better than the valley this spring."] is False
    listed = "Counts by the harbour office:\n- 12 boats lost\n- 40 nets torn"
    assert not any(heading_line(listed, s) for s in split_sentences(listed))  # list items and lead-ins stay


def test_a_heading_line_backs_nothing(verifier: CitationVerifier) -> None:
    action, _ = check(verifier, "Where is the air cleanest?", "The cleanest and dirtiest air in the region [1].",
                      [RANKING])
    assert action == "dropped"
    action, _ = check(verifier, "Where is the air cleanest?",
                      "The coastal towns breathe better than the valley this spring [1].", [RANKING])
    assert action == "kept"


def test_a_long_verbless_list_of_names_is_not_a_statement() -> None:
    names = "Port Ellen, Islay Tobermory, Mull Stornoway, Lewis Kirkwall, Orkney Lerwick, Shetland and Oban, Argyll"
    assert verbless(names)
    assert not verbless("The ferries from Port Ellen, Tobermory and Stornoway were cancelled on Monday")


CARRIERS_Q = "Which two carriers are rumored to be in merger talks?"
RIVALRY = passage(
    "Southjet won the route only after Northwind had to give up two gates to meet regulators' merger-related "
    "concerns on the island service."
)
TALKS = passage(
    "The two carriers Northwind and Southjet are rumored to be in merger talks, people familiar with the matter said."
)


def test_a_bare_answer_leaves_its_predicate_to_the_question() -> None:
    assert left_to_question("The two carriers are Northwind and Southjet.", CARRIERS_Q) == {"rumor", "merger", "talk"}
    # A claim with a verb of its own states its predicate; one that only repeats the question adds nothing.
    assert not left_to_question("Northwind said two carriers were in talks.", CARRIERS_Q)
    assert not left_to_question("The two carriers are in merger talks.", CARRIERS_Q)


def test_a_bare_answer_needs_a_quote_that_says_what_the_question_asked(verifier: CitationVerifier) -> None:
    bare = "The two carriers are Northwind and Southjet."
    action, _ = check(verifier, CARRIERS_Q, bare, [RIVALRY])
    assert action == "dropped"
    action, _ = check(verifier, CARRIERS_Q, bare, [TALKS])
    assert action in ("kept", "repointed")


FILING = passage(
    "Filing day, the last day to send a return, falls on April 15 almost every year unless that day meets a "
    "weekend or a holiday."
)


def test_a_predicate_the_quote_only_seems_to_share_is_not_certified(verifier: CitationVerifier) -> None:
    # "Tax Day 2024 is a federal holiday, and it's only a federal holiday in 2024." was kept with a quote about
    # the day moving for a holiday (SmolLM2, RealTime QA test weeks); its second part is in no quote.
    claim = "Filing day is a federal holiday, and it is only a federal holiday this year [1]."
    action, reason = check(verifier, "What day is filing day?", claim, [FILING])
    assert action == "dropped"
    assert "a part of the claim is not in its quote" in reason
    kept = check(verifier, "What day is filing day?", "Filing day falls on April 15 almost every year [1].", [FILING])
    assert kept[0] == "kept"


SURGERY = passage("Diabetic patients had a higher rate of bypass surgery than other patients (23% versus 20%).")


def test_every_part_of_a_claim_needs_its_words_in_the_quote(verifier: CitationVerifier) -> None:
    # SmolLM2 on SciFact: a true sentence with an inference appended was carried by its true part.
    true = "Diabetic patients had a higher rate of bypass surgery than other patients [1]."
    extended = ("Diabetic patients had a higher rate of bypass surgery than other patients, which may indicate a "
                "potential link between diabetes and poor health [1].")
    assert check(verifier, "q", true, [SURGERY])[0] == "kept"
    action, reason = check(verifier, "q", extended, [SURGERY])
    assert action == "dropped"
    assert "a part of the claim is not in its quote" in reason


def test_a_longer_quote_from_the_same_place_gets_its_own_footnote(verifier: CitationVerifier) -> None:
    # One footnote per distinct quote: a claim whose span runs on into the next sentence must not reuse the
    # one-sentence footnote an earlier claim got at the same place (its quote would lack the claim's facts).
    trial = passage("The trial enrolled 500 nurses in 2001. It ran in Canada, in four provinces.")
    text = "The trial enrolled 500 nurses in 2001 [1]. The trial enrolled 500 nurses, and it ran in Canada [1]."
    answer = verifier.verify("q", text, [trial]).answer
    assert [c.action for c in answer.checks] == ["kept", "kept"]
    quotes = [c.quote for c in answer.citations]
    assert len(quotes) == 2 and "Canada" not in quotes[0] and "Canada" in quotes[1]
    assert answer.text.endswith("[2].")
