"""The message splitter: limits, word and marker boundaries, code fences; property tests with hypothesis."""

from __future__ import annotations

import re
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.discord.splitting import DISCORD_LIMIT, FENCE, plan_split, split_message

_PREFIX_RE = re.compile(r"```[\w+#.-]{0,20}\n")


def _check(text: str, limit: int) -> list[str]:
    """Assert every invariant the splitter promises; returns the parts."""
    pieces = plan_split(text, limit)
    parts = [p.render(text) for p in pieces]
    assert parts == split_message(text, limit)
    # Every part fits.
    assert all(len(p) <= limit for p in parts), [len(p) for p in parts]
    # Joined parts == original once the fence markers we added are removed (spans are contiguous).
    assert pieces[0].start == 0 and pieces[-1].end == len(text)
    assert all(a.end == b.start for a, b in pairwise(pieces))
    assert all(p.start < p.end or len(pieces) == 1 for p in pieces)
    assert "".join(text[p.start : p.end] for p in pieces) == text
    for p in pieces:
        assert p.prefix == "" or _PREFIX_RE.fullmatch(p.prefix)
        assert p.suffix in ("", FENCE, "\n" + FENCE)
    # Fences balanced in every part when they are in the whole text.
    if text.count(FENCE) % 2 == 0:
        assert all(part.count(FENCE) % 2 == 0 for part in parts), parts
    # No [n] marker is cut.
    cuts = {p.end for p in pieces[:-1]}
    assert not [m for m in re.finditer(r"\[\d{1,6}\]", text) if any(m.start() < c < m.end() for c in cuts)]
    return parts


def test_short_text_is_one_part() -> None:
    assert split_message("hello [1]") == ["hello [1]"]
    assert split_message("") == [""]


def test_splits_on_words_never_inside() -> None:
    text = " ".join(f"word{i}" for i in range(1000))
    parts = _check(text, DISCORD_LIMIT)
    assert len(parts) > 1
    words = set(text.split())
    assert all(set(p.split()) <= words for p in parts)


def test_prefers_paragraph_breaks() -> None:
    para = ("A sentence about deploys [1]. " * 30).strip()
    text = "\n\n".join([para] * 5)
    parts = _check(text, DISCORD_LIMIT)
    assert all(p.endswith("\n\n") or p == parts[-1] for p in parts)


def test_marker_not_cut_and_stays_with_its_claim() -> None:
    text = "x" * 90 + " claim [12] and more text here"
    for limit in range(64, 121):
        parts = _check(text, limit)
        assert all("[1" not in p or "[12]" in p for p in parts)


def test_code_fence_closed_and_reopened_with_language() -> None:
    code = "\n".join(f"print({i})" for i in range(400))
    text = f"Here is the script [2]:\n```python\n{code}\n```\nThat's all."
    parts = _check(text, DISCORD_LIMIT)
    assert len(parts) >= 2
    assert parts[0].rstrip().endswith(FENCE)
    assert parts[1].startswith("```python\n")


def test_a_huge_word_is_cut_hard() -> None:
    parts = _check("y" * 5000, DISCORD_LIMIT)
    assert "".join(parts) == "y" * 5000


def test_limit_too_small() -> None:
    with pytest.raises(ValueError):
        split_message("abc", 10)


_atoms = st.one_of(
    st.text(alphabet="abcdefghij ", min_size=1, max_size=30),
    st.sampled_from([" ", "\n", "\n\n", "[1]", "[23]", "[456]", "`", "``", "x[7]y", "  \t"]),
    st.builds(
        lambda lang, body: f"```{lang}\n{body}\n```",
        st.sampled_from(["", "py", "c++", "sh"]),
        st.text(alphabet="ab \n()[1]", max_size=200),
    ),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_atoms, max_size=80), st.integers(min_value=64, max_value=400))
def test_properties_small_limits(atoms: list[str], limit: int) -> None:
    _check("".join(atoms), limit)


@settings(max_examples=60, deadline=None)
@given(st.lists(_atoms, min_size=50, max_size=400))
def test_properties_discord_limit(atoms: list[str]) -> None:
    _check("".join(atoms) * 3, DISCORD_LIMIT)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=600), st.integers(min_value=64, max_value=200))
def test_properties_any_text(text: str, limit: int) -> None:
    # Arbitrary unicode (with stray backtick runs of any length): limits and exact reassembly always hold.
    pieces = plan_split(text, limit)
    assert all(len(p.render(text)) <= limit for p in pieces)
    assert "".join(text[p.start : p.end] for p in pieces) == text


def test_long_prose_splits_at_sentence_ends_not_mid_sentence() -> None:
    # Issue 10: long answers split mid-sentence. One paragraph, no line breaks: only sentence ends are good cuts.
    sentences = [f"Claim number {i} is about deploys and rollbacks in the CI system [{i % 7 + 1}]." for i in range(80)]
    text = " ".join(sentences)
    parts = split_message(text)
    assert len(parts) > 1 and all(len(p) <= DISCORD_LIMIT for p in parts)
    for part in parts[:-1]:
        assert part.rstrip().endswith("]."), part[-60:]
    assert " ".join(p.strip() for p in parts) == text


def test_sentence_end_before_a_closing_quote_counts() -> None:
    text = ("He said “deploys go through CI.” " * 40) + ("x" * 50 + " ") * 20
    parts = split_message(text, limit=400)
    assert parts[0].rstrip().endswith("CI.”")
