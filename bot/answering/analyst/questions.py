"""What kind of analyst question this is: a comparison, a "latest / as of" question, a timeline, a "who says
what" question, a question whose answer sources may disagree on (a quantity, a yes/no fact), or none of those.

Plain patterns over the question's wording, checked in order of how specific they are; anything else goes
to the default strategy untouched. The entities and facets of a comparison come from the question itself:
"Compare A and B on X and Y" -> rows A, B; columns X, Y.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bot.text.questions import question_shape
from bot.text.terms import MONTH_NAMES, QUESTION_WORDS, STOPWORDS

Kind = Literal["compare", "timeline", "latest", "attribution", "conflict", "default"]

_TIMELINE = re.compile(
    r"\btimeline\b|\bchronolog\w*|\bin (?:what|which) order\b|\bsequence of events\b|\bkey dates\b|"
    r"\bwhat happened (?:when|and when|over|during|between|in order|after|since|before|on the|from)\b|"
    # "What happened in 2021?", "What happened in late September 2022?": a period, not a place.
    # The period stays in the topic (a lookahead): it is what the events are about.
    r"\bwhat (?:happened|took place) (?:in|during)\b(?= (?:(?:early|late|mid)[- ]|the (?:first|second) half of )?"
    r"(?:(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? )?(?:1[89]|20)\d\d\b)|"
    r"\bhow did .+ unfold\b|\bstep by step\b|\bwhat were the (?:main )?events\b|"
    # "Lay out in order the events of 2022", "... in chronological order" (not "in order to": a purpose).
    r"\bin (?:chronological |date |time )?order\b(?!\s+to\b)|\border of (?:the )?events\b|"
    # Asking for the dates themselves: "List them by date", "Trace events ... with dates", "Give the dates",
    # "a dated rundown", "How have the figures shifted over time?", "the main milestones".
    r"\bby date\b|\b(?:with|give|list|include|show)(?: me)? (?:the |their |exact )?dates\b|"
    r"\bdated (?:\w+ )?(?:list|rundown|summary|overview|account|breakdown)\b|\bover time\b|\bmilestones\b|"
    # "Which came first: A, B or C?", "What happened first?": an order of events asked for by its first one.
    r"\b(?:which|what)(?: \w+)? (?:came|happened|occurred|took place) (?:first|earlier|earliest|last)\b",
    re.I,
)
# "Between the ceasefire and the agreement on ..., what steps did the two sides take?": events asked for in a
# period that two events bound (a period of dates is read by the pattern above: "what happened between").
_BETWEEN_EVENTS = re.compile(r"\bbetween\s+\S.*?\s+and\s+\S", re.I)
_EVENTS_ASKED = re.compile(
    r"\bwhat (?:happened|took place|steps|moves|developments|events|actions|changed)\b|\bwhat did .+? do\b", re.I
)
_LATEST = re.compile(
    r"\b(?:latest|most recent|newest|current|currently|as of|up[- ]to[- ]date|to date|so far|"
    r"revised|updated?)\b|\bnow\b(?!\s*(?:that|on))",
    re.I,
)
_COMPARE = re.compile(
    r"\bcompare[ds]?\b|\bcomparison\b|\bdiffer(?:s|ed|ence|ences)?\b|\bversus\b|\bvs\.?\s|\bside by side\b|"
    r"\bwhich \w+(?: \w+)? (?:bought|buy|buys|got|have|has|had|use|used|signed|sold|ordered) which\b|"
    # "How do A and B stack up on X?", "... measure up against each other": comparison idioms.
    r"\bcontrast\b|\b(?:stack|stacks|stacked|measure|measures|measured) up\b|"
    # "Which of Turkmenistan or Kyrgyzstan bought TB2s first?": the named options are the rows (dev n87, n99).
    r"^\W*(?:which|who)\s+(?:one\s+)?of\b",
    re.I,
)
# "Which of A or B <what is asked>": the options, then the facet (the rest of the question).
_WHICH_OF = re.compile(r"^\W*(?:which|who)\s+(?:one\s+)?of\s+(?:the\s+)?(.+)$", re.I)
_WHICH_OPENER = re.compile(r"^\W*(?:which|who)\s+(?:one\s+)?of\b", re.I)
_ATTRIBUTION = re.compile(
    r"^\W*(?:who (?:says|said|claims?|claimed|argues?|argued|stated?|reported|confirmed|denied|denies|"
    r"warned|believes?|thinks?|blames?|blamed|"
    # Speech acts that say how something was said: "Who hailed X as a milestone?", "Who accused Y of ...?".
    r"hailed|praised|called|described|presented|celebrated|critici[sz]ed|condemned|accused|alleged|"
    r"announced|insisted|predicted|welcomed|dismissed)\b|according to whom\b|"
    r"what (?:does|did|do) .+? (?:say|says|argue|claim|think|believe|report|tell|warn|state|conclude)\b|"
    r"what (?:is|was|are|were) .+?'s? (?:view|position|assessment|argument|claim|account)s?\b|"
    r"how (?:does|did) .+? (?:see|view|explain|describe|assess)\b)",
    re.I,
)
# A yes/no question about a fact ("Did Tajikistan buy ...?", "Has X received ...?"): sources may deny it.
_YES_NO = re.compile(r"^\W*(?:did|does|do|has|have|had|is|was|were|are|will)\b", re.I)
# "What's the combined death toll of ...?": a figure asked for by its noun, whatever modifies it (the question
# shape reads "the combined death toll" as no number).
_FIGURE_ASKED = re.compile(
    r"^\W*what(?:['’]s|\s+(?:is|was|are|were))\s+(?:the\s+)?(?:[\w\-]+\s+){0,3}"
    r"(?:tolls?|tally|tallies|totals?|counts?|numbers?|figures?)\b",
    re.I,
)
# Words of the comparison itself, never a facet.
_COMPARE_WORDS = frozenset(
    """compare compared compares comparison differ differs differed difference differences versus vs contrast
    side account accounts source sources version versions view views between how respectively their its
    the two both each""".split()
)
# "Do A and B differ in CSTO membership?": "in" leads the facet only after the comparison's verb ("in" alone
# is too often a place or a time: "Compare A and B in 2022").
_FACET_LEAD = re.compile(
    r"(?:\b(?:on|in terms of|regarding|with respect to|as to|for|about|by)|"
    r"\b(?:differ(?:s|ed)?|compared?|contrast(?:s|ed)?|stack(?:s|ed)? up|measure[sd]? up)\s+(?:in|over)|"
    # "Akar vs Mirzo: countries and posts": a colon after the names leads the facets (dev n88).
    r"(?<=\w):)\s+"
    r"(.+?)\s*\??$",
    re.I,
)
# The comparison's verb before a facet lead ("differ in"): the lead a later facet may repeat is "in".
_LEAD_VERB = re.compile(r"^(?:differ|compare|contrast|stack|measure)\w*(?:\s+up)?\s+", re.I)
_NAME_RUN = re.compile(r"\b[A-Z][\w’'\-]*(?:\s+(?:of\s+(?:the\s+)?)?[A-Z][\w’'\-]*)*")
# "How do Kyrgyzstan's and Tajikistan's figures for the dead differ?": the facet sits between the compared
# names and the verb, with no "on"/"for" lead of its own (a "for" inside it is part of it: dev a23).
_DIFFER_TAIL = re.compile(
    r"^(?:how|in what ways?|where)\s+(?:do|does|did)\s+(.+?)\s+(?:differ|compare|contrast|disagree)$", re.I
)
# Between two compared names: "'s and the", ", ", " and ".
_NAME_GAP = re.compile(r"^(?:['’]s)?\s*(?:,\s*(?:and|or)|,|and|or|&)\s+(?:the\s+)?$", re.I)
# "The Dushanbe Herald's and Baykar's accounts of drone deliveries ...": the words before "of" name the
# comparison, the facet is the rest (dev a27).
_ACCOUNTS_OF = re.compile(r"^(?:accounts?|versions?|views?|positions?|reports?|claims?)\s+(?:of|on|about)\s+", re.I)
# Comparison wording between the names and the facet lead: "Put A and B side by side on X" (dev a28).
_SIDE_BY_SIDE = re.compile(r"\s+(?:side[- ]by[- ]side|next to each other|head[- ]to[- ]head)\b", re.I)
# A sentence-initial imperative capitalised before a name is not part of it: "Put Kyrgyzstan and ..." (dev
# a28). Verbs an analyst starts a request with; a hand-written list, not tuned.
_IMPERATIVES = frozenset(
    "put set lay line place show list give tell rank tabulate break summarise summarize describe explain".split()
)


@dataclass(frozen=True)
class AnalystQuestion:
    kind: Kind
    entities: tuple[str, ...] = ()  # comparison rows the question names (may be empty: rows are found)
    facets: tuple[str, ...] = ()  # comparison columns the question asks for (may be empty: one found)
    accounts: bool = False  # the rows are sources compared on what each says ("X's and Y's accounts of ...")


def classify(question: str) -> AnalystQuestion:
    q = question.strip()
    if _TIMELINE.search(q) or (_BETWEEN_EVENTS.search(q) and _EVENTS_ASKED.search(q)):
        return AnalystQuestion("timeline")
    if _COMPARE.search(q):
        entities, facets = comparison_parts(q)
        # "Which of A or B ...?" compares only when its options are the rows; "Which of Baykar's drones did
        # Kyrgyzstan buy?" is no comparison of Baykar and Kyrgyzstan.
        which = _WHICH_OF.match(q.rstrip("?.! "))
        if which and _differ_parts(which.group(1)) is None and not _COMPARE.search(_WHICH_OPENER.sub("", q)):
            entities = ()
        if len(entities) >= 2 or re.search(r"\bwhich \w+.* which\b", q, re.I):
            return AnalystQuestion("compare", entities, facets, compares_accounts(q))
    if _LATEST.search(q):
        return AnalystQuestion("latest")
    if _ATTRIBUTION.search(q):
        return AnalystQuestion("attribution")
    if question_shape(q).kind in ("number", "money") or _YES_NO.search(q) or _FIGURE_ASKED.search(q):
        return AnalystQuestion("conflict")
    return AnalystQuestion("default")


# A question's opening word: a question word or an auxiliary ("what was ...", "did tajikistan get ...").
_ASKS = re.compile(r"^\W*(?:what|which|who|whom|whose|when|where|why|how|did|does|do|has|have|had|is|was|were|are|"
                   r"will|can|could|should|would)\b", re.I)


def with_question_mark(question: str) -> str:
    """A question typed without its question mark, as Discord users often do ("what was kyrgyzstan's death
    toll"), given one: the relevance scores the structured answers are tuned on read it, and a figure's sentences
    fell under their margin without it (dev n14 lower-cased). A request ("compare ...", "timeline of ...") or a
    question already ending in punctuation is left as it is."""
    q = question.rstrip()
    if not q or q[-1] in "?.!" or not _ASKS.match(q):
        return question
    return q + "?"


def is_yes_no(question: str) -> bool:
    """ "Did Tajikistan buy ...?": a claim a source may affirm and another deny (never a "how many" question)."""
    return bool(_YES_NO.search(question)) and question_shape(question).kind not in ("number", "money")


def comparison_parts(question: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(entities, facets) of a comparison question."""
    body = _SIDE_BY_SIDE.sub("", question.strip().rstrip("?.!").strip())
    which = _WHICH_OF.match(body)
    if which:
        found = _differ_parts(which.group(1))
        if found is not None:
            return found
    differ = _DIFFER_TAIL.match(body)
    if differ:
        found = _differ_parts(differ.group(1))
        if found is not None:
            return found
    facet_text, lead = "", ""
    m = _FACET_LEAD.search(body)
    if m and _names(m.group(1)) != _names(body):
        facet_text, body = m.group(1), body[: m.start()]
        lead = _LEAD_VERB.sub("", m.group(0)[: m.start(1) - m.start()].strip())
    entities = _names(body)
    if not facet_text:
        # "How do the Kyrgyz and Tajik death tolls differ?": the lowercase words that are not about comparing.
        rest = [w for w in re.findall(r"[A-Za-z][\w\-’']*", body) if not _is_entity_word(w, entities)]
        facet_text = " ".join(w for w in rest if w.lower() not in _COMPARE_WORDS and _content(w))
    facets = tuple(
        # "on the death toll and on evacuations": the lead repeated before a later facet is not part of it.
        _trim(re.sub(rf"^\s*{re.escape(lead)}\s+", "", f, flags=re.I) if lead else f)
        for f in re.split(r",\s*(?:and\s+)?|\s+and\s+", facet_text)
        # "... on what they sold Kyrgyzstan and when": "when" is a column of its own, the date of the other.
        if f.strip() and (_has_content(f) or is_when(f))
    )
    return entities, facets


# "The Dushanbe Herald's and Baykar's accounts of ...", "their versions of ...", "the Kyrgyz and Tajik accounts
# of ...": each row's own account, so a
# cell is what that row says, not what someone else says about it (dev a27: the Baykar cell quoted a Kyrgyz
# committee's sentence naming Baykar).
_ACCOUNTS = re.compile(
    r"(?:['’]s?|\btheir|\b(?-i:[A-Z])[\w\-]*)\s+(?:own\s+)?(?:accounts?|versions?|views?|positions?|claims?|statements?)"
    r"\s+(?:of|on|about|regarding|over)\b",
    re.I,
)


def is_when(facet: str) -> bool:
    """Is the facet the date of the others ("when", "in what year")?"""
    return re.fullmatch(r"\s*(?:when|(?:in\s+)?what\s+(?:year|month|date))\s*", facet, re.I) is not None


def compares_accounts(question: str) -> bool:
    """Does the comparison set the rows' own accounts side by side (rows are who says it)?"""
    return bool(_ACCOUNTS.search(question))


def _differ_parts(inner: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """ "Kyrgyzstan's and Tajikistan's figures for the dead" -> (Kyrgyzstan, Tajikistan), (figures for the
    dead,): the coordinated names, then the facet after the last of them; None when it is not that shape."""
    runs = [m for m in _NAME_RUN.finditer(inner) if _names(m.group())]
    if len(runs) < 2:
        return None
    last = 0
    while last + 1 < len(runs) and _NAME_GAP.match(inner[runs[last].end() : runs[last + 1].start()]):
        last += 1
    if last == 0:
        return None
    rest = re.sub(r"^['’]s\b", "", inner[runs[last].end() :]).strip()
    rest = _ACCOUNTS_OF.sub("", rest)
    if not _has_content(rest):
        return None
    return _names(inner[: runs[last].end()]), (_trim(rest),)


def named(question: str) -> tuple[str, ...]:
    """The names a question asks about ("What is the latest on Uzbekistan and Turkish drones?" -> Uzbekistan,
    Turkish), question words and sentence openers left out."""
    return _names(question)


def _names(text: str) -> tuple[str, ...]:
    out: list[str] = []
    for m in _NAME_RUN.finditer(text):
        words = [w for w in m.group().split() if w.lower() not in QUESTION_WORDS]
        while words and (
            words[0].lower() in STOPWORDS or words[0].lower() in _COMPARE_WORDS or words[0].lower() in _IMPERATIVES
        ):
            words = words[1:]
        name = " ".join(words).removesuffix("'s").removesuffix("’s")
        if name and name.lower() not in MONTH_NAMES and name.lower() not in STOPWORDS and not name.isdigit():
            out.append(name)
    return tuple(dict.fromkeys(out))


def _is_entity_word(word: str, entities: tuple[str, ...]) -> bool:
    return any(word.removesuffix("'s") in e.split() for e in entities)


def _content(word: str) -> bool:
    lw = word.lower()
    return lw not in STOPWORDS and lw not in QUESTION_WORDS and lw not in MONTH_NAMES and not lw.isdigit()


def _has_content(text: str) -> bool:
    return any(_content(w) and w.lower() not in _COMPARE_WORDS for w in re.findall(r"[A-Za-z][\w\-’']*", text))


def _trim(facet: str) -> str:
    """ "the number of people killed" -> "number of people killed"."""
    words = facet.split()
    while words and words[0].lower() in ("the", "a", "an", "their", "its", "his", "her"):
        words = words[1:]
    return " ".join(words)


# "Do the sources agree on X?", "Is there any disagreement over X?": wording about the sources, not about the
# disputed fact, which is X (dev b28: "disagreement" was read as the thing counted).
_DISPUTE_LEAD = re.compile(
    r"^\W*(?:(?:do|did|does)\s+(?:the\s+|all\s+the\s+)?(?:sources|reports|accounts|documents|figures)\s+"
    r"(?:agree|disagree|differ|conflict)|(?:is|are)\s+there\s+(?:any\s+)?(?:disagreements?|disputes?|"
    r"conflicts?|contradictions?|differences?)(?:\s+among\s+(?:the\s+)?sources)?)\s+(?:on|over|about|as to|in)\s+",
    re.I,
)


def disputed(question: str) -> str:
    """The fact a conflict question asks about, without its wording about the sources agreeing."""
    rest = _DISPUTE_LEAD.sub("", question, count=1)
    return rest[:1].upper() + rest[1:] if rest != question and rest else question


def topic(question: str) -> str:
    """The question without its timeline / recency wording: what the events or figures are about."""
    return re.sub(r"\s+", " ", _LATEST.sub(" ", _TIMELINE.sub(" ", question))).strip() or question


MAX_TIMELINE_PARTS = 4


def timeline_parts(question: str) -> list[str] | None:
    """The subjects of a timeline that lists several ("... the region's drone and arms deals", "Turkey's moves:
    its drone sales, the Turkic bloc it led and its defence agreements"): its topic cut at commas, colons,
    semicolons and "and", the pieces that say more than a date. One query finds the events of one of them
    (dev n24: "drone and arms deals" retrieved no passage on the Russian S-300 deal); None for one subject."""
    parts = [p.strip(" ?.!") for p in re.split(r"[:;,]\s*|\s+and\s+", topic(question))]
    parts = [p for p in parts if _has_content(p)]
    # Each part costs one retrieval: a long list typed into Discord is not dozens of searches.
    return parts[:MAX_TIMELINE_PARTS] if len(parts) >= 2 else None
