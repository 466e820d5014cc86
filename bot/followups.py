"""Follow-ups made standalone: "And what did Kyrgyzstan say?" -> a question retrieval can answer alone.

With an LLM the history is condensed by the model (falling back to the offline rewrite when it fails);
offline, the previous turn's subject and names are carried over.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.answering.extractive_compose import is_summary_of_the_whole
from bot.conversation import Turn
from bot.followup_referents import mentioned, name_phrases, referent, resolve_references, resolve_that_year
from bot.prompting import condense_messages
from bot.text.questions import is_content
from bot.text.terms import stem, words
from index.errors import LLMError

if TYPE_CHECKING:
    from bot.llm import LLMClient

log = logging.getLogger(__name__)

_PRONOUNS = frozenset("it its they them their theirs this that these those he him his she her there such".split())
_FOLLOWUP_START = re.compile(r"^\W*(and|but|also|so|what about|how about|then|same)\b", re.I)
# Ellipsis at the end: "How many were wounded then?", "Did Turkey sell them too?"
_FOLLOWUP_END = re.compile(r"\b(then|too|as well|instead|in that case)\W*$", re.I)
_FILLER = frozenset("about more else also again too then same instead".split())
_VOICE = frozenset(
    "side sides government authorities officials account accounts version count figures media press view position "
    "say says said report reports reported claim claims claimed state states stated think thinks do does did "
    "one figure tally".split())
_VOICE_STEMS = frozenset(stem(w) for w in _VOICE)
MAX_CONTEXT_NAMES = 5
# A bare wh-question ("Why?", "And when?", "How exactly?") asks the previous question's clause again with a
# new wh-word: "Where did Turkey have to move its embassy?" -> "Why?" -> "Why did Turkey have to move ...".
# "When did that happen?" and "When was that?" are bare too: the pronoun stands for the previous question's event.
_BARE_WH = re.compile(
    r"^\W*(?:and |but |so )?((?:since |until )?(?:why|when|where|how))(?: exactly| then)?"
    r"(?: (?:(?:did|does|do) (?:that|this|it) (?:happen|occur|take place|come about)|(?:was|is) (?:that|this)))?"
    r"\W*$",
    re.I,
)
# Time told relative to the previous turn's event ("What happened the next day?"): a follow-up however long.
_RELATIVE_TIME = re.compile(
    r"\b(?:the (?:next|following|previous|same) (?:day|week|month|year)|the (?:day|week|month|year) (?:before|after)|"
    r"(?:a|one) (?:day|week|month|year) (?:later|earlier)|(?:after|before) that|afterwards?|at (?:that|the) time|"
    r"that (?:day|week|month|year))\b",
    re.I,
)
_REQUEST = re.compile(
    r"^\W*(?:summari[sz]e|sum up|compare|list|describe|explain|outline|give me|tell me|show me)\b", re.I
)
# Only a previous question asking when / where / why / how: "Who is X?" -> "When?" is no "When is X?".
_WH_AUX = re.compile(
    r"^\W*(?:when|where|why|how)\s+(?=(?:did|does|do|was|were|is|are|has|have|had|will|would|can|"
    r"could|should)\b)",
    re.I,
)


class FollowupRewriter:
    """Rewrites a follow-up against the conversation so far; the LLM is optional."""

    def __init__(self, llm: LLMClient | None = None, *, history_tokens: int = 1200, max_chars: int = 2000) -> None:
        self.llm = llm
        self.history_tokens = history_tokens
        self.max_chars = max_chars

    async def rewrite(self, question: str, turns: list[Turn], *, deadline: float | None = None) -> str:
        """`deadline` (a `time.monotonic()` value) bounds the LLM call, retries included; past it, or when
        the call fails, the offline rewrite is used."""
        if not turns:
            return question
        if self.llm is not None:
            import asyncio

            messages = await asyncio.to_thread(condense_messages, question, turns, history_tokens=self.history_tokens)
            try:
                completion = await self.llm.complete(messages, deadline=deadline)
                lines = completion.text.strip().strip('"').splitlines()
                rewritten = lines[0].strip() if lines else ""
                if 0 < len(rewritten) <= self.max_chars:
                    return rewritten
            except LLMError as err:
                log.warning("condensing the follow-up failed, rewriting offline: %s", err)
        return rewrite_offline(question, turns)


def looks_like_followup(question: str) -> bool:
    """ "And what did Kyrgyzstan say?", "Which drones were used?", "What about it?", "How many were wounded
    then?": short, starts or ends like a continuation, or leans on a pronoun."""
    toks = [w.lower() for w in words(question)]
    own_names = [w for w in words(question)[1:] if w[0].isupper() and is_content(w)]
    if _REQUEST.match(question) and not any(t in _PRONOUNS for t in toks) and (
        own_names or is_summary_of_the_whole(question)
    ):
        # "Summarize the Tajik account.", "Summarize the documents.": a request with a topic of its own. Not
        # "Describe the deal." or "Tell me more.": which deal, more of what, the conversation says.
        return False
    if _FOLLOWUP_START.match(question) or _FOLLOWUP_END.search(question) or any(t in _PRONOUNS for t in toks):
        return True
    # "What happened the next day?": time counted from the previous turn -- unless the question names what it
    # is about ("... at the time of the 1991 referendum in Kazakhstan?").
    if _RELATIVE_TIME.search(question) and not own_names:
        return True
    return len(toks) <= 4


