"""Fuzzing `index.chunking.Chunker` on random section text: every chunk fits the token budget (counted by
the chunker's own tokenizer), is a verbatim span of its section (citations quote it), the chunks together
cover every non-whitespace character, and node ids are the same on every run (re-ingest idempotence
depends on it)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from index.chunking import Chunker
from index.loaders import LoadedDocument, Section
from tests.index.fuzzing import FUZZ

SIZES = [32, 33, 48, 64, 128, 200]
OVERLAPS = [0, 1, 8, 30, 64]


@cache
def chunker(tokens: int, overlap: int, instance: int = 0) -> Chunker:
    return Chunker(tokens, overlap)


WORDS = [
    "drones",
    "Kyrgyzstan",
    "the",
    "a",
    "of",
    "border",
    "U.S.",
    "Dr.",
    "e.g.",
    "2021",
    "3.5%",
    "—",
    "“quoted”",
    "naïve",
    "東京都",
    "😀",
    "🇰🇬",
    "x" * 90,
    "supercalifragilistic" * 6,
    "https://example.com/a?b=c",
    "(1)",
    "C++",
    "...",
    "'s",
    "\u0301",
    "ﬁ",
    "١٢٣",
]
SEPARATORS = [
    " ",
    " ",
    " ",
    "  ",
    "\n",
    "\n\n",
    "\n\n\n",
    ". ",
    "! ",
    "? ",
    "\t",
    "\u00a0",
    "\u3000",
    "; ",
    ", ",
    "\r\n",
    "\r\n\r\n",
    "",
]
word_text = st.lists(
    st.tuples(st.sampled_from(WORDS), st.sampled_from(SEPARATORS)).map("".join), min_size=1, max_size=250
).map("".join)
any_text = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=1000)
RUN_UNITS = ["a", "0", "ab", ":", "-", "東", "😀", " ", "\u00a0", "\u3000", "\r", "\n", "\t"]
RUN_ENDS = [". ", "! ", "? ", ".", ":", ": ", "\n", "\n\n", "\r\n", " ", ""]
long_runs = st.lists(
    st.tuples(st.sampled_from(RUN_UNITS), st.integers(1, 200), st.sampled_from(RUN_ENDS)).map(
        lambda t: t[0] * t[1] + t[2]
    ),
    min_size=1,
    max_size=6,
).map("".join)
# Many sentences, so many chunk boundaries: the budget is exceeded only when a merge lands right at the limit.
sentences = st.lists(
    st.tuples(
        st.sampled_from(["a", "ab", "0", "東", "\u3000", "\u00a0", " "]),
        st.integers(1, 150),
        st.sampled_from([". ", "! ", "? ", ".\n", ". \u3000"]),
    ).map(lambda t: t[0] * t[1] + t[2]),
    min_size=3,
    max_size=30,
).map("".join)
section_text = (
    st.one_of(word_text, any_text, long_runs, sentences).map(str.strip).filter(bool)
)  # loaders strip sections
sizes = st.sampled_from(SIZES)
overlaps = st.sampled_from(OVERLAPS)


def doc(*texts: str) -> LoadedDocument:
    return LoadedDocument(
        path=Path("fuzz.md"), title="Fuzz", sections=[Section(t, "H") for t in texts], content_hash="0" * 64
    )


def chunk_texts(tokens: int, overlap: int, text: str) -> list[tuple[str, int]]:
    nodes = chunker(tokens, overlap).chunk(doc(text), doc_id="d", source="s")
    return [(n.get_content(), int(n.metadata["start_char"])) for n in nodes]


@FUZZ
@given(text=section_text, tokens=sizes, overlap=overlaps)
def test_every_chunk_fits_the_token_budget(text: str, tokens: int, overlap: int) -> None:
    counter = chunker(tokens, overlap)
    for chunk, _ in chunk_texts(tokens, overlap, text):
        assert counter.count_tokens(chunk) <= tokens, (counter.count_tokens(chunk), chunk)


@FUZZ
@given(text=section_text, tokens=sizes, overlap=overlaps)
def test_every_chunk_is_a_verbatim_span_of_its_section(text: str, tokens: int, overlap: int) -> None:
    chunks = chunk_texts(tokens, overlap, text)
    assert chunks, "non-empty text gave no chunks"
    for chunk, _ in chunks:
        assert chunk and chunk == chunk.strip()
        assert chunk in text, f"not a verbatim span of the section: {chunk!r}"


@FUZZ
@given(text=section_text, tokens=sizes, overlap=overlaps)
def test_start_char_points_at_the_chunk(text: str, tokens: int, overlap: int) -> None:
    previous = 0
    for chunk, start in chunk_texts(tokens, overlap, text):
        assert start >= 0, f"start_char -1 for {chunk!r}"
        assert text[start : start + len(chunk)] == chunk
        assert start >= previous, "chunks out of order"
        previous = start


def uncovered(text: str, chunks: list[str]) -> list[int]:
    """Indexes of non-whitespace characters of `text` that no chunk covers. Chunks come in order; each is
    placed at its last occurrence that starts at or before the first still-uncovered character (greedy,
    optimal)."""

    def next_nonspace(i: int) -> int:
        while i < len(text) and text[i].isspace():
            i += 1
        return i

    frontier = next_nonspace(0)
    for chunk in chunks:
        if frontier >= len(text):
            break
        start = text.rfind(chunk, 0, frontier + len(chunk))
        if start >= 0 and start + len(chunk) > frontier:
            frontier = next_nonspace(start + len(chunk))
    return [i for i in range(frontier, len(text)) if not text[i].isspace()][:1]


@FUZZ
@given(text=section_text, tokens=sizes, overlap=overlaps)
def test_chunks_cover_every_non_whitespace_character(text: str, tokens: int, overlap: int) -> None:
    chunks = [c for c, _ in chunk_texts(tokens, overlap, text)]
    missing = uncovered(text, chunks)
    assert not missing, f"character {missing[0]} ({text[missing[0]]!r}) is in no chunk"


@FUZZ
@given(texts=st.lists(section_text, min_size=1, max_size=3), tokens=sizes, overlap=overlaps)
def test_node_ids_are_deterministic(texts: list[str], tokens: int, overlap: int) -> None:
    first = chunker(tokens, overlap, 0).chunk(doc(*texts), doc_id="d", source="s")
    second = chunker(tokens, overlap, 1).chunk(doc(*texts), doc_id="d", source="s")  # another instance
    assert [n.node_id for n in first] == [n.node_id for n in second]
    assert [n.get_content() for n in first] == [n.get_content() for n in second]
    assert len({n.node_id for n in first}) == len(first), "duplicate node ids in one document"


def test_uncovered_helper() -> None:
    assert uncovered("ab cd", ["ab", "cd"]) == []
    assert uncovered("ab cd", ["ab"]) == [3]
    assert uncovered("aa aa aa", ["aa aa", "aa aa"]) == []
    assert uncovered("ab cd ef", ["ab", "ef"]) == [3]


# --- minimal inputs of the bugs the fuzzers found (regression tests: each crashed or hung before its fix) ---


def test_chunk_over_budget_minimal() -> None:
    text = "0:" + "\u3000" * 20 + ". " + "a" * 128 + "."
    counter = chunker(32, 0)
    counts = [counter.count_tokens(c) for c, _ in chunk_texts(32, 0, text)]
    assert max(counts) <= 32, counts  # today: [33]


def test_start_char_minimal() -> None:
    text = "0" * 600 + "\r" * 25 + "\n" + "\xa0" * 5 + ".0"
    chunks = chunk_texts(32, 8, text)
    assert all(start >= 0 for _, start in chunks), chunks[-2:]
