"""Reference dates for retrieval: parsing an as-of date, and telling whether a question is about "now".

A question can be asked *as of* a date: the CLI's `footnote ask --as-of YYYY-MM-DD`, or in Discord the
message's own timestamp. Retrieval (`bot.retrieval.HybridRetriever`) then never serves a document dated after
that day (it did not exist yet) and, through `bot.fusion.recency_boost`, prefers documents dated shortly before
it: strongly when the question says it is about the present ("this week", "latest", "currently" ...), weakly
otherwise (news quizzes ask "Which city ran out of water?" about this week without saying so). Undated
documents are neither excluded nor boosted: a team's handbook has no date and is not stale for that.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from index.errors import QuestionError

# Words that tie a question to the time it is asked. Whole words, case-insensitive.
_NOW = re.compile(
    r"\b(?:this|last|past|previous|coming|next)\s+(?:week|weekend|month|year|season|spring|summer|autumn|fall|"
    r"winter|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b"
    r"|\b(?:latest|newest|recent|recently|currently|current|nowadays|today|tonight|yesterday|tomorrow|"
    r"upcoming|so far|as of now|right now|at the moment|these days|this morning|this evening)\b",
    re.IGNORECASE,
)


_SLASHED = re.compile(r"\d{4}/\d{2}/\d{2}")  # 2026/04/10, as RealTime QA and many people write it


def is_time_sensitive(question: str) -> bool:
    """True when the question says it is about the present or the recent past ("this week", "latest" ...)."""
    return bool(_NOW.search(question or ""))


def parse_as_of(value: str | date | datetime | None) -> date | None:
    """An as-of date from text (YYYY-MM-DD, YYYY/MM/DD or a full ISO timestamp), a date or a datetime (its own
    day, in its own time zone); None stays None. Anything else is a QuestionError naming the expected form."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        if "T" in text:
            return datetime.fromisoformat(text).date()
        return date.fromisoformat(text.replace("/", "-") if _SLASHED.fullmatch(text) else text)
    except ValueError:
        raise QuestionError(
            f"The as-of date {text[:40]!r} is not a date: write it as YYYY-MM-DD (e.g. 2026-04-10)."
        ) from None


def as_of_option(text: str | None) -> date | None:
    """`footnote ask --as-of`: the forms `--since/--until` take (bot.cli_dates: YYYY-MM-DD, YYYY/MM/DD, a month
    meaning its last day, today, yesterday, N days ago ...); anything else is a QuestionError that says so."""
    from bot.cli_dates import DateError, parse_date

    if text is None:
        return None
    try:
        return parse_date(text, "until")
    except DateError as err:
        raise QuestionError(f"--as-of: {err}") from err


def day_number(day: date) -> int:
    """The YYYYMMDD integer the index stores as a chunk's `date_int` (0: undated)."""
    return day.year * 10_000 + day.month * 100 + day.day


def day_of(date_int: int) -> date | None:
    """The day a chunk's `date_int` stands for; None when undated (0) or not a real day."""
    if date_int <= 0:
        return None
    try:
        return date(date_int // 10_000, date_int // 100 % 100, date_int % 100)
    except ValueError:
        return None


def days_before(as_of: date, date_int: int) -> int | None:
    """Whole days from a chunk's `date_int` to the as-of day (negative: dated after it); None when undated or
    the stored number is not a real day."""
    day = day_of(date_int)
    return None if day is None else (as_of - day).days
