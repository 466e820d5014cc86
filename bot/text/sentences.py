"""Sentence spans: where sentences, headings and list items start and end.

Sentences come from NLTK's Punkt model for English (the copy llama-index bundles, so nothing is downloaded),
inside blocks cut at the line breaks that end headings, list items and paragraphs. A small pass then fixes what
Punkt gets wrong in our texts:
- footnote markers after a full stop ("... at 41. [1] Then ...") belong to the sentence before them;
- a piece that starts in lower case continues the sentence before it ("e.g. this", '"No," he said'), and so does
  a number after "No." ("ranked No. 1");
- an abbreviation that can end a sentence ("5 p.m.", "Inc.", "U.S.") ends it when a typical sentence starter
  follows ("... at 5 p.m. Then the ...").
Spans carry character offsets into the original text so that a quote is always `text[start:end]`, never a
re-joined or re-normalised string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

from bot.text.markers import MARKER

if TYPE_CHECKING:
    from nltk.tokenize.punkt import PunktParameters


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str  # == source[start:end]


_LIST_START = re.compile(r"\s*(?:[#>*•\-–]|\d+[.)]\s)")
_LEADING_MARKERS = re.compile(rf"(?:\s*{MARKER.pattern})+")
# Abbreviations (and ellipses) that also end sentences: after them, a sentence starter begins a new sentence.
_TERMINAL_ABBREVIATIONS = re.compile(
    r"(?:\b(?:[ap]\.m|inc|ltd|co|corp|jr|sr|etc|u\.s|u\.k|u\.n|e\.u|d\.c|st)\.|\.\.\.|…)(?=\s+[A-Z])", re.I
)
_NUMBER_SIGN = re.compile(r"\bNos?\.\s*$")
# A numbered list item's enumerator ("1." at a line start): Punkt ends a sentence after it.
_ENUMERATOR = re.compile(r"\s*\d{1,3}[.)]\s*")
# Words that start sentences far more often than they follow an abbreviation mid-sentence; Punkt's own
# list of sentence starters for English is added at load time.
_STARTERS = frozenset(
    "the a an he she it they we i you this that these those then there but and so yet however meanwhile "
    "later earlier after before its his her their our its officials".split()
)


@cache
def _punkt() -> tuple[object, frozenset[str]]:
    # llama-index registers its bundled NLTK data (Punkt for English included) on NLTK's search path, as its own
    # SentenceSplitter does: nothing is downloaded. Setting NLTK_DATA elsewhere would make NLTK try to.
    from llama_index.core.utils import globals_helper
    from nltk.data import find
    from nltk.tokenize.punkt import PunktSentenceTokenizer

    globals_helper.wait_for_nltk_check()
    tokenizer = PunktSentenceTokenizer()
    tokenizer._params = read_punkt_params(Path(find("tokenizers/punkt_tab/english/")))
    return tokenizer, _STARTERS | frozenset(tokenizer._params.sent_starters)


def read_punkt_params(directory: Path) -> PunktParameters:
    """What `nltk.tokenize.punkt.load_punkt_params` reads from a `punkt_tab` model directory, read with plain file
    I/O: 18 ms here instead of 145 ms (NLTK decodes the files through its seekable stream reader, a line at a
    time), a seventh of a cold `footnote ask`'s first answer. Same four files, same sets (tested)."""
    from nltk.tokenize.punkt import PunktParameters

    def rows(name: str) -> list[str]:
        return [line for line in (directory / name).read_text(encoding="utf-8").split("\n") if line.strip()]

    params = PunktParameters()
    params.collocations = {tuple(row.split("\t")) for row in rows("collocations.tab")}
    params.sent_starters = set(rows("sent_starters.txt"))
    params.abbrev_types = set(rows("abbrev_types.txt"))
    for word, flags in (row.split("\t") for row in rows("ortho_context.tab")):
        params.ortho_context[word] = int(flags)
    return params


def line_start(text: str, offset: int) -> int:
    """Where the line holding `offset` starts (a list item's bullet, an emphasised note's first "*")."""
    return text.rfind("\n", 0, offset) + 1


