"""Analyst answers in Discord without a network: a comparison table as embed fields, a conflict notice, both
within Discord's limits; every footnote's "as of" date or "undated"; fallbacks labelled by what happened."""

from __future__ import annotations

# First: imports discord with its import-time `audioop` DeprecationWarning silenced (warnings are errors).
import tests.fakes.discord_gateway  # noqa: F401

# isort: split

import pytest

from bot.answer import Answer, Citation, Conflict, ConflictVersion, Table, TableCell, TableRow
from bot.answering.analyst.compare import table_markdown
from bot.answering.analyst.conflicts import describe
from bot.discord.render import (
    EMBED_FIELDS,
    EMBED_TOTAL,
    FALLBACK_LABEL,
    FIELD_NAME,
    FIELD_VALUE,
    render_answer,
)
from bot.discord.splitting import DISCORD_LIMIT


def _cit(n: int, quote: str = "Kyrgyzstan reported 59 people killed.", date: str | None = "2022-09-20") -> Citation:
    return Citation(n, f"Report {n}", f"report-{n}.md", quote, f"c{n}", f"Before. {quote} After.", None, date)


def _table_answer(rows: int, cell: str, columns: int = 1) -> Answer:
    cols = [f"facet {j}" for j in range(columns)]
    table = Table(
        cols,
        [
            TableRow(f"Entity {i}", [TableCell(f"{cell} {i}", [i + 1]) if j == 0 else TableCell("not stated")
                                     for j in range(columns)])
            for i in range(rows)
        ],
    )  # fmt: skip
    cits = [_cit(i + 1, f"{cell} {i}.") for i in range(rows)]
    text = f"Comparison ({', '.join(r.label for r in table.rows)}):\n\n{table_markdown(table)}"
    return Answer("Compare them", text, cits, "extractive", table=table)


def _within_limits(answer: Answer) -> None:
    r = render_answer(answer)
    assert r.parts and all(0 < len(p) <= DISCORD_LIMIT for p in r.parts)
    assert sum(len(e) for e in r.embeds) <= EMBED_TOTAL
    for e in r.embeds:
        assert len(e.fields) <= EMBED_FIELDS
        assert all(len(f.name or "") <= FIELD_NAME and len(f.value or "") <= FIELD_VALUE for f in e.fields)


def test_a_table_is_an_embed_with_one_field_per_row_and_a_footnote_per_cell() -> None:
    answer = _table_answer(2, "59 people lost their lives", columns=2)
    r = render_answer(answer)
    assert r.table is not None and r.embed is not None and r.embeds == [r.table, r.embed]
    d = r.table.to_dict()
    assert d["title"] == "Comparison"
    assert [f["name"] for f in d["fields"]] == ["Entity 0", "Entity 1"]
    assert d["fields"][0]["value"] == "**facet 0**: 59 people lost their lives 0 [1]\n**facet 1**: *not stated*"
    assert d["fields"][1]["value"].startswith("**facet 0**: 59 people lost their lives 1 [2]")
    # The Markdown table (which Discord would show as raw pipes) is not in the message text.
    note = "-# One row per entity below; each cell quotes its source [n]."
    assert r.parts == [f"Comparison (Entity 0, Entity 1):\n{note}"]
    _within_limits(answer)


@pytest.mark.parametrize(("rows", "columns", "cell_words"), [(3, 4, 60), (30, 2, 40), (24, 6, 200)])
def test_large_tables_and_their_footnotes_stay_within_discords_limits(rows: int, columns: int, cell_words: int) -> None:
    answer = _table_answer(rows, " ".join(["word"] * cell_words), columns=columns)
    _within_limits(answer)
    r = render_answer(answer)
    assert r.table is not None and r.table.fields
    if rows > EMBED_FIELDS - 1:
        assert r.table.footer.text and "more rows not shown" in r.table.footer.text


def test_a_conflict_notice_keeps_every_version_with_who_when_and_its_footnote() -> None:
    versions = [
        ConflictVersion("Kyrgyzstan reported 59 people killed.", "Kyrgyz Health Ministry", "2022-09-20", [1]),
        ConflictVersion("The ministry later revised the toll to 63.", "Kyrgyz Health Ministry", "2022-12-20", [2]),
        ConflictVersion("Border Watch counted 81 dead.", "Border Watch", None, [3]),
    ]
    conflict = Conflict("the Kyrgyz death toll", versions)
    answer = Answer(
        "How many died?", describe(conflict), [_cit(1), _cit(2), _cit(3, date=None)], "extractive", conflicts=[conflict]
    )
    r = render_answer(answer)
    assert r.parts[0].startswith("Sources disagree:\n- Kyrgyz Health Ministry (as of 2022-09-20): Kyrgyzstan reported")
    assert "- Border Watch (undated): Border Watch counted 81 dead. [3]" in r.parts[0]
    assert r.table is None and r.embed is not None
    # The undated document says so in its footnote, never a guessed date.
    assert r.embed.fields[2].value is not None and r.embed.fields[2].value.startswith("report-3.md · undated")
    assert r.embed.fields[0].value is not None and " · as of 2022-09-20" in r.embed.fields[0].value
    _within_limits(answer)


def test_a_long_conflict_notice_is_split_within_message_limits() -> None:
    long = " ".join(["casualty"] * 250) + "."
    versions = [ConflictVersion(f"{long} {i}", f"Source {i}", "2022-09-20", [i + 1]) for i in range(4)]
    conflict = Conflict("the toll", versions)
    answer = Answer("q", describe(conflict), [_cit(i + 1, long) for i in range(4)], "extractive", conflicts=[conflict])
    _within_limits(answer)
    r = render_answer(answer)
    assert len(r.parts) > 1 and r.parts[0].startswith("Sources disagree:")
    assert all(f"[{i + 1}]" in "\n".join(r.parts) for i in range(4))


@pytest.mark.parametrize(
    ("kind", "label"),
    [
        ("llm_error", "LLM unavailable — extractive answer"),
        ("deadline", "LLM too slow — extractive answer"),
        ("unverified", "LLM answer not verified — extractive answer"),
        (None, "LLM unavailable — extractive answer"),  # an older record without a kind
    ],
)
def test_fallbacks_say_what_happened(kind: str | None, label: str) -> None:
    answer = Answer("q", "Deploys go through CI [1].", [_cit(1)], "fallback", fallback_reason="x", fallback_kind=kind)  # type: ignore[arg-type]
    first = render_answer(answer).parts[0].splitlines()[0]
    assert first.startswith("-# ") and first.endswith(label)
    assert (first == FALLBACK_LABEL) == (kind in ("llm_error", None))
