"""Offline follow-up rewriting over several turns, against the previous questions AND answers."""

from __future__ import annotations

from bot.conversation import Turn
from bot.followups import looks_like_followup, rewrite_offline


def converse(*exchanges: tuple[str, str]) -> list[str]:
    """Rewrite each question against the turns before it (answers as given); the rewritten questions."""
    turns: list[Turn] = []
    out = []
    for question, answer in exchanges:
        rewritten = rewrite_offline(question, turns)
        out.append(rewritten)
        turns.append(Turn(question=question, answer=answer, rewritten=rewritten if rewritten != question else None))
    return out


def test_three_turn_chain_from_the_issue_keeps_the_new_subject() -> None:
    first, second, third = converse(
        ("How many died on the Tajik side?", "Tajikistan puts its death toll at 41 [1]."),
        ("And what did Kyrgyzstan say?", "The Kyrgyz say 59 people were killed and 139 others injured [1]."),
        ("How many were wounded then?", "139 others injured [1]."),
    )
    assert first == "How many died on the Tajik side?"
    assert second == "How many died on the Kyrgyzstan side?"
    # "then" marks ellipsis; the subject of the turn before (not the first turn's Tajik side) carries over.
    assert "Kyrgyzstan" in third and "Tajik" not in third and third.startswith("How many were wounded")


def test_pronoun_takes_the_name_the_previous_answer_gave() -> None:
    _, owner, buyers = converse(
        ("Which company builds the Bayraktar drones?",
         "Mirzo met with the managers of Baykar, the company producing the drones [1]."),
        ("Who owns it?", "It is owned by the family of Erdogan's younger son-in-law [1]."),
        ("Which countries are negotiating with it?", "Uzbekistan and Kazakhstan are in talks with Baykar [1]."),
    )
    assert owner.startswith("Who owns Baykar")
    assert "Baykar" in buyers


def test_person_pronouns_take_a_person_and_titles_are_dropped() -> None:
    _, partner, name = converse(
        ("Which Tajik minister visited Turkey in April?",
         "Tajik Defense Minister Sherali Mirzo and his Turkish counterpart, Hulusi Akar, signed it [1]."),
        ("Who did he sign an agreement with?", "Hulusi Akar [1]."),
        ("What was it called?", "A Military Framework Agreement [1]."),
    )
    assert partner.startswith("Who did Sherali Mirzo sign an agreement with")
    # "it" is the agreement, not the person the previous "Who ..." turn asked for.
    assert name.startswith("What was it called") and "Sherali Mirzo" in name


def test_a_pronoun_blocks_the_subject_swap() -> None:
    _, why = converse(
        ("When was the OTS founded?", "The OTS was set up in November 2021 [1]."),
        ("Why isn't Tajikistan in it?", "Its population is mostly Persian-speaking [1]."),
    )
    assert why.startswith("Why isn't Tajikistan in it") and "OTS" in why


def test_refused_answers_give_no_referent() -> None:
    _, follow = converse(
        ("Which company builds the drones?", "The documents I have don't answer this question."),
        ("Who owns it?", ""),
    )
    assert follow.startswith("Who owns it")


def test_context_carries_over_four_turns() -> None:
    rewrites = converse(
        ("When was the Organization of Turkic States created?", "In November 2021 [1]."),
        ("Which countries founded it with Turkey?", "Azerbaijan, Kazakhstan, Kyrgyzstan and Uzbekistan [1]."),
        ("Why isn't Tajikistan part of it?", "Its population is predominantly Persian-speaking [1]."),
        ("How did they react when its secretary-general sided with Kyrgyzstan?", "Tajikistan protested [1]."),
    )
    assert all("Organization of Turkic States" in r for r in rewrites)


def test_standalone_questions_are_left_alone() -> None:
    last = Turn(question="How many died on the Tajik side?", answer="41 [1].")
    q = "Who manufactures the Bayraktar TB2 drones?"
    assert not looks_like_followup(q) and rewrite_offline(q, [last]) == q
    assert rewrite_offline("And what did Kyrgyzstan say?", []) == "And what did Kyrgyzstan say?"
    assert looks_like_followup("How many were wounded then?") and looks_like_followup("Did they sell them too?")


