"""Dates in analyst answers: the "as of" date of a document, and the dates a sentence itself states.

A citation's date is its document's date (front matter, HTML meta, PDF info) and nothing else: a document
without one is shown as "undated", never given a date guessed from its text. A date written in a sentence
("On 10 February 2023 ...", "In early April 2022 ...", "13 September:" under a "September 2022" heading) is
the date of what the sentence reports; a day or month without a year borrows the year of the heading or of
the document, and says so by being ordered, not by being rewritten.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.answer import Passage

UNDATED = "undated"
_MONTH_INDEX = {
    m: i + 1
    for i, m in enumerate(
        "january february march april may june july august september october november december".split()
    )
}
_MONTH_INDEX.update({m[:3]: i for m, i in list(_MONTH_INDEX.items())})
_MONTH_INDEX["sept"] = 9
_MONTH = (
    r"(January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?"
)
_PART = r"(?:(early|mid|late|the (?:first|second) half of|the middle of)[- ])?"
# Day-month(-year), month-day(-year), (part-)month-year, bare year: most specific first.
_PATTERNS = [
    re.compile(rf"\b(\d{{1,2}}) {_MONTH}(?:,? (\d{{4}}))?\b", re.I),
    re.compile(rf"\b{_MONTH} (\d{{1,2}})(?:st|nd|rd|th)?(?:, (\d{{4}}))?\b(?!,? \d{{3}})", re.I),
    re.compile(rf"\b{_PART}{_MONTH}(?: of)? (\d{{4}})\b", re.I),
    re.compile(r"\b(?:in|since|by|from|until|during|early|late|mid-?)\s+(1[89]\d\d|20\d\d)\b", re.I),
]
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


@dataclass(frozen=True, order=True)
class When:
    """A point in time as precise as the text gives it: (year, month, day), 0 for "not given"."""

    year: int
    month: int = 0
    day: int = 0

    def label(self) -> str:
        if self.day:
            return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"
        if self.month:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}"


def document_date(passage: Passage) -> When | None:
    m = _ISO.match(passage.date or "")
    return When(int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None


def as_of(passage: Passage) -> str:
    """What a citation shows: the document's ISO date, or "undated"."""
    return passage.date if passage.date and _ISO.match(passage.date) else UNDATED


def stated_date(sentence: str, context_year: int | None = None) -> When | None:
    """The first date a sentence states; a day/month without a year takes `context_year` (or is dropped)."""
    found: list[tuple[int, When]] = []
    for k, pattern in enumerate(_PATTERNS):
        for m in pattern.finditer(sentence):
            when = _when(k, m, context_year)
            if when is not None:
                found.append((m.start(), when))
    if not found:
        return None
    found.sort()
    first = found[0][1]
    # "bought them in 2021 and took delivery in December 2021": the more precise date of the same year.
    same_year = [w for _, w in found if w.year == first.year]
    return max(same_year, key=lambda w: (bool(w.day), bool(w.month))) if not first.month else first


def _when(k: int, m: re.Match[str], context_year: int | None) -> When | None:
    g = m.groups()
    if k == 0:
        day, month, year = int(g[0]), _MONTH_INDEX[g[1].lower().rstrip(".")], g[2]
    elif k == 1:
        month, day, year = _MONTH_INDEX[g[0].lower().rstrip(".")], int(g[1]), g[2]
    elif k == 2:
        return When(int(g[2]), _MONTH_INDEX[g[1].lower().rstrip(".")])
    else:
        return When(int(g[0]))
    if not 1 <= day <= 31:
        return None
    y = int(year) if year else context_year
    return When(y, month, day) if y else None


def context_year(passage: Passage) -> int | None:
    """The year a yearless "13 September" in this passage belongs to: its heading's, else its document's."""
    for text in (passage.heading or "", passage.title):
        m = re.search(r"\b(1[89]\d\d|20\d\d)\b", text)
        if m:
            return int(m.group(1))
    when = document_date(passage)
    return when.year if when else None


def effective_date(sentence: str, passage: Passage) -> When | None:
    """When what the sentence reports was true: the date it states, else its document's "as of" date."""
    return stated_date(sentence, context_year(passage)) or document_date(passage)


# "the September 2022 fighting", "the 13 September 2022 opening": a date naming an event the sentence refers
# to, not the date of what it reports ("The Health Ministry now puts the number killed in the September 2022
# fighting at 63" is a figure of the ministry's document, not of September 2022).
_EVENT_BEFORE = re.compile(r"\bthe\s+$", re.I)
_EVENT_AFTER = re.compile(
    r"^\s+(?:[a-z][\w-]*\s+)?(?:fighting|clash(?:es)?|flare-ups?|war|attacks?|incidents?|"
    r"crisis|violence|offensive|battles?|events?|talks|elections?|vote|summit|deal|visit)\b"
)


def reported_date(sentence: str, passage: Passage) -> When | None:
    """When what a sentence reports happened, for a timeline (see `reported`)."""
    return reported(sentence, passage)[0]


