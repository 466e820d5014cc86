"""Sentence spans: where sentences, headings and list items start and end.

Spans carry character offsets into the original text so that a quote is always `text[start:end]`, never a
re-joined or re-normalised string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

from bot.text.markers import MARKER_RUN


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str  # == source[start:end]


# Words after which a period does not end a sentence (titles, months, Latin). "Inc."/"etc." are left out:
# they end sentences too often.
_NO_BREAK_AFTER = frozenset(
    "mr mrs ms dr prof sr jr st mt gen col lt sgt capt cmdr adm gov sen rep pres amb rev fr hon "
    "jan feb mar apr jun jul aug sep sept oct nov dec no nos vs v cf al fig figs approx ca e.g i.e "
    "dept est op vol pp ed eds".split()
)
_CLOSERS = "\"'”’)]»"
_OPENERS = "\"'“‘([«"
_BOUNDARY = re.compile(r"[.!?…]+[" + re.escape(_CLOSERS) + r"]*" + MARKER_RUN + r"(?=\s)")
_LIST_START = re.compile(r"\s*(?:[#>*•\-–]|\d+[.)]\s)")


def _word_before(text: str, pos: int) -> str:
    """The token (letters and inner dots) that ends right before `pos`."""
    start = pos
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "."):
        start -= 1
    return text[start:pos]


def _is_boundary(text: str, dot: int, after: int) -> bool:
    """Does the punctuation run starting at `dot` (and ending at `after`) end a sentence?"""
    nxt = after
    while nxt < len(text) and text[nxt] in " \t\r":
        nxt += 1
    if nxt >= len(text):
        return True
    if text[nxt] == "\n":
        return True
    ch = text[nxt]
    if not (ch.isupper() or ch.isdigit() or ch in _OPENERS or ch in "#*•-–"):
        return False  # "e.g. this", '"No." he said'
    if text[dot] == ".":
        word = _word_before(text, dot)
        bare = word.lower().strip(".")
        if bare in _NO_BREAK_AFTER or word.lower() in _NO_BREAK_AFTER:
            return False
        if len(bare) == 1 and bare.isalpha():
            return False  # an initial: "J. Smith"
        if re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]", word):
            return False  # "U.S." / "U.N." mid-sentence is far more common than at the end
    return True


def _line_breaks(text: str, start: int, end: int) -> list[int]:
    """Break points inside [start, end) at newlines that separate headings, list items or paragraphs."""
    cuts: list[int] = []
    for m in re.finditer(r"\n", text[start:end]):
        pos = start + m.start()
        prev_line = text[text.rfind("\n", 0, pos) + 1 : pos].strip()
        rest = text[pos + 1 : end]
        blank = rest.lstrip(" \t\r").startswith("\n")
        heading_like = bool(prev_line) and len(prev_line) < 60 and prev_line[-1:] not in ",;:-"
        if blank or heading_like or _LIST_START.match(rest) or not prev_line:
            cuts.append(pos)
    return cuts


def split_sentences(text: str) -> list[Span]:
    """Sentence spans of `text` (stripped of surrounding whitespace), in order, covering all of its words."""
    pieces: list[tuple[int, int]] = []
    cursor = 0
    for m in _BOUNDARY.finditer(text):
        if m.start() < cursor:
            continue
        if _is_boundary(text, m.start(), m.end()):
            pieces.append((cursor, m.end()))
            cursor = m.end()
    pieces.append((cursor, len(text)))
    spans: list[Span] = []
    for start, end in pieces:
        bounds = [start, *_line_breaks(text, start, end), end]
        for a, b in pairwise(bounds):
            while a < b and text[a].isspace():
                a += 1
            while b > a and text[b - 1].isspace():
                b -= 1
            if a < b and any(c.isalnum() for c in text[a:b]):
                spans.append(Span(a, b, text[a:b]))
    return spans
