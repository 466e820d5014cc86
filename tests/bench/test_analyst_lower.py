"""`python -m bench.analyst --lower` asks the analyst questions as Discord users type them (bench.lowercase's
rule), keeping every label."""

from __future__ import annotations

from bench.analyst import lowered


def test_an_analyst_row_is_asked_lower_cased_with_its_labels_kept() -> None:
    row = {"id": "a1", "type": "compare", "question": "Compare Border Watch and Kyrgyzstan on deaths?",
           "rows": ["Border Watch", "Kyrgyzstan"], "columns": ["deaths"], "cells": {"Kyrgyzstan|deaths": "59"}}
    low = lowered(row)
    assert low["question"] == "compare border watch and kyrgyzstan on deaths"
    assert {k: v for k, v in low.items() if k != "question"} == {k: v for k, v in row.items() if k != "question"}
