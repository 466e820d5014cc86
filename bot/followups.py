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
from bot.prompting import condense_messages
from bot.text.markers import parse_markers, strip_markers
from bot.text.questions import is_content, without_context
from bot.text.sentences import split_sentences
from bot.text.terms import stem, words
from index.errors import LLMError

if TYPE_CHECKING:
    from bot.llm import LLMClient

log = logging.getLogger(__name__)

_PRONOUNS = frozenset("it its they them their theirs this that these those he him his she her there such".split())
# Pronouns that can stand for one name ("Who owns it?" -> "Who owns Baykar?"); possessives are left alone.
_PEOPLE = frozenset("he him she her".split())
_FOLLOWUP_START = re.compile(r"^\W*(and|but|also|so|what about|how about|then|same)\b", re.I)
# Ellipsis at the end: "How many were wounded then?", "Did Turkey sell them too?"
_FOLLOWUP_END = re.compile(r"\b(then|too|as well|instead|in that case)\W*$", re.I)
_FILLER = frozenset("about more else also again too then same instead".split())
_VOICE = frozenset(
    "side sides government authorities officials account accounts version count figures media press view position "
    "say says said report reports reported claim claims claimed state states stated think thinks do does did".split())
# A name: capitalised words, "of"/"the"/"and" allowed inside ("Organization of Turkic States").
_NAME = re.compile(r"[A-Z][\w'’\-]*(?:\s+(?:(?:of|the|de|al)\s+)*[A-Z][\w'’\-]*)*")
# The previous question asked for one thing -- a person ("Who ...", "Which Tajik minister ...") or a thing
# ("Which company ...") -- and its answer names it: the referent of "he"/"she" or of "it" in the next turn.
_PERSON_HEADS = "minister|president|scholar|academic|analyst|official|leader|person"
_THING_HEADS = "company|outlet|agency|country|organi[sz]ation|body|firm|city|system|model|drone|tank|agreement"
_ASKS_FOR_PERSON = re.compile(rf"^\W*(?:who|whom|(?:which|what) (?:[\w-]+ ){{0,2}}(?:{_PERSON_HEADS}))\b", re.I)
_ASKS_FOR_THING = re.compile(rf"^\W*(?:which|what) (?:[\w-]+ ){{0,2}}({_THING_HEADS})\b", re.I)
_HEAD = re.compile(rf"\b({_PERSON_HEADS}|{_THING_HEADS})\b", re.I)
MAX_CONTEXT_NAMES = 5
# "that company", "this deal", "the agreement": a demonstrative and a head noun the previous turns bound to a
# name ("Baykar, the company producing the drones", "the drone's manufacturer Baykar"). Nouns of one cluster
# stand for each other: "Who makes the TB2?" -> "... Baykar, the drone's manufacturer" -> "that company".
_CLUSTERS = (
    ("company", "firm", "manufacturer", "maker", "producer", "builder"),
    ("deal", "agreement", "contract", "pact"),
    ("organization", "organisation", "body", "bloc", "group", "alliance"),
    ("plant", "factory"),
    ("outlet", "agency", "newspaper"),
    ("minister", "president", "official", "leader"),
    ("academic", "scholar", "analyst", "expert"),
)
_DEMONSTRATIVE = re.compile(r"\b(that|this|the same|said)\s+([a-z]+)\b", re.I)
# A plural pronoun and the plural noun phrase of an earlier question it stands for ("When did Kyrgyzstan
# receive the Bayraktar drones?" -> "Who were they put in the service of?").
_PLURAL_PRONOUNS = frozenset({"they", "them"})
_PLURAL_NP = re.compile(r"\b(?:the|its|their|[A-Z][\w\-]*['’]s)\s+((?:[A-Z][\w\-]*\s+)*[a-z][a-z\-]*[a-z]s)\b")
_NOT_PLURAL_NOUNS = frozenset("is was has does its this thus always perhaps less unless news series".split())
# Two or more capitalised words in a row, titles and all ("Kerim Has", "Sherali Mirzo"); a wh-word opening the
# question is dropped.
_PERSON_NAME = re.compile(r"(?<![\w'’])[A-Z][a-z][\w'’\-]*(?:\s+[A-Z][a-z][\w'’\-]*)+")
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