def reported(sentence: str, passage: Passage) -> tuple[When | None, str]:
    """When what a sentence reports happened, and where that date comes from: the date it states ("text"; an
    event it merely names, "the September 2022 fighting", left out), else its section heading's ("heading":
    "## Taking sides in September 2022"), else its document's date when it names a dated event ("document":
    it reports something of that event as of the document, a toll, a view); (None, "") for a sentence that
    gives no time at all ("now" is no date: "Turkey might now arm Tajikistan" in a section on spring 2022)."""
    year = context_year(passage)
    spans = _date_spans(sentence, year)
    own = [w for a, b, w in spans if not _names_event(sentence, a, b)]
    if own:
        # All its own: the first, made precise as `stated_date` does; else the first not naming an event.
        return (stated_date(sentence, year) if len(own) == len(spans) else own[0]), "text"
    heading = passage.heading.split(">")[-1] if passage.heading else ""
    in_heading = stated_date(heading, year) if heading else None
    if in_heading is not None and in_heading.month:
        return in_heading, "heading"
    if spans:
        return document_date(passage), "document"
    return None, ""


def _names_event(text: str, start: int, end: int) -> bool:
    return bool(_EVENT_BEFORE.search(text[:start]) and _EVENT_AFTER.match(text[end:]))


def stated_dates(text: str, context_year: int | None = None) -> list[tuple[int, When]]:
    """Every date a text states, with where it starts, in order (overlapping matches: the most specific)."""
    return [(a, w) for a, _, w in _date_spans(text, context_year)]


def _date_spans(text: str, context_year: int | None) -> list[tuple[int, int, When]]:
    found: list[tuple[int, int, When]] = []
    for k, pattern in enumerate(_PATTERNS):
        for m in pattern.finditer(text):
            when = _when(k, m, context_year)
            if when is not None and not any(a <= m.start() < b for a, b, _ in found):
                found.append((m.start(), m.end(), when))
    return sorted(found)


_BARE_YEAR = re.compile(r"\b(?:1[89]\d\d|20\d\d)\b")
_RANGE_WORD = re.compile(
    r"\b(?P<between>between|from)\b|\b(?P<after>after|since|following)\b|"
    r"\b(?P<before>before|until|till|up to|prior to)\b",
    re.I,
)


def period_start(question: str) -> When | None:
    """When the period a timeline asks about begins, as the timeline reads it: the start of a range
    ("between April 2022 and February 2023", "after the September 2022 fighting"), else the period named
    ("the events of 2022", "in September 2022"); None when it names no start (an open "until 2022", or an event:
    "from the opening of the base")."""
    bounds = asked_period(question)
    if bounds is not None:
        return bounds[0]
    return stated_date(question)


def asked_period(question: str) -> tuple[When | None, When | None] | None:
    """The period a question bounds its events by, (from, to), either end open (None): "between April 2022
    and February 2023" -> both ends; "after the September 2022 fighting" -> from September 2022; "before
    2022" -> up to 2022. None when the question sets no such bound (a bare "in September 2022" is a period
    of its own, read by the caller)."""
    spans = _date_spans(question, None)
    # A bare year is a bound too ("before 2022", "between 2020 and 2021"), though in a sentence it is a date
    # only after "in", "since", ... (see _PATTERNS).
    years = [(m.start(), When(int(m.group()))) for m in _BARE_YEAR.finditer(question)]
    dates = sorted(
        [(a, w) for a, _, w in spans] + [(at, w) for at, w in years if not any(a <= at < b for a, b, _ in spans)]
    )
    for m in _RANGE_WORD.finditer(question):
        later = [(at, w) for at, w in dates if at >= m.end()]
        if not later:
            continue
        if m.group("between"):
            if len(later) >= 2:
                return later[0][1], later[1][1]
            # "between 13 and 25 September 2022", "between April and May 2022": the first end borrows what it
            # leaves out from the second (before, one full date was no range at all).
            start = _partial_start(question[m.end() : later[0][0]], later[0][1])
            if start is not None:
                return start, later[0][1]
            continue  # "from the opening of the base until the end of 2022": the next range word bounds it
        if m.group("after"):
            return later[0][1], None
        # "before September 2022" leaves September out; "until September 2022" keeps it.
        before = m.group("before").lower() in ("before", "prior to")
        return None, _just_before(later[0][1]) if before else later[0][1]
    return None


def _just_before(when: When) -> When:
    """The last point before `when` at its precision: 2022-09 -> 2022-08, 2022 -> 2021, 2022-09-13 -> 09-12
    (a 1st -> the month before, whole)."""
    if when.day > 1:
        return When(when.year, when.month, when.day - 1)
    if when.month:
        return When(when.year, when.month - 1) if when.month > 1 else When(when.year - 1, 12)
    return When(when.year - 1)


_PARTIAL_START = re.compile(
    rf"^\s*(?:the\s+)?(?:(\d{{1,2}})(?:st|nd|rd|th)?|{_MONTH})\s*(?:and|to|until|till|through|-|–)\s*$", re.I
)


def _partial_start(gap: str, end: When) -> When | None:
    """The start of "between <gap><end>" when the gap is a day or month alone ("13 and ", "April and ")."""
    m = _PARTIAL_START.match(gap)
    if m is None:
        return None
    if m.group(1):
        day = int(m.group(1))
        if not end.month or not end.day or not 1 <= day <= end.day:
            return None
        return When(end.year, end.month, day)
    month = _MONTH_INDEX[m.group(2).lower().rstrip(".")]
    if not end.month:
        return When(end.year, month)
    # "between November and February 2023": November of the year before.
    return When(end.year if month <= end.month else end.year - 1, month)


def in_period(when: When, start: When | None, end: When | None) -> bool:
    """Is `when` inside [start, end], each end compared at its own precision ("2023-02" holds 10 February)?"""

    def cut(w: When, like: When) -> When:
        return When(w.year, w.month if like.month else 0, w.day if like.day else 0)

    return (start is None or cut(when, start) >= start) and (end is None or cut(when, end) <= end)
