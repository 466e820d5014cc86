"""Footnote markers ("[1]", "[2, 3]") and list bullets: the one definition of each, used by sentence
splitting, the answerers, the verifier and the renderers."""

from __future__ import annotations

import re

# One marker group: "[1]", "[1, 2]", "[1;3]". Its digits are group 1.
MARKER = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
# A run of markers after a sentence's full stop, as a pattern fragment for other regexes.
MARKER_RUN = r"(?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])*"
# A marker with the whitespace before it, for stripping markers out of a sentence.
_SPACED_MARKER = re.compile(r"\s*" + MARKER.pattern)
# A list bullet or numbered-list/heading leader at the start of a line: "- ", "* ", "• ", "1. ", "2) ", "## ".
BULLET = re.compile(r"^\s*(?:[-*•–]|\d+[.)]|#+)\s+")
# A numbered list item's enumerator at a line start ("1. ", "2) "): a position in a list, never a quantity.
ENUMERATOR = re.compile(r"(?m)^[ \t]*\d{1,3}[.)](?=[ \t])")
# A line holding only a bullet, left behind when its text was removed.
EMPTY_BULLET_LINE = re.compile(r"(?m)^[ \t]*(?:[-*•–]|\d+[.)])[ \t]*$\n?")

_CLOSERS = "\"'”’)]»*"


def parse_markers(raw: str) -> list[int]:
    """Footnote numbers in order of first appearance: "X [2][1, 2]." -> [2, 1]."""
    out: list[int] = []
    for group in MARKER.findall(raw):
        for n in re.split(r"\s*[,;]\s*", group):
            if int(n) not in out:
                out.append(int(n))
    return out


def strip_markers(text: str) -> str:
    return _SPACED_MARKER.sub("", text)


def blank_enumerators(text: str) -> str:
    """`text` with its list enumerators blanked out (same length, so offsets still hold)."""
    return ENUMERATOR.sub(lambda m: " " * len(m.group()), text)


def strip_bullet(text: str) -> str:
    return BULLET.sub("", text)


def attach_markers(sentence: str, ns: list[int]) -> str:
    """ "at 41." + [1] -> "at 41 [1]."; after a closing quote or bracket the marker goes at the very end."""
    if not ns:
        return sentence
    marks = "".join(f"[{n}]" for n in ns)
    m = re.search(r"[.!?…]+$", sentence)
    if m and m.start() > 0 and sentence[m.start() - 1] not in _CLOSERS:
        return f"{sentence[: m.start()].rstrip()} {marks}{sentence[m.start() :]}"
    return f"{sentence} {marks}"