_TITLES = frozenset(
    "president minister foreign defense defence prime secretary general chief head state deputy".split()
)


def _names(text: str) -> list[str]:
    """Name phrases in `text`, minus leading function words ("In April" -> "April")."""
    out = []
    for m in _NAME.finditer(strip_markers(text)):
        toks = m.group(0).split()
        while toks and not is_content(toks[0]):
            toks.pop(0)
        if toks:
            # "Kerim Has' field", "Kerim Has's Moscow address": the name ends at its possessive.
            out.append(re.split(r"['’]s?(?:\s|$)", " ".join(toks))[0])
    return list(dict.fromkeys(out))


def _mentioned(name: str, text: str) -> bool:
    """`name` (or a plural/possessive of it: "Bayraktars") already occurs in `text`."""
    low = text.lower()
    return all(re.search(rf"\b{re.escape(w.lower()[:max(len(w) - 1, 4)])}", low) for w in name.split())


def _referent(question: str, answer: str) -> tuple[str, frozenset[str], bool] | None:
    """The one thing the previous question asked for, read off its answer, the pronouns that can stand for
    it, and whether the answer anchored it: the name nearest the question's head noun ("Which company ..." ->
    "Baykar, the company ..."), titles dropped ("Defense Minister Sherali Mirzo" -> "Sherali Mirzo"); when the
    answer lacks the head noun, the first name (a guess: anchored False). None when the question did not ask
    for one person or thing, or the answer was a refusal."""
    who_is = re.match(r"^\W*(?i:who) (?:is|was) ([A-Z][\w'’\-]*(?:\s+[A-Z][\w'’\-]*)*)", question)
    if who_is:
        return who_is.group(1), _PEOPLE, True
    if _ASKS_FOR_PERSON.match(question):
        pronouns = _PEOPLE
    elif _ASKS_FOR_THING.match(question):
        pronouns = frozenset({"it"})
    else:
        return None
    if not parse_markers(answer):
        return None
    text = strip_markers(answer)
    head = _HEAD.search(question)
    anchors = [m.start() for m in re.finditer(rf"\b{head.group(1)}", text, re.I)] if head else []
    best: tuple[float, str] | None = None
    for m in _NAME.finditer(text):
        keep: list[str] = []
        for tok in reversed(m.group(0).split()):  # the name proper is the run's tail, after any title
            if tok.lower() in _TITLES or not is_content(tok):
                break
            keep.insert(0, tok)
        name = " ".join(keep).removesuffix("’s").removesuffix("'s")
        if not name or _mentioned(name, question):
            continue
        distance = min((abs(m.end() - a) for a in anchors), default=float(m.start()))
        if best is None or distance < best[0]:
            best = (distance, name)
    return (best[1], pronouns, bool(anchors) or head is None) if best else None


def _cluster(noun: str) -> tuple[str, ...]:
    low = noun.lower().removesuffix("s") if noun.lower() not in ("series",) else noun.lower()
    return next((c for c in _CLUSTERS if low in c), ())


def _bound_name(head: str, texts: list[str], skip: str) -> str | None:
    """The name the earlier text bound to `head` (or a noun of its cluster) by apposition -- "Baykar, the
    company producing ...", "the drone's manufacturer, Baykar", "the Military Framework Agreement" -- newest
    text first. A name merely near the noun ("a deal with Russia") is not bound to it."""
    nouns = _cluster(head)
    if not nouns:
        return None
    noun = rf"(?:{'|'.join(nouns)})s?"
    for text in texts:
        plain = strip_markers(text)
        for m in _NAME.finditer(plain):
            toks = [t for t in m.group(0).split() if t.lower() not in _TITLES]
            while toks and not is_content(toks[0]):
                toks.pop(0)
            name = " ".join(toks).removesuffix("’s").removesuffix("'s")
            if not name or _mentioned(name, skip):
                continue
            after, before = plain[m.end() : m.end() + 60], plain[max(0, m.start() - 40) : m.start()]
            if (re.match(rf"(?i:,\s+(?:the|a|an)\s+(?:[\w'’\-]+\s+){{0,3}}{noun})\b", after)
                    or re.search(rf"(?i:\b{noun},?\s+)$", before)
                    or re.search(rf"(?i:\b{noun})$", m.group(0))):
                return name
    return None