def test_a_demonstrative_takes_the_name_the_answer_bound_to_its_noun() -> None:
    _, owner = converse(
        ("Who makes the TB2?", "Mirzo held talks with executives of Baykar, the drone's manufacturer [1]."),
        ("Who is that company owned by?", "The family of Erdogan's younger son-in-law [1]."),
    )
    assert owner.startswith("Who is Baykar owned by")


def test_a_name_merely_near_the_noun_is_not_bound_to_it() -> None:
    _, when = converse(
        ("Which air defense systems did Kyrgyzstan agree to buy from Russia?",
         "In February 2021, Kyrgyzstan also reached a deal with Russia to buy S-300 systems [1]."),
        ("When was that deal made?", "February 2021 [1]."),
    )
    assert when.startswith("When was that deal made") and "Russia" in when


def test_plural_and_person_pronouns_over_several_turns() -> None:
    _, served, _, visited = converse(
        ("When did Kyrgyzstan receive the Bayraktar drones?", "In December 2021 [1]."),
        ("Who were they put in the service of?", "The border guard [1]."),
        ("Who is Kerim Has?", "Kerim Has is a Turkish academic based in Moscow [1]."),
        ("Where is he based?", "In Moscow [1]."),
    )
    assert served.startswith("Who were the Bayraktar drones put in the service of")
    assert visited.startswith("Where is Kerim Has based")
    # A wh-phrase is not what "they" stands for, nor is a verb ending in -s.
    _, first = converse(("Who makes the TB2?", "Baykar [1]."), ("Which country bought them first?", ""))
    assert "Who makes" not in first


def test_a_follow_up_with_its_own_subject_gets_no_guessed_referent_as_context() -> None:
    """'Which city ...?' answered without the word 'city': the referent read off the answer is a guess (the
    first name, 'Turkish'); a follow-up naming its own subject is not sent after it. An elliptical follow-up
    that names nothing still gets it."""
    _, city, view = converse(
        ("What does Kerim Has do for a living?", "Kerim Has is an academic [1]."),
        ("Which city does he work from?", "Kerim Has is a Turkish academic based in Moscow [1]."),
        ("What does he think the drones do to the clashes?", "They make them longer [1]."),
    )
    assert city == "Which city does Kerim Has work from?"
    assert view == "What does Kerim Has think the drones do to the clashes?"
    _, since = converse(
        ("Which company builds the Bayraktar drones?", "Baykar, the company producing the drones, builds them [1]."),
        ("Since when?", "Not stated."),
    )
    assert "Baykar" in since
    _, since = converse(
        ("Which city does Kerim Has work from?", "Kerim Has is a Turkish academic based in Moscow [1]."),
        ("Since when?", "Not stated."),
    )
    assert "Turkish" not in since


def test_a_bare_wh_question_asks_the_previous_clause_again() -> None:
    turn = Turn("Where did Turkey have to move its Ethiopian embassy?", "Ankara moved its embassy to Kenya [1].")
    assert rewrite_offline("Why?", [turn]) == "Why did Turkey have to move its Ethiopian embassy?"
    assert rewrite_offline("And when?", [turn]) == "When did Turkey have to move its Ethiopian embassy?"
    # No clause to reuse: the previous names are context, as for any follow-up.
    counted = Turn("How many died on the Tajik side?", "Tajikistan puts its death toll at 41 [1].")
    assert rewrite_offline("Why?", [counted]) == "Why (Tajik)?"


def test_when_did_that_happen_is_a_bare_wh_question() -> None:
    turn = Turn("Why did Turkey relocate its Ethiopian embassy?", "Ankara was forced to relocate it [1].")
    assert rewrite_offline("When did that happen?", [turn]) == "When did Turkey relocate its Ethiopian embassy?"
    assert rewrite_offline("And when was that?", [turn]) == "When did Turkey relocate its Ethiopian embassy?"