def line_at(text: str, offset: int) -> str:
    """The whole line holding `offset`, stripped."""
    end = text.find("\n", offset)
    return text[line_start(text, offset) : end if end >= 0 else len(text)].strip()


def _line_breaks(text: str, start: int, end: int) -> list[int]:
    """Break points inside [start, end) at newlines that separate headings, list items or paragraphs."""
    cuts: list[int] = []
    for m in re.finditer(r"\n", text[start:end]):
        pos = start + m.start()
        prev_line = text[line_start(text, pos) : pos].strip()
        rest = text[pos + 1 : end]
        blank = rest.lstrip(" \t\r").startswith("\n")
        heading_like = bool(prev_line) and len(prev_line) < 60 and prev_line[-1:] not in ",;:-"
        if blank or heading_like or _LIST_START.match(rest) or not prev_line:
            cuts.append(pos)
    return cuts


def _punkt_pieces(text: str, start: int, end: int) -> list[tuple[int, int]]:
    tokenizer, starters = _punkt()
    block = text[start:end]
    pieces = [[start + a, start + b] for a, b in tokenizer.span_tokenize(block)]  # type: ignore[attr-defined]
    out: list[list[int]] = []
    for piece in pieces:
        a, b = piece
        if out:
            m = _LEADING_MARKERS.match(text, a)
            if m and m.end() > a:  # "[1] Then ..." -> the marker closes the previous sentence
                out[-1][1] = m.end()
                a = m.end()
                while a < b and text[a].isspace():
                    a += 1
                if a >= b:
                    continue
            first = next((c for c in text[a:b] if c.isalnum()), "")
            # "... was No. 1 on the list": Punkt ends a sentence at "No." before a number (news-mutation dev: eight
            # true sentences cut there, their quotes ending "... at No.").
            number_sign = first.isdigit() and _NUMBER_SIGN.search(text, out[-1][0], out[-1][1])
            # "1." then "The outlet ...": the enumerator opens the list item's sentence, it is not one (dev chain d40:
            # "Two claims drew attention: 1 [1]." quoted a bare "1.").
            prev_text = text[out[-1][0] : out[-1][1]]
            k = out[-1][0] + len(prev_text) - len(prev_text.lstrip())  # at a line start, not "... Batken? 41. Injured?"
            enumerator = _ENUMERATOR.fullmatch(prev_text) and not text[line_start(text, k) : k].strip()
            if first.islower() or number_sign or enumerator:
                out[-1][1] = b
                continue
        out.append([a, b])
    split: list[tuple[int, int]] = []
    for a, b in out:
        cursor = a
        for m in _TERMINAL_ABBREVIATIONS.finditer(text, a, b):
            nxt = re.match(r"\s+([A-Za-z]+)", text[m.end() : b])
            if nxt and nxt.group(1).lower() in starters:
                split.append((cursor, m.end()))
                cursor = m.end()
        split.append((cursor, b))
    return split


def split_sentences(text: str) -> list[Span]:
    """Sentence spans of `text` (stripped of surrounding whitespace), in order, covering all of its words."""
    return list(_split_cached(text))


# Punkt is the warm answer's biggest cost (~45 % of the extractive stage on the 5.5k-chunk RealTime QA index,
# cProfile 2026-12-02) and the same retrieved chunks are split again and again (scorer, names, verifier,
# later questions): spans are immutable, so the split of a text is kept (bounded LRU).
@lru_cache(maxsize=8192)
def _split_cached(text: str) -> tuple[Span, ...]:
    spans: list[Span] = []
    bounds = [0, *_line_breaks(text, 0, len(text)), len(text)]
    for start, end in pairwise(bounds):
        for a, b in _punkt_pieces(text, start, end):
            while a < b and text[a].isspace():
                a += 1
            while b > a and text[b - 1].isspace():
                b -= 1
            if a < b and any(c.isalnum() for c in text[a:b]):
                spans.append(Span(a, b, text[a:b]))
    return tuple(spans)
