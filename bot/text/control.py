"""Text from documents and models made safe to print: no control characters, no escape sequences.

One place for the CLI (`bot/terminal.py`), the Markdown export and the Discord renderer. A document is data: an
escape sequence in it must not move a terminal's cursor or retitle its window, and a bidirectional override must
not reorder what a reader sees ("Trojan Source", CVE-2021-42574) in a terminal, a Markdown file or Discord.
"""

from __future__ import annotations

import re

# C0 and C1 control characters except newline and tab; the bidi overrides/isolates and marks; zero-width
# characters that hide text; the line/paragraph separators that some terminals treat as newlines.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

# Whole escape sequences (CSI "ESC [ ... final", OSC "ESC ] ... BEL/ST") go, not just their ESC: "[2J" left behind
# would be noise in the text.
_SEQUENCE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x9b[0-?]*[ -/]*[@-~]")


def printable(text: str) -> str:
    """`text` without control characters or escape sequences (tabs become spaces, newlines kept)."""
    return CONTROL.sub("", _SEQUENCE.sub("", text.replace("\t", "    ")))
