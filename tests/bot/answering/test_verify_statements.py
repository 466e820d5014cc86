"""What SmolLM2 kept through the verifier when it answered news questions over news articles
(`python -m bench.real_llm --news dev`, before these checks): bare names and phrases, questions asked back, a
claim copied from a passage's title with a quote about something else, a rank taken from the question. The
passages and claims here are written for the tests in the shape of those cases."""

from __future__ import annotations

import pytest

from bot.answer import Passage
from bot.answering.verify import CitationVerifier
from bot.text.embedder import SentenceEmbedder
from bot.text.pos import has_verb


@pytest.fixture(scope="module")
def verifier(embed: SentenceEmbedder) -> CitationVerifier:
    return CitationVerifier(embed)


def passage(text: str, title: str = "Harbour news") -> Passage:
    return Passage(chunk_id=f"c{abs(hash(text))}", text=text, doc_id="d", title=title, source="harbour.md")


AIRPORT = passage(
    "Customs officers were seen at three regional airports on Monday. Officials said the officers would help "
    "with passenger screening while the strike lasts."
)


def check(verifier: CitationVerifier, question: str, text: str, passages: list[Passage]) -> tuple[str, str]:
    c = verifier.verify(question, text, passages).answer.checks[0]
    return c.action, c.reason


@pytest.mark.parametrize("phrase", ["Customs officers [1].", "Regional airports [1]"])
def test_a_bare_phrase_is_not_kept_even_when_its_quote_names_it(verifier: CitationVerifier, phrase: str) -> None:
    action, reason = check(verifier, "Which personnel were sent to the airports?", phrase, [AIRPORT])
    assert action == "dropped"
    assert "not a statement" in reason


def test_the_same_answer_as_a_statement_is_kept(verifier: CitationVerifier) -> None:
    action, _ = check(verifier, "Which personnel were sent to the airports?",
                      "Customs officers were seen at three regional airports on Monday [1].", [AIRPORT])
    assert action == "kept"


def test_a_question_asked_back_is_not_kept(verifier: CitationVerifier) -> None:
    action, reason = check(verifier, "q", "When will the strike at the airports end [1]?", [AIRPORT])
    assert (action, reason) == ("dropped", "a question, not a statement")


def test_a_sentence_restating_the_question_is_not_kept(verifier: CitationVerifier) -> None:
    question = "The officers were sent to help at which regional airports?"
    text = "The officers were sent to help at which regional airports, officials said on Monday [1]."
    action, reason = check(verifier, question, text, [AIRPORT])
    assert action == "dropped"
    assert "restates the question" in reason


def test_words_only_the_title_holds_do_not_back_a_claim(verifier: CitationVerifier) -> None:
    # The claim copies the passage's title; its quote (the passage's only sentence) is about something else.
    cited = passage("The council proposed listing another marsh plant as protected because of habitat loss.",
                    title="Two heron chicks have hatched at Lake Mira, part of a long list of protected birds")
    action, _ = check(verifier, "q", "Two heron chicks have hatched at Lake Mira, part of a long list of "
                      "protected birds [1].", [cited])
    assert action == "dropped"


def test_a_rank_the_span_gives_differently_is_a_swap(verifier: CitationVerifier) -> None:
    cited = passage("The Harbour Cup, often called the fifth major of sailing, began on Thursday at Port Lane.")
    action, reason = check(verifier, "q", "The Harbour Cup, the first major of sailing, began on Thursday at "
                           "Port Lane [1].", [cited])
    assert action == "dropped"
    assert "ordinal" in reason


def test_verbs_tell_statements_from_phrases() -> None:
    assert has_verb("The agreement was signed in Ankara.")
    assert has_verb("Baykar makes the drones.")
    assert not has_verb("Federal officials")
    assert not has_verb("The harbour master's real name")
    assert has_verb("Drones bought by the ministry")  # a participle predicates something: the other checks judge it


def test_a_question_in_the_passage_backs_nothing(verifier: CitationVerifier) -> None:
    # Found on the RealTime QA test split: "Is tax day a federal holiday?" was quoted for "Tax Day is a federal
    # holiday".
    cited = passage("Is the harbour festival a public holiday? Most offices in Port Lane stay open that day.")
    action, _ = check(verifier, "q", "The harbour festival is a public holiday [1].", [cited])
    assert action == "dropped"


def test_a_one_word_which_phrase_restated_is_not_an_answer(verifier: CitationVerifier) -> None:
    question = "The officers were seen at airports in which state?"
    action, reason = check(verifier, question, "Customs officers were seen at airports in which state [1].",
                           [AIRPORT])
    assert action == "dropped" and "restates the question" in reason


def test_a_sentence_ending_on_a_pronoun_or_auxiliary_is_kept_when_its_span_ends_so(
    verifier: CitationVerifier,
) -> None:
    cited = passage("The harbour master said the new pier will open in June, even if the old one never did.")
    action, reason = check(verifier, "q", "The harbour master said the new pier will open in June, even if the old "
                           "one never did [1].", [cited])
    assert action == "kept", reason
    # A model sentence cut off at the same kind of word has no such span.
    action, reason = check(verifier, "q", "The new pier will open in June, the harbour master said that [1].", [cited])
    assert action == "dropped" and "ends on" in reason


def test_a_list_lead_in_alone_is_not_rescued_by_a_span_ending_the_same_way(verifier: CitationVerifier) -> None:
    # SmolLM2 (bench.real_llm --all) wrote the lead-in alone; the passage has it followed by its list.
    cited = passage("Its founding members alongside Norway are:\n\n- Estonia\n- Latvia")
    action, _ = check(verifier, "q", "Its founding members alongside Norway are: [1]", [cited])
    assert action == "dropped"


@pytest.mark.parametrize("claim", [
    "The link between past exposure to traffic noise and prevalent anxiety:",  # a heading
    '"Customs officers were seen at three regional airports" is not true.',  # a judgement about a quote
    "This is a fact.",
])
def test_lead_ins_and_judgements_are_not_statements(verifier: CitationVerifier, claim: str) -> None:
    from bot.answering.statements import not_a_statement

    assert not_a_statement(claim)
    action, _ = check(verifier, "q", f"{claim} [1]", [AIRPORT])
    assert action == "dropped"


def test_a_statement_about_truth_in_the_world_is_still_a_statement() -> None:
    from bot.answering.statements import not_a_statement

    assert not not_a_statement("Officials said the report was accurate in most respects.")
    assert not not_a_statement("The minister confirmed that accounts of the deliveries were correct.")
    assert not not_a_statement("In May the port signed a deal covering two kinds of equipment:")
    assert not not_a_statement("Customs officers were seen at three regional airports on Monday.")