def _plural_phrase(texts: list[str], skip: str) -> str | None:
    """The last plural common-noun phrase of the newest earlier question that has one ("the Bayraktar
    drones"), not a wh-phrase ("Which countries ...")."""
    for text in texts:
        plain = without_context(text)
        found = [
            m for m in _PLURAL_NP.finditer(plain)
            if m.group(1).split()[-1].lower() not in _NOT_PLURAL_NOUNS
            and not re.search(r"\b(?:which|what|how many)\s+$", plain[: m.start()], re.I)
            and m.group(1).split()[-1].lower() not in skip.lower()
        ]
        if found:
            return f"the {found[-1].group(1)}"
    return None


def _resolve(question: str, turns: list[Turn]) -> str:
    """Demonstratives and plural pronouns replaced by what earlier turns bound them to (see the patterns)."""
    newest = list(reversed(turns))[:3]
    texts = [t for turn in newest for t in (turn.answer, turn.rewritten or turn.question)]
    out = question
    for m in _DEMONSTRATIVE.finditer(question):
        name = _bound_name(m.group(2), texts, question)
        subject_pronoun = any(w.lower() in ("it", "they", "he", "she") for w in words(question))
        if name is None and _cluster(m.group(2)) and not subject_pronoun:
            # Nothing bound to the noun: the one name of the previous question ("Which countries are negotiating
            # with Baykar?" -> "Who owns that company?"), if it has exactly one -- unless a pronoun of the question
            # already stands for that name ("How did Tajikistan react?" -> "Why doesn't it belong to that
            # organisation?": "it" is Tajikistan, the organisation is something else).
            previous = without_context(newest[0].rewritten or newest[0].question)
            only = [n for n in _names(previous) if not _mentioned(n, question) and not re.search(r"\d", n)]
            name = only[0] if len(only) == 1 else None
        if name:
            out = out.replace(m.group(0), name, 1)
            break
    pronoun = next((w for w in words(out) if w.lower() in _PLURAL_PRONOUNS), None)
    if pronoun:
        phrase = _plural_phrase([t.rewritten or t.question for t in newest], out)
        if phrase:
            out = re.sub(rf"\b{pronoun}\b", phrase, out, count=1)
    person = re.search(r"\b(he|she|him|his|her)\b", out, re.I)
    for turn in newest if person else []:  # the person the newest earlier question that names one names
        previous = without_context(turn.rewritten or turn.question)
        # The name without a possessive: "What is Kerim Has's field?" -> "he" is "Kerim Has", not "Kerim Has's".
        people = list(dict.fromkeys(
            re.split(r"['’]s?(?:\s|$)", " ".join(m.group(0).split()[1:] if m.start() == 0 else m.group(0).split()))[0]
            for m in _PERSON_NAME.finditer(previous)
        ))
        people = [p for p in people if len(p.split()) >= 2]
        if people:
            if len(people) == 1 and not _mentioned(people[0], out) and person:
                pronoun = person.group(1).lower()
                name = f"{people[0]}'s" if pronoun == "his" else people[0]
                out = out[: person.start()] + name + out[person.end():]
            break
    its = re.search(r"\bits\b", out)
    if its:
        previous = without_context(newest[0].rewritten or newest[0].question)
        names = [n for n in _names(previous) if not _mentioned(n, out)]
        if len(names) == 1:
            out = out[: its.start()] + f"{names[0]}'s" + out[its.end():]
    return out


_NOT_PREPOSITIONS = frozenset("and or but about what how so then".split())
_AUXILIARIES = frozenset("did does do is was were are has have had will would can could should".split())


