"""Dates for `footnote ask --since / --until`: ISO 8601 and the obvious forms, anything else refused clearly.

Documents are dated by day, so a bound is a day: a time of day (`2022-09-01T00:00`) is accepted and ignored.
A month or a year stands for its first day as `--since` and its last day as `--until` (`--until 2022-09` keeps
September). Day-first or month-first forms such as `09/01/2022` are refused: they mean different days in
different countries, and a silently wrong filter is worse than a question back.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta
from typing import Literal

Bound = Literal["since", "until"]

_DAY = re.compile(  # matched on the lowercased text: "t" and "z" are ISO 8601's T and Z
    r"(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})"
    r"(?:[t ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:z|[+-]\d{2}(?::?\d{2})?)?)?"
)
_BASIC = re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})")  # ISO 8601 basic format, 20220901
_MONTH = re.compile(r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})")
_YEAR = re.compile(r"(?P<y>\d{4})")
_AGO = re.compile(r"(?P<n>\d{1,5}) ?(?P<unit>days?|weeks?) ago")
HELP = "YYYY-MM-DD (also YYYY/MM/DD, YYYY-MM, YYYY, 20220901, an ISO date-time, today, yesterday, N days ago)"


class DateError(ValueError):
    """A --since/--until value that is not a date; the message says what was wrong and what is accepted."""


def _day(text: str, year: str, month: str, day: str) -> date:
    try:
        return date(int(year), int(month), int(day))
    except ValueError as err:  # "month must be in 1..12", "day is out of range for month"
        raise DateError(f"{text!r} is not a real date ({err}); use {HELP}") from err


def parse_date(text: str, bound: Bound, *, today: date | None = None) -> date:
    """The first (`since`) or last (`until`) day `text` stands for. Raises DateError."""
    value = " ".join(text.strip().lower().split())
    today = today or date.today()
    if value in ("today", "now"):
        return today
    if value == "yesterday":
        return today - timedelta(days=1)
    if match := _AGO.fullmatch(value):
        days = int(match["n"]) * (7 if match["unit"].startswith("week") else 1)
        return today - timedelta(days=days)
    if (match := _DAY.fullmatch(value)) or (match := _BASIC.fullmatch(value)):
        return _day(text, match["y"], match["m"], match["d"])
    if match := _MONTH.fullmatch(value):
        year, month = int(match["y"]), int(match["m"])
        if not 1 <= month <= 12:
            raise DateError(f"{text!r} is not a real month (month must be in 1..12); use {HELP}")
        return date(year, month, 1 if bound == "since" else calendar.monthrange(year, month)[1])
    if match := _YEAR.fullmatch(value):
        year = int(match["y"])
        if year < 1:
            raise DateError(f"{text!r} is not a real year; use {HELP}")
        return date(year, 1, 1) if bound == "since" else date(year, 12, 31)
    if re.fullmatch(r"\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}", value):
        raise DateError(f"{text!r} is ambiguous (day/month or month/day?); write it as YYYY-MM-DD")
    raise DateError(f"{text!r} is not a date; use {HELP}")


def date_range(since: str | None, until: str | None, *, today: date | None = None) -> tuple[str | None, str | None]:
    """ISO days for the two bounds (None where not given). Raises DateError, also for an empty range."""
    first = parse_date(since, "since", today=today) if since else None
    last = parse_date(until, "until", today=today) if until else None
    if first and last and first > last:
        raise DateError(f"--since {first.isoformat()} is after --until {last.isoformat()}: no document can match")
    return (first.isoformat() if first else None, last.isoformat() if last else None)
