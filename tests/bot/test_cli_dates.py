"""--since / --until parsing (bot/cli_dates.py): ISO 8601 and the obvious forms; everything else refused clearly."""

from __future__ import annotations

from datetime import date

import pytest

from bot.cli_dates import DateError, date_range, parse_date

TODAY = date(2026, 3, 1)


@pytest.mark.parametrize(
    ("text", "bound", "expected"),
    [
        ("2022-09-01", "since", date(2022, 9, 1)),
        ("2022/09/01", "since", date(2022, 9, 1)),
        ("2022-9-30", "until", date(2022, 9, 30)),
        ("2022-09-01T00:00", "since", date(2022, 9, 1)),
        ("2022-09-01T23:59:59.5+02:00", "until", date(2022, 9, 1)),
        ("2022-09-01 08:00", "since", date(2022, 9, 1)),
        ("20220901", "since", date(2022, 9, 1)),
        ("2022-09", "since", date(2022, 9, 1)),
        ("2022-09", "until", date(2022, 9, 30)),
        ("2024-02", "until", date(2024, 2, 29)),
        ("2022", "since", date(2022, 1, 1)),
        ("2022", "until", date(2022, 12, 31)),
        (" Yesterday ", "since", date(2026, 2, 28)),
        ("today", "until", TODAY),
        ("3 days ago", "since", date(2026, 2, 26)),
        ("2 weeks ago", "since", date(2026, 2, 15)),
    ],
)
def test_accepted_forms(text: str, bound: str, expected: date) -> None:
    assert parse_date(text, bound, today=TODAY) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("2022-13-45", "not a real date (month must be in 1..12)"),
        ("2022-02-30", "not a real date (day is out of range for month)"),
        ("2022-13", "not a real month"),
        ("09/01/2022", "ambiguous"),
        ("last tuesday", "is not a date; use YYYY-MM-DD"),
        ("", "is not a date"),
    ],
)
def test_rejected_with_a_reason(text: str, says: str) -> None:
    with pytest.raises(DateError, match=r".*") as caught:
        parse_date(text, "since", today=TODAY)
    assert says in str(caught.value) and repr(text) in str(caught.value)


def test_range_is_checked() -> None:
    assert date_range("2022-09", "2022-09", today=TODAY) == ("2022-09-01", "2022-09-30")
    assert date_range(None, "2022-9-30", today=TODAY) == (None, "2022-09-30")
    with pytest.raises(DateError, match="after --until"):
        date_range("2022-10-01", "2022-09-30", today=TODAY)
