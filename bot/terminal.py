"""Terminal output for `footnote ask` / `footnote chat`: a streamed draft that the verified answer replaces.

The draft is the LLM's text as it arrives, unverified, so it is shown dimmed under a "drafting" line and
erased once the final answer is ready: the cursor goes back up over every row the draft took (counting the
terminal's own wrapping) and clears to the end of the screen. Only on a TTY; anything else gets the final
answer alone. Control characters in model or document text are never written to the terminal.
"""

from __future__ import annotations

import re
import shutil
import unicodedata
from collections.abc import Sequence
from typing import TextIO
from urllib.parse import urlsplit

from bot.text.control import CONTROL, printable

_CONTROL_OR_TAB = re.compile(CONTROL.pattern[:-1] + r"\t\n]")
_DIM, _RESET = "\x1b[2m", "\x1b[0m"
DRAFT_LABEL = "… drafting (not yet verified)"


def escape_controls(text: str) -> str:
    """For JSON output: every character `printable` would drop, written as a \\uXXXX escape instead (inside a
    JSON string that is the same character, so the data is kept; outside one, JSON has no raw controls)."""
    return _CONTROL_OR_TAB.sub(lambda m: f"\\u{ord(m.group()):04x}" if m.group() not in "\t\n" else m.group(),
                               text)


def allowed_link(url: str, allowlist: Sequence[str] = ()) -> str | None:
    """`url` when it may be shown as a link: http(s) only, and with an allowlist, only on a listed host or one of
    its subdomains. None otherwise (a document's claimed URL is never trusted as provenance)."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").rstrip(".").lower()
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    if allowlist and not any(host == h or host.endswith("." + h) for h in allowlist):
        return None
    return printable(url.strip())


def _width(ch: str) -> int:
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


class DraftPrinter:
    """Writes a dimmed draft to a terminal and erases it again."""

    def __init__(self, out: TextIO, columns: int | None = None) -> None:
        self.out = out
        self.columns = max(1, columns or shutil.get_terminal_size((80, 24)).columns)
        self._rows = 0  # rows below the first line of the draft that the cursor has moved down
        self._col = 0
        self._started = False

    def write(self, delta: str) -> None:
        if not self._started:
            self._started = True
            self._emit(DRAFT_LABEL + "\n")
        self._emit(printable(delta))

    def _emit(self, text: str) -> None:
        for ch in text:
            if ch == "\n":
                self._rows += 1
                self._col = 0
                continue
            w = _width(ch)
            if self._col + w > self.columns:  # the terminal wraps before this character
                self._rows += 1
                self._col = 0
            self._col += w
        self.out.write(f"{_DIM}{text}{_RESET}")
        self.out.flush()

    def clear(self) -> None:
        """Erase the draft (label included): back to its first row, clear to the end of the screen."""
        if not self._started:
            return
        up = f"\x1b[{self._rows}A" if self._rows else ""
        self.out.write(f"\r{up}\x1b[J")
        self.out.flush()
        self._rows = self._col = 0
        self._started = False
