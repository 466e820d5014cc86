"""What a follow-up's pronouns, demonstratives and "that year" stand for, read off the earlier turns.

"Who owns it?" after "Which company builds the drones?" answered "Baykar ...": "it" is Baykar; "that company",
"they", "he", "its" and "that year" are bound the same way (see the patterns). Used by `bot.followups`.
"""

from __future__ import annotations

import re

from bot.conversation import Turn
from bot.text.markers import parse_markers, strip_markers
from bot.text.questions import is_content, without_context
from bot.text.sentences import split_sentences
from bot.text.terms import words

# Pronouns that can stand for one name ("Who owns it?" -> "Who owns Baykar?"); possessives are left alone.
_PEOPLE = frozenset("he him she her".split())
# A name: capitalised words, "of"/"the"/"and" allowed inside ("Organization of Turkic States").
_NAME = re.compile(r"[A-Z][\w'’\-]*(?:\s+(?:(?:of|the|de|al)\s+)*[A-Z][\w'’\-]*)*")
# The previous question asked for one thing -- a person ("Who ...", "Which Tajik minister ...") or a thing
# ("Which company ...") -- and its answer names it: the referent of "he"/"she" or of "it" in the next turn.
_PERSON_HEADS = "minister|president|scholar|academic|analyst|official|leader|person"
_THING_HEADS = "company|outlet|agency|country|organi[sz]ation|body|firm|city|system|model|drone|tank|agreement"
_ASKS_FOR_PERSON = re.compile(rf"^\W*(?:who|whom|(?:which|what) (?:[\w-]+ ){{0,2}}(?:{_PERSON_HEADS}))\b", re.I)
_ASKS_FOR_THING = re.compile(rf"^\W*(?:which|what) (?:[\w-]+ ){{0,2}}({_THING_HEADS})\b", re.I)
_HEAD = re.compile(rf"\b({_PERSON_HEADS}|{_THING_HEADS})\b", re.I)
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
_TITLES = frozenset(
    "president minister foreign defense defence prime secretary general chief head state deputy".split()
)


def name_phrases(text: str) -> list[str]:
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


def mentioned(name: str, text: str) -> bool:
    """`name` (or a plural/possessive of it: "Bayraktars") already occurs in `text`."""
    low = text.lower()
    return all(re.search(rf"\b{re.escape(w.lower()[:max(len(w) - 1, 4)])}", low) for w in name.split())


def referent(question: str, answer: str) -> tuple[str, frozenset[str], bool] | None:
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
        if not name or mentioned(name, question):
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
            if not name or mentioned(name, skip):
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


def resolve_references(question: str, turns: list[Turn]) -> str:
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
            only = [n for n in name_phrases(previous) if not mentioned(n, question) and not re.search(r"\d", n)]
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
            if len(people) == 1 and not mentioned(people[0], out) and person:
                pronoun = person.group(1).lower()
                name = f"{people[0]}'s" if pronoun == "his" else people[0]
                out = out[: person.start()] + name + out[person.end():]
            break
    its = re.search(r"\bits\b", out)
    if its:
        previous = without_context(newest[0].rewritten or newest[0].question)
        names = [n for n in name_phrases(previous) if not mentioned(n, out)]
        if len(names) == 1:
            out = out[: its.start()] + f"{names[0]}'s" + out[its.end():]
    return out


_THAT_YEAR = re.compile(r"\b(?:in )?(?:that|the same) year(?:'s)?", re.I)
_TIME_PREPOSITIONS = frozenset("in during since until till by of for throughout before after from".split())
_YEAR = re.compile(r"\b(?:1[89]|20)\d\d\b")
_WHEN = re.compile(r"^\W*(?:and |but |so )?(?:when\b|(?:in )?what year\b)", re.I)


def resolve_that_year(question: str, turns: list[Turn]) -> str:
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

