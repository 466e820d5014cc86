"""FOOTNOTE_LOG_FORMAT=json: one JSON object per log line (issue 14 item 7)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.ops.logs import JsonFormatter, use_log_format
from tests.conftest import REPO, SAMPLE_CORPUS
from tests.index.test_lock import Holder, holders  # noqa: F401  (fixture)


def test_a_record_becomes_one_json_line_with_control_characters_escaped() -> None:
    record = logging.LogRecord("index.lock", logging.WARNING, __file__, 1, "waiting for %s\x1b[2J", ("pid 7",), None)
    line = JsonFormatter().format(record)
    assert "\n" not in line and "\x1b" not in line
    entry = json.loads(line)
    assert entry["level"] == "warning" and entry["logger"] == "index.lock"
    assert entry["message"] == "waiting for pid 7\x1b[2J"
    assert entry["time"].endswith("+00:00")


def test_text_leaves_handlers_alone_json_switches_them() -> None:
    handler = logging.StreamHandler()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        use_log_format("text")
        assert not isinstance(handler.formatter, JsonFormatter)
        use_log_format("json")
        assert isinstance(handler.formatter, JsonFormatter)
    finally:
        root.removeHandler(handler)


@pytest.mark.slow
def test_cli_logs_json_lines(tmp_path: Path, holders: Callable[..., Holder]) -> None:  # noqa: F811
    data = tmp_path / "data"
    first = holders(data)
    assert first.line() == "HELD"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHROMA_", "FOOTNOTE_", "OPENAI_"))}
    env.update(FOOTNOTE_DATA_DIR=str(data), FOOTNOTE_LOG_FORMAT="json")
    done = subprocess.run([sys.executable, "-m", "bot.cli", "ingest", str(SAMPLE_CORPUS), "--wait", "1"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 2
    entries = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    waiting = [e for e in entries if e["logger"] == "index.lock"]
    assert waiting and "waiting up to 1 s" in waiting[0]["message"] and waiting[0]["level"] == "warning"