_NOT_PREPOSITIONS = frozenset("and or but about what how so then".split())
_AUXILIARIES = frozenset("did does do is was were are has have had will would can could should".split())


def _word_before(text: str, name: str) -> str | None:
    """The lower-cased word right before `name` in `text` ("from" in "... buy from Russia?")."""
    m = re.search(rf"(\w+)\s+{re.escape(name)}\b", text)
    return m.group(1).lower() if m else None


def rewrite_offline(question: str, history: Turn | Sequence[Turn]) -> str:
    """Make a follow-up standalone without an LLM, against the previous turns' questions AND answers.

    - Subject swap ("And what did Kyrgyzstan say?" after "How many died on the Tajik side?"): the previous
      (standalone) question with the new name.
    - A pronoun standing for what the previous question asked for ("Who owns it?" after "Which company builds
      the drones?" answered "Baykar ..."): the pronoun becomes that name.
    - A bare wh-question ("Why?") after a wh-question ("Where did Turkey move its embassy?"): the previous
      question's clause with the new wh-word ("Why did Turkey move its embassy?").
    - Otherwise the previous standalone question's names (which carry those of earlier turns) are added:
      "How many were wounded then (Kyrgyzstan)?".
    """
    turns = [history] if isinstance(history, Turn) else list(history)
    if not turns or not looks_like_followup(question):
        return question
    last = turns[-1]
    previous = last.rewritten or last.question
    bare = _BARE_WH.match(question)
    clause = _WH_AUX.match(previous)
    if bare and clause:
        wh = bare.group(1)
        return f"{wh[0].upper()}{wh[1:].lower()} {previous[clause.end():]}"
    new_names = [w for w in words(question)[1:] if w[0].isupper() and is_content(w)]
    own = [w for w in words(question) if is_content(w) and not w[0].isupper() and w.lower() not in _FILLER]
    old_names = [w for w in words(previous)[1:] if w[0].isupper() and is_content(w)]
    leans_back = any(w.lower() in _PRONOUNS for w in words(question))
    # "And what did Kyrgyzstan say?", "What about Tajikistan?", "Kyrgyzstan?" swap the subject; "Who is Kerim
    # Has?" is a new question, however short.
    # A request in the imperative ("Summarize the Tajik account.", "Compare the two tolls.") has its own verb:
    # no subject swap, however short.
    continues = not _REQUEST.match(question) and (
        bool(_FOLLOWUP_START.match(question) or _FOLLOWUP_END.search(question))
        or not any(w.lower() in ("what", "which", "who", "whom", "whose", "when", "where", "why", "how")
                   for w in words(question))
    )
    # In a fragment without a verb, a word of its own the previous question lacks makes it a new question, not
    # the old one about a new name: "What about the Tajik toll?" after "And how many houses were damaged
    # (Kyrgyz)?" asks for the toll. Not a word for a party's side or voice ("And the Tajik side?", "And the
    # Kyrgyz figure?"), nor a verb ("And how many did Tajikistan order?"): those ask the old question again.
    fragment = not any(w.lower() in _AUXILIARIES for w in words(question))
    new_word = fragment and not {stem(w.lower()) for w in own} - _VOICE_STEMS <= {
        stem(w.lower()) for w in words(previous)}
    if new_names and old_names and len(own) <= 1 and not new_word and not leans_back and continues:
        swapped = previous
        pairs = list(zip(old_names, new_names, strict=False))
        # Names as phrases: "Kerim Has" is one name, "Sadyr Japarov" another.
        # Only the words that are names ("Similarly for Tajikistan?", "Likewise Tajikistan?": not the opener).
        new_phrases = [
            p for p in (" ".join(w for w in n.split() if w in new_names) for n in name_phrases(question)) if p
        ]
        old_phrases = [n for n in name_phrases(previous) if re.search(rf"\b{re.escape(n)}\b", previous)]
        if len(new_phrases) == 1 and old_phrases:
            # One new name stands for one old name, not for all ("What did Kyrgyzstan buy from Russia?" -> "And
            # Tajikistan?" is no "What did Tajikistan buy from Tajikistan?"): the one after the same preposition
            # ("What about from Turkey?" -> "from Russia"), else the only old name as long as the new one ("What
            # does Kerim Has say about Russia?" -> "And China?" asks about China, not "China Has": dev chain d38),
            # else the subject (the name right after the auxiliary: "How many TB2 drones did Kyrgyzstan buy?"),
            # else the first.
            new = new_phrases[0]
            prep = _word_before(question, new)
            prep = None if prep in _NOT_PREPOSITIONS else prep
            same = [o for o in old_phrases if prep and _word_before(previous, o) == prep]
            shaped = [o for o in old_phrases if len(o.split()) == len(new.split())]
            if len({len(o.split()) for o in old_phrases}) == 1 or len(shaped) != 1:
                shaped = []
            subject = [o for o in old_phrases if _word_before(previous, o) in _AUXILIARIES]
            pairs = [((same or shaped or subject or old_phrases)[0], new)]
        for old, new in pairs:
            swapped = re.sub(rf"\b{re.escape(old)}\b", new, swapped)
        if swapped != previous:
            return swapped
    if new_names and new_word and not leans_back and _FOLLOWUP_START.match(question):
        # A new question about a new name ("What about the Tajik toll?"): the old names it replaces are no
        # context for it; its own references are still resolved.
        return resolve_that_year(resolve_references(question, turns), turns)
    rewritten = resolve_that_year(resolve_references(question, turns), turns)
    found = referent(previous, last.answer)
    if found and not mentioned(found[0], rewritten):
        pronoun = next((w for w in words(rewritten) if w.lower() in found[1]), None)
        if pronoun:
            rewritten = re.sub(rf"\b{re.escape(pronoun)}\b", found[0], rewritten, count=1)
    # Context: the previous standalone question's names (which carry earlier turns' names in parentheses);
    # other keywords only when it has no names at all. The previous answer's referent only for a question that
    # names nothing itself ("Since when?") and only when the answer anchored it ("Baykar, the company ..." for
    # "Which company ...?"): a guess ("Turkish" for "Which city ...?" answered "a Turkish academic based in
    # Moscow"), or a hint added to a question with its own subject, sends the question after the wrong thing.
    hinted = [found[0]] if found and found[2] and not name_phrases(rewritten) else []
    context = [n for n in [*hinted, *name_phrases(previous)] if not mentioned(n, rewritten)]
    if not context and rewritten == question:
        mine = {w.lower() for w in words(question)}
        context = [w for w in words(previous) if is_content(w) and w.lower() not in mine]
    context = list(dict.fromkeys(context))[:MAX_CONTEXT_NAMES]
    if not context:
        return rewritten
    return f"{rewritten.rstrip(' ?.!')} ({', '.join(context)})?"
