"""Hypothesis settings shared by the fuzz targets: deterministic (a found bug reproduces on every run), no
deadline on a noisy 2-core machine; FOOTNOTE_FUZZ_EXAMPLES scales the number of cases."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

EXAMPLES = int(os.environ.get("FOOTNOTE_FUZZ_EXAMPLES", "500"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