def test_a_new_name_with_a_new_word_is_a_new_question_not_a_swap() -> None:
    houses = Turn("And how many houses were damaged (Kyrgyz)?", "613 houses were damaged [1].")
    # "toll" is not in the previous question: the old question about Tajik houses would lose it, and the old
    # name is no context for it.
    assert rewrite_offline("What about the Tajik toll?", [houses]) == "What about the Tajik toll?"
    # A word for a party's side or voice still asks the old question of the new name.
    assert rewrite_offline("And the Tajik side?", [houses]) == "And how many houses were damaged (Tajik)?"
    killed = Turn("How many people did Tajikistan say were killed?", "41 [1].")
    assert rewrite_offline("And what did Kyrgyzstan report?", [killed]) == (
        "How many people did Kyrgyzstan say were killed?")


def test_review_a_new_word_is_a_new_question_only_in_a_verbless_fragment() -> None:
    died = Turn("How many died on the Tajik side?", "41 [1].")
    for question in ("And the Kyrgyz figure?", "And the Kyrgyz tally?", "And the Kyrgyz one?"):
        assert rewrite_offline(question, [died]) == "How many died on the Kyrgyz side?", question
    bought = Turn("How many drones did Kyrgyzstan buy from Turkey in 2021?", "3 [1].")
    assert rewrite_offline("And how many did Tajikistan order?", [bought]) == (
        "How many drones did Tajikistan buy from Turkey in 2021?")


def test_one_new_name_replaces_one_old_name_not_all() -> None:
    turn = Turn("What did Kyrgyzstan buy from Russia?", "S-300 air defence systems [1].")
    assert rewrite_offline("And Tajikistan?", [turn]) == "What did Tajikistan buy from Russia?"
    assert rewrite_offline("What about from Turkey?", [turn]) == "What did Kyrgyzstan buy from Turkey?"


def test_review_followup_cases() -> None:
    sold = Turn("What did Turkey sell to Kyrgyzstan?", "Turkey sold TB2 drones to Kyrgyzstan [1].")
    # a request with no name of its own leans on the conversation
    assert "Turkey" in rewrite_offline("Describe the deal.", [sold])
    assert rewrite_offline("Describe the deal.", [sold]).startswith("Describe the deal (")
    # relative time in a question that names what it is about is no follow-up
    standalone = "Who was the president of Kazakhstan at the time of the 1991 referendum?"
    assert rewrite_offline(standalone, [sold]) == standalone
    # the one new name replaces the subject, not a model name or modifier
    bought = Turn("How many TB2 drones did Kyrgyzstan buy?", "Kyrgyzstan bought 3 [1].")
    assert rewrite_offline("And Tajikistan?", [bought]) == "How many TB2 drones did Tajikistan buy?"
    bayraktar = Turn("How many Bayraktar drones did Kyrgyzstan buy?", "3 [1].")
    assert rewrite_offline("What about Tajikistan?", [bayraktar]) == "How many Bayraktar drones did Tajikistan buy?"
    # a name ends at its possessive, apostrophe alone or with s
    bare = Turn("What is Kerim Has' field?", "Eurasian affairs [1].")
    assert rewrite_offline("In which city does he live?", [bare]) == "In which city does Kerim Has live?"
    address = Turn("What is Kerim Has's Moscow address?", "Not stated.")
    assert rewrite_offline("Where does he work?", [address]) == "Where does Kerim Has work?"


def test_a_request_with_its_own_topic_is_no_followup() -> None:
    turn = Turn("What happened in April at the border?", "In April 2022 another deadly episode took place [1].")
    assert not looks_like_followup("Summarize the Tajik account.")
    assert rewrite_offline("Summarize the Tajik account.", [turn]) == "Summarize the Tajik account."
    assert looks_like_followup("Summarize it.") and looks_like_followup("Tell me more.")


def test_a_pronoun_takes_the_name_without_the_possessive_it_was_asked_with() -> None:
    turn = Turn("What is Kerim Has's field?", "Kerim Has is a Turkish academic based in Moscow [1].")
    assert rewrite_offline("In which city does he live?", [turn]) == "In which city does Kerim Has live?"
    assert rewrite_offline("What is his view of Iran?", [turn]) == "What is Kerim Has's view of Iran?"


