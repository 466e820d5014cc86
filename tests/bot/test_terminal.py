"""The terminal draft (bot/terminal.py): what is written, and that erasing goes back over every row it took."""

from __future__ import annotations

import io

from bot.terminal import DRAFT_LABEL, DraftPrinter, printable


def test_control_characters_never_reach_the_terminal() -> None:
    assert printable("a\x1b[2Jb\x07c\r\nd\x9b1mx\tf") == "abc\ndx    f"  # whole CSI sequences, 7- and 8-bit
    assert printable("t\x1b]0;pwned\x07u\x1b]2;x\x1b\\v") == "tuv"  # OSC: set the window title
    assert printable("admin\u202e\u2066gpj.exe") == "admingpj.exe"  # bidi overrides reorder what is shown


def test_draft_is_dimmed_under_a_label_and_erased_over_its_wrapped_rows() -> None:
    out = io.StringIO()
    draft = DraftPrinter(out, columns=40)  # the label (30 columns) fits on one row
    draft.write("x" * 40)  # exactly one full row: the terminal has not wrapped yet
    draft.write("abc\x1b]0;pwned\x07")  # wraps to a second row; the whole escape sequence is dropped
    draft.write("\nlast")
    draft.clear()
    text = out.getvalue()
    assert text.startswith(f"\x1b[2m{DRAFT_LABEL}\n")
    assert "\x1b]0;" not in text and "pwned" not in text
    # label, then row 1 (40 x), "abc" wraps to row 2, the newline starts row 3: three rows up
    assert text.endswith("\r\x1b[3A\x1b[J")


def test_nothing_written_means_nothing_to_erase() -> None:
    out = io.StringIO()
    DraftPrinter(out, columns=80).clear()
    assert out.getvalue() == ""


def test_wide_characters_count_twice() -> None:
    out = io.StringIO()
    draft = DraftPrinter(out, columns=40)
    draft.write("漢" * 21)  # 42 columns: the 21st character wraps
    draft.clear()
    assert out.getvalue().endswith("\r\x1b[2A\x1b[J")


def test_a_label_wider_than_the_terminal_is_counted_too() -> None:
    out = io.StringIO()
    draft = DraftPrinter(out, columns=4)
    draft.write("ab")
    draft.clear()
    rows = -(-len(DRAFT_LABEL) // 4)  # the label's rows, then "ab" on the row after it
    assert out.getvalue().endswith(f"\r\x1b[{rows}A\x1b[J")


def test_json_keeps_controls_as_escapes() -> None:
    import json

    from bot.terminal import escape_controls

    raw = json.dumps({"title": "x\x9b2Jy\u202ez"}, ensure_ascii=False)
    safe = escape_controls(raw)
    assert "\x9b" not in safe and "\u202e" not in safe
    assert json.loads(safe) == {"title": "x\x9b2Jy\u202ez"}  # nothing lost, only escaped


def test_allowed_link() -> None:
    from bot.terminal import allowed_link

    assert allowed_link("https://phish.example/login") == "https://phish.example/login"  # no allowlist: shown
    assert allowed_link("javascript:alert(1)") is None and allowed_link("file:///etc/passwd") is None
    allow = ["example.org"]
    assert allowed_link("https://docs.example.org/a", allow) == "https://docs.example.org/a"
    assert allowed_link("https://example.org.evil.test/a", allow) is None
    assert allowed_link("https://evilexample.org/a", allow) is None
