"""Attribution: who a passage sentence says states its claim ("According to Has, ..." -> "Kerim Has"; "He
said ..." -> the person named before it), what it reports them as saying, and which party a figure in it belongs
to ("The Tajik government puts ... at 41" -> tajik).

Like everything the analyst strategies read (`evidence`), a speaker or a party is a word of the passage.
"""

from __future__ import annotations

import re

from bot.answer import Passage
from bot.text.markers import BULLET
from bot.text.sentences import Span
from bot.text.terms import MONTH_NAMES, STOPWORDS

_SAY = (
    r"(?:said|says|say|stated|states|argued|argues|argue|reported|reports|claimed|claims|denied|denies|"
    r"warned|warns|believes|believe|noted|notes|told|confirmed|confirms|insisted|insists|wrote|writes|added|"
    r"explained|explains|announced|asserted|sees|puts)"
)
_NAME = r"(?:the\s+)?[A-Z][\w’'\-]*(?:\s+(?:of\s+(?:the\s+)?|for\s+)?[A-Z][\w’'\-]*)*(?:’s|'s)?(?:\s+[a-z]+){0,2}"
_ACCORDING = re.compile(rf"\b[Aa]ccording to ({_NAME}?)(?=[,.;]|\s+(?:the|a|an|\d))")
_SUBJECT_SAYS = re.compile(
    # "The outlet Qirim News reported ...": a descriptive noun between the article and the name is left out.
    rf"^(?:(?:[A-Z][\w ,]*?,|(?:On|In) [\w ]+? \d{{4}})\s+)?(?:(?:The|An?)\s+[a-z]+\s+(?=[A-Z]))?"
    rf"((?:an?\s+)?{_NAME}?)(?:,[^,]{{1,60}},)?\s+"
    rf"(?:also\s+|then\s+|later\s+|publicly\s+)?{_SAY}\b"
)
# "It said ...", "He also warned ...": a claim whose speaker the sentence before names (`evidence` quotes them
# together).
PRONOUN_SAYS = re.compile(rf"(?:It|He|She|They)\s+(?:also\s+)?{_SAY}\b")
_PRONOUN = re.compile(rf"\b(?:he|she)\s+(?:also\s+)?{_SAY}\b|\bin (?:his|her) (?:reading|view)\b", re.I)
# A figure for all parties together ("in total", "on both sides"): no one party's (`owner`).
TOTAL = re.compile(
    r"\b(?:in total|overall|combined|altogether|all told|taken together|on both sides|both sides|"
    r"in all)\b",
    re.I,
)
# Parties: a demonym or country-like capitalised word; generic sentence openers are not parties.
_PARTY = re.compile(r"\b[A-Z][a-z]+(?:stan|ish|ian|ese|ey|ia|yz|ik|i)\b(?:’s|'s)?")


def speaker(span: Span, passage: Passage) -> str | None:
    """Who the sentence attributes its claim to ("According to Has, ..." -> "Kerim Has"; "He said ..." -> the
    person named last before it), if anyone. A list item is read without its bullet ("1. The outlet ...")."""
    sentence = BULLET.sub("", span.text, count=1)
    lead = len(span.text) - len(sentence)
    m = _ACCORDING.search(sentence) or _SUBJECT_SAYS.search(sentence)
    name: str | None = None
    if m:
        name = _clean_name(m.group(1))
        if name is None and re.match(
            r"(?:the|a|an)\s+(?:group|company|ministry|paper|committee|agency)\b", m.group(1), re.I
        ):
            name = _organisation(passage)
    if name is None and _PRONOUN.search(sentence):
        name = _person_in(passage, span.start, person=True)
    elif name is None and (it := re.search(r"\b(?:It|They)\s+(?:also\s+)?" + _SAY + r"\b", sentence)):
        name = _person_in(passage, span.start + lead + it.start(), person=False)
    if not name:
        return None
    full = _full_name(name, passage)
    # A capitalised common word ("Has" is also a verb) is a name only when the document names it in full.
    return None if full.lower() in STOPWORDS else full