def test_time_told_relative_to_the_previous_turn_is_a_followup() -> None:
    turn = Turn("Who opened the drone base?", "President Sadyr Japarov opened the base on 13 September [1].")
    assert looks_like_followup("What happened the next day at the border?")
    assert looks_like_followup("What was decided a week later about the talks?")
    # ... unless the question names what it is about (review)
    assert not looks_like_followup("When did the Soviet Union collapse and what happened the next day in Moscow?")
    rewritten = rewrite_offline("What happened the next day at the border?", [turn])
    assert rewritten != "What happened the next day at the border?"
    assert "drone" in rewritten and "base" in rewritten  # the event the day is counted from


def test_a_bare_wh_question_after_a_who_question_is_not_forced_into_its_clause() -> None:
    turn = Turn("Who is Turkey's ambassador to Tajikistan?", "The documents don't say.")
    assert rewrite_offline("When?", [turn]) != "When is Turkey's ambassador to Tajikistan?"
    assert not rewrite_offline("How so?", [Turn("Why did Turkey move its embassy?", "Threats [1].")]).startswith(
        "How did"
    )


def test_a_demonstrative_is_not_given_the_name_a_pronoun_of_the_same_question_stands_for() -> None:
    turns = [
        Turn("What did the OTS secretary-general do?", "The OTS secretary-general backed Kyrgyzstan [1]."),
        Turn("How did Tajikistan react?", "Tajikistan lodged protests [1].",
             rewritten="How did Tajikistan react (OTS)?"),
    ]
    rewritten = rewrite_offline("Why doesn't it belong to that organisation?", turns)
    assert "belong to Tajikistan" not in rewritten
    assert "that organisation" in rewritten


def test_a_new_name_replaces_the_whole_old_name_of_its_own_length() -> None:
    # Before: "What does China Has say about Russia?" (dev chain d38): one word of a person's name was swapped.
    previous = Turn("What does Kerim Has say about Russia?", "According to Kerim Has ...")
    assert rewrite_offline("And China?", previous) == "What does Kerim Has say about China?"
    assert rewrite_offline("And Sadyr Japarov?", previous) == "What does Sadyr Japarov say about Russia?"
    earlier = Turn("What did Kerim Has say?", "...")
    assert rewrite_offline("And Sadyr Japarov?", earlier) == "What did Sadyr Japarov say?"


def test_that_year_is_the_year_the_latest_when_question_was_answered_with() -> None:
    turns = [
        Turn("When did Kyrgyzstan take delivery of its TB2s?", "Kyrgyzstan bought TB2s in 2021 and took delivery of "
             "them in December 2021 [1]."),
        Turn("Who were they given to?", "Turkmenistan was the first to buy TB2s, in December 2020 [1].",
             rewritten="Who were they given to (Kyrgyzstan, TB2s)?"),
    ]
    # Before: "that year" was left for the retriever to guess (dev chain d42).
    assert rewrite_offline("What else did Kyrgyzstan buy that year?", turns).startswith(
        "What else did Kyrgyzstan buy in 2021")
    assert rewrite_offline("What else did Kyrgyzstan buy that year?", turns[1:]).startswith(
        "What else did Kyrgyzstan buy in 2020")  # no when-question: the previous answer's year


def test_review_an_opening_word_is_not_the_new_name_and_that_year_keeps_its_grammar() -> None:
    previous = Turn("How many TB2 drones did Kyrgyzstan buy?", "...")
    for q in ("Similarly for Tajikistan?", "Likewise Tajikistan?", "Thanks. And Tajikistan?"):
        assert rewrite_offline(q, previous) == "How many TB2 drones did Tajikistan buy?", q
    dated = [Turn("When did Kyrgyzstan take delivery of its TB2s?", "It took delivery in December 2021 [1].")]
    assert rewrite_offline("What was that year's death toll?", dated).startswith("What was 2021's death toll")
    assert rewrite_offline("What happened by the end of that year?", dated).startswith(
        "What happened by the end of 2021")
    named = [*dated, Turn("What did Tajikistan buy in 2023?", "Tajikistan bought drones [1].")]
    assert rewrite_offline("What else happened that year?", named).startswith("What else happened in 2023")