_THAT_YEAR = re.compile(r"\b(?:in )?(?:that|the same) year(?:'s)?", re.I)
_TIME_PREPOSITIONS = frozenset("in during since until till by of for throughout before after from".split())
_YEAR = re.compile(r"\b(?:1[89]|20)\d\d\b")
_WHEN = re.compile(r"^\W*(?:and |but |so )?(?:when\b|(?:in )?what year\b)", re.I)


def _dated(question: str, turns: list[Turn]) -> str:
    """ "What else did Kyrgyzstan buy that year?" after "When did Kyrgyzstan take delivery of its TB2s?" answered
    "... in 2021": "... in 2021?" (dev chain d42). The year is the one the latest when-question's answer states
    first (a later turn's answer may date other things), else the one the previous answer states first."""
    m = _THAT_YEAR.search(question)
    if not m:
        return question
    # The year the previous question names itself comes first ("What did Tajikistan buy in 2023?").
    own = _YEAR.search(without_context(turns[-1].rewritten or turns[-1].question))
    asked = [t for t in turns if _WHEN.match(t.rewritten or t.question)]
    answer = (asked or turns)[-1].answer
    year = own.group() if own else next(
        (y.group() for s in split_sentences(strip_markers(answer)) if (y := _YEAR.search(s.text))), None)
    if year is None:
        return question
    # "in that year" / "during that year" / "that year's toll" keep their own words around the year.
    before = question[: m.start()].rstrip().rsplit(" ", 1)[-1].lower()
    found = m.group()
    if found.endswith("'s"):
        said = f"{year}'s"
    elif found.lower().startswith("in ") or before not in _TIME_PREPOSITIONS:
        said = f"in {year}"
    else:
        said = year
    return question[: m.start()] + said + question[m.end() :]


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
    # A word of its own the previous question lacks makes it a new question, not the old one about a new name:
    # "What about the Tajik toll?" after "And how many houses were damaged (Kyrgyz)?" asks for the toll.
    # Not a word for a party's side or voice ("And the Tajik side?", "And what did Kyrgyzstan report?"): those
    # ask the old question of the new name.
    new_word = not {stem(w.lower()) for w in own if w.lower() not in _VOICE} <= {
        stem(w.lower()) for w in words(previous)}
    if new_names and old_names and len(own) <= 1 and not new_word and not leans_back and continues:
        swapped = previous
        pairs = list(zip(old_names, new_names, strict=False))
        # Names as phrases: "Kerim Has" is one name, "Sadyr Japarov" another.
        # Only the words that are names ("Similarly for Tajikistan?", "Likewise Tajikistan?": not the opener).
        new_phrases = [p for p in (" ".join(w for w in n.split() if w in new_names) for n in _names(question)) if p]
        old_phrases = [n for n in _names(previous) if re.search(rf"\b{re.escape(n)}\b", previous)]
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
        # context for it.
        return question
    rewritten = _dated(_resolve(question, turns), turns)
    found = _referent(previous, last.answer)
    if found and not _mentioned(found[0], rewritten):
        pronoun = next((w for w in words(rewritten) if w.lower() in found[1]), None)
        if pronoun:
            rewritten = re.sub(rf"\b{re.escape(pronoun)}\b", found[0], rewritten, count=1)
    # Context: the previous standalone question's names (which carry earlier turns' names in parentheses);
    # other keywords only when it has no names at all. The previous answer's referent only for a question that
    # names nothing itself ("Since when?") and only when the answer anchored it ("Baykar, the company ..." for
    # "Which company ...?"): a guess ("Turkish" for "Which city ...?" answered "a Turkish academic based in
    # Moscow"), or a hint added to a question with its own subject, sends the question after the wrong thing.
    hinted = [found[0]] if found and found[2] and not _names(rewritten) else []
    context = [n for n in [*hinted, *_names(previous)] if not _mentioned(n, rewritten)]
    if not context and rewritten == question:
        mine = {w.lower() for w in words(question)}
        context = [w for w in words(previous) if is_content(w) and w.lower() not in mine]
    context = list(dict.fromkeys(context))[:MAX_CONTEXT_NAMES]
    if not context:
        return rewritten
    return f"{rewritten.rstrip(' ?.!')} ({', '.join(context)})?"