_REPORTED = re.compile(rf"\b{_SAY}\b[^.;:]*?\bthat\s+(.+)", re.S)


def reported_clause(sentence: str) -> str | None:
    """What a sentence reports someone as saying ("X said it held information that <clause>"), or None."""
    m = _REPORTED.search(sentence)
    return m.group(1) if m else None


def stated_by(span: Span, passage: Passage) -> str:
    """The speaker when the sentence names one, else the document (its title)."""
    return speaker(span, passage) or passage.title


def _clean_name(raw: str) -> str | None:
    words = raw.split()
    while words and words[0].lower() in STOPWORDS and (words[0][0].islower() or words[0] in ("The", "A", "An")):
        words = words[1:]
    while words and words[-1][0].islower() and words[-1] not in ("government", "side", "press", "media"):
        words = words[:-1]
    name = " ".join(words)
    if not name or name.lower() in MONTH_NAMES or name.lower() in ("it", "this", "he", "she", "they"):
        return None
    return name


_MULTI_NAME = re.compile(r"\b[A-Z][a-z]+(?:\s+(?:of\s+)?[A-Z][a-z]+)+\b")


def _person_in(passage: Passage, before: int, *, person: bool) -> str | None:
    """Who "he" or "it" refers to. "He": the person a document's title is about ("Analyst View: Kerim Has on
    ..."), else the last two-word name before the sentence that is not a place; "it": the last name of two
    or more capitalised words before the sentence ("the Kyrgyz State Committee of National Security")."""
    if person and ":" in passage.title:
        m = re.search(r"\b([A-Z][a-z]+ [A-Z][a-z]+)\b", passage.title.split(":", 1)[1])
        if m:
            return m.group(1)
    runs = [
        m.group()
        for m in _MULTI_NAME.finditer(passage.text[:before])
        if m.group().split()[0].lower() not in STOPWORDS
        and not (person and (len(m.group().split()) != 2 or any(_PARTY.fullmatch(w) for w in m.group().split())))
    ]
    return runs[-1] if runs else None


def _organisation(passage: Passage) -> str | None:
    """ "The group said ...": the organisation the document is about (the title's lead before a colon, or
    its first capitalised word when the text names it too)."""
    if ":" in passage.title:
        return passage.title.split(":", 1)[0].strip()
    first = passage.title.split()[0] if passage.title.split() else ""
    return first if first[:1].isupper() and first in passage.text else None


def _full_name(name: str, passage: Passage) -> str:
    """ "Has" -> "Kerim Has" when the document names him in full."""
    if " " in name:
        return name
    m = re.search(rf"\b([A-Z][a-z]+ {re.escape(name)})\b", f"{passage.title}. {passage.text}")
    return m.group(1) if m else name


def owner(sentence: str, passage: Passage) -> str | None:
    """The party a figure belongs to: the first demonym/country of the sentence ("The Tajik government puts
    ... at 41" -> tajik), else of the document's title when the sentence names none and the title names
    exactly one; None when the figure is a total or names no party."""
    if TOTAL.search(sentence):
        return None
    for m in _PARTY.finditer(sentence):
        if not _function_word(m.group()):
            return party_root(m.group())
    found = {party_root(x) for x in _PARTY.findall(passage.title) if not _function_word(x)}
    if "-" in passage.title and re.search(r"[A-Z][a-z]+-[A-Z][a-z]+", passage.title):
        return None  # "Kyrgyz-Tajik Border Dispute": about both
    return found.pop() if len(found) == 1 else None


def _function_word(word: str) -> bool:
    """ "They", "These" end like a demonym ("-ey", "-ese") but name no party."""
    return word.lower().replace("’", "'").removesuffix("'s") in STOPWORDS


def party_root(word: str) -> str:
    w = word.lower().replace("’", "'").removesuffix("'s")
    for end in ("istan", "stan", "ish", "ian", "ese", "ey"):
        if w.endswith(end) and len(w) - len(end) >= 4:
            return w[: -len(end)]
    return w


def same_party(a: str, b: str) -> bool:
    return party_root(a) == party_root(b)
