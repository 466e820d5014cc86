"""The analyst question set is well formed: unique ids, known splits and types, and no new dev question that
repeats a test question verbatim (tuning on a test question would leak it into the dev figure)."""

from __future__ import annotations

import json

from bench.analyst import DATA, TYPES


def _rows() -> list[dict[str, object]]:
    return [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_ids_splits_and_types() -> None:
    rows = _rows()
    assert len({r["id"] for r in rows}) == len(rows)
    assert {r["split"] for r in rows} == {"dev", "test"}
    assert {r["type"] for r in rows} <= set(TYPES)


def test_no_dev_question_repeats_a_test_question() -> None:
    rows = _rows()
    test = {str(r["question"]).strip().lower() for r in rows if r["split"] == "test"}
    repeated = {str(r["id"]) for r in rows if r["split"] == "dev" and str(r["question"]).strip().lower() in test}
    assert not repeated, sorted(repeated)
