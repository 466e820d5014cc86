"""Split long chat messages into parts that fit a length limit (Discord: 2,000 characters).

Pure text, no discord import. Rules, in order of strength:
- every part (with the fence markers we add) fits the limit;
- never split inside a citation marker like ``[12]``, a run of backticks, or a code-fence opener line;
- a split inside a ``` code block closes the block at the end of the part and reopens it (same language)
  at the start of the next, so every part renders its code as code;
- prefer a paragraph break, then a line break, then a sentence end (". ", "? ", "! ", also after a closing
  quote or bracket, and after a citation marker: "CI [1]. Next"), then a space; break inside a word only when
  a single "word" is longer than a whole part.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass

DISCORD_LIMIT = 2000
MIN_LIMIT = 64  # room for a reopened fence header (≤ 24 chars) plus real text
FENCE = "```"
_MARKER_RE = re.compile(r"\[\d{1,6}\]")
_LANG_RE = re.compile(r"[\w+#.-]{0,20}\n")  # a fence opener's language tag, then its newline
# Text before a split position that ends a sentence: terminal punctuation, maybe closers, then whitespace.
_SENTENCE_END_RE = re.compile(r"[.!?…][\"'”’)\]]*\s+$")
_LOOKBEHIND = 8


@dataclass(frozen=True)
class Piece:
    """One part: ``prefix + text[start:end] + suffix``; prefix/suffix are fence markers we added."""

    start: int
    end: int
    prefix: str = ""
    suffix: str = ""

    def render(self, text: str) -> str:
        return self.prefix + text[self.start : self.end] + self.suffix


class _Layout:
    """Where fences are, which split positions are forbidden, and the fence state at any position."""

    def __init__(self, text: str) -> None:
        n = len(text)
        self.bad = bytearray(n + 1)
        self.starts: list[int] = []  # start of each ``` token, in order
        self.langs: list[str] = []  # language tag, for tokens that open a block
        i = text.find(FENCE)
        while i != -1:
            self.starts.append(i)
            opener = len(self.starts) % 2 == 1
            end = i + len(FENCE)
            lang = ""
            if opener:
                m = _LANG_RE.match(text, end)
                if m:
                    lang, end = m.group()[:-1], m.end()
            self.langs.append(lang)
            for b in range(i + 1, end):  # never cut a token or an opener's header line
                self.bad[b] = 1
            # Right after an opener or right before a closer, a split would leave an empty block.
            self.bad[end if opener else i] = 1
            i = text.find(FENCE, i + len(FENCE))
        for m in _MARKER_RE.finditer(text):
            for b in range(m.start() + 1, m.end()):
                self.bad[b] = 1
        for b in range(1, n):
            if text[b - 1] == "`" and text[b] == "`":
                self.bad[b] = 1

    def open_lang(self, pos: int) -> str | None:
        """The language of the code block open at boundary `pos`, or None when outside any block."""
        k = bisect_left(self.starts, pos)  # tokens that start before pos
        return self.langs[k - 1] if k % 2 == 1 else None


def _reopen(lang: str | None) -> str:
    return "" if lang is None else f"{FENCE}{lang}\n"


def _close(text: str, end: int, lang: str | None) -> str:
    if lang is None:
        return ""
    return FENCE if end > 0 and text[end - 1] == "\n" else "\n" + FENCE


def plan_split(text: str, limit: int = DISCORD_LIMIT) -> list[Piece]:
    """The parts of `text`, as spans plus the fence markers each part needs."""
    if limit < MIN_LIMIT:
        raise ValueError(f"limit must be at least {MIN_LIMIT}")
    layout = _Layout(text)
    pieces: list[Piece] = []
    pos, n = 0, len(text)
    while True:
        prefix = _reopen(layout.open_lang(pos))
        if len(prefix) + n - pos <= limit:
            pieces.append(Piece(pos, n, prefix, ""))
            return pieces
        end = _best_end(text, layout, pos, limit - len(prefix))
        pieces.append(Piece(pos, end, prefix, _close(text, end, layout.open_lang(end))))
        pos = end


def _best_end(text: str, layout: _Layout, pos: int, budget: int) -> int:
    """The furthest good split position in (pos, pos + budget], keeping room for a closing fence."""
    half = pos + budget // 2
    para = line = sentence = space = marker_space = hard = 0
    for e in range(min(pos + budget, len(text) - 1), pos, -1):
        if layout.bad[e] or e - pos + len(_close(text, e, layout.open_lang(e))) > budget:
            continue
        hard = hard or e
        prev = text[e - 1]
        if prev == "\n":
            if not para and e >= 2 and text[e - 2] == "\n":
                para = e
            line = line or e
        if prev.isspace():
            # keep "claim [3]" together: a space right before a marker is a poor place to split
            if _MARKER_RE.match(text, e):
                marker_space = marker_space or e
            else:
                space = space or e
                if not sentence and e >= half and _SENTENCE_END_RE.search(text, max(pos, e - _LOOKBEHIND), e):
                    sentence = e
        if para and sentence:
            break
    for choice, floor in ((para, half), (line, half), (sentence, half), (space, 0), (marker_space, 0), (hard, 0)):
        if choice and choice >= floor:
            return choice
    # Pathological input (e.g. a backtick run longer than a part): cut at the limit anyway.
    return pos + max(1, budget - len(FENCE) - 1)


def split_message(text: str, limit: int = DISCORD_LIMIT) -> list[str]:
    """Split `text` into parts of at most `limit` characters (see module docstring for the rules)."""
    return [piece.render(text) for piece in plan_split(text, limit)]
