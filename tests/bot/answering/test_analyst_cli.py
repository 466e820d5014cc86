"""Analyst answers through the `footnote` CLI, in-process, over a real ingest of examples/corpus +
examples/analyst: the product's wiring routes them (no test-only router), `--json` has the table shape
`table: {columns, rows: [{cells: [{text, citations}]}]}`, `--format markdown` is a Markdown document with
the table, footnotes with their "as of" date (or "undated") and full quotes; plain text says "as of" too."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parents[3]
FOLDERS = (ROOT / "examples" / "corpus", ROOT / "examples" / "analyst")
# Dev questions of tests/data/analyst_qa.jsonl (a01, b03).
COMPARE_Q = "Compare Kyrgyzstan and Tajikistan on the number of people killed."
CONFLICT_Q = "How many people did Kyrgyzstan lose in the September 2022 fighting?"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # no .env from the repo; data under tmp
    monkeypatch.setenv("FOOTNOTE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FOOTNOTE_ANSWER_MODE", "extractive")

    def run(*args: str) -> tuple[int, str]:
        code = main(list(args))
        out, _ = capsys.readouterr()
        return code, out

    code, out = run("ingest", *map(str, FOLDERS), "--json")
    assert code == 0 and json.loads(out)["skipped"] == []
    return run


def test_json_table_shape_and_markdown_export(cli) -> None:  # type: ignore[no-untyped-def]
    code, out = cli("ask", "--json", COMPARE_Q)
    assert code == 0
    answer = json.loads(out)
    table = answer["table"]
    assert table["columns"] == ["number of people killed"]
    assert [r["label"] for r in table["rows"]] == ["Kyrgyzstan", "Tajikistan"]
    numbers = {c["n"] for c in answer["citations"]}
    for row in table["rows"]:
        [cell] = row["cells"]
        assert set(cell) == {"text", "citations"} and cell["text"] and cell["citations"]
        assert set(cell["citations"]) <= numbers
        # The cell is a span of its footnote's quote.
        quotes = [c["quote"] for c in answer["citations"] if c["n"] in cell["citations"]]
        assert any(cell["text"] in q for q in quotes), (cell, quotes)
    assert "41" in table["rows"][1]["cells"][0]["text"]
    assert answer["conflicts"] == []

    code, md = cli("ask", "--format", "markdown", COMPARE_Q)
    assert code == 0
    assert md.startswith(f"# {COMPARE_Q}\n\nComparison (Kyrgyzstan, Tajikistan):\n")
    assert "| | number of people killed |\n|---|---|\n| Kyrgyzstan | " in md
    # Markdown footnotes: [^n] in the table, and one definition per citation with its date and full quote.
    assert re.search(r"\| Tajikistan \| [^|]*41[^|]*\[\^\d+\] \|", md), md
    for c in answer["citations"]:
        when = f"as of {c['date']}" if c["date"] else "undated"
        assert f"[^{c['n']}]: **{c['title']}** ({when})" in md
        first_line = c["quote"].strip().splitlines()[0]
        assert f"    > {first_line}" in md


def test_conflict_in_json_and_text_with_dates(cli) -> None:  # type: ignore[no-untyped-def]
    code, out = cli("ask", "--json", CONFLICT_Q)
    assert code == 0
    answer = json.loads(out)
    [conflict] = answer["conflicts"]
    values = " ".join(v["text"] for v in conflict["versions"])
    assert "59" in values and "63" in values
    assert answer["answer"].startswith("Sources disagree:")
    for v in conflict["versions"]:
        assert v["stated_by"] and v["citations"]
        assert v["date"] is None or re.fullmatch(r"\d{4}-\d{2}-\d{2}", v["date"])
    code, text = cli("ask", CONFLICT_Q)
    assert code == 0 and text.startswith("Sources disagree:")
    footnote_lines = [line for line in text.splitlines() if re.match(r"\[\d+\] ", line)]
    assert footnote_lines and all(re.search(r", (as of \d{4}-\d{2}-\d{2}|undated)$", x) for x in footnote_lines)


def test_an_undated_document_is_marked_undated_never_given_a_date(cli) -> None:  # type: ignore[no-untyped-def]
    code, out = cli("ask", "--json", "Which Turkish drones is Kazakhstan assembling, and where?")
    assert code == 0
    answer = json.loads(out)
    briefing = [c for c in answer["citations"] if c["title"].startswith("Briefing Note")]
    assert briefing and all(c["date"] is None for c in briefing)
    code, md = cli("ask", "--format", "markdown", "Which Turkish drones is Kazakhstan assembling, and where?")
    assert re.search(r"\[\^\d+\]: \*\*Briefing Note: Turkish Drone Industry Deals in Central Asia\*\* \(undated\)", md)
