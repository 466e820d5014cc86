"""Progress lines when stderr is not a terminal (issue 14 item 6)."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from index.progress import ProgressLog, progress_for
from tests.conftest import REPO, SAMPLE_CORPUS


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_one_line_every_interval_with_files_chunks_rate_and_eta() -> None:
    out, clock = io.StringIO(), Clock()
    log = ProgressLog(out, every_s=30, clock=clock)
    log(1, 100, "a.md")
    clock.now += 10
    log.chunks_written(50)
    assert out.getvalue() == ""  # not yet 30 s
    clock.now += 20
    log(26, 100, "z.md")  # 25 files finished in 30 s: 75 left take 90 s
    lines = out.getvalue().splitlines()
    assert lines == ["footnote ingest: 25/100 files (25%) · 50 chunks · 1.7 chunks/s · elapsed 0m30s · ETA 1m30s"]
    clock.now += 5
    log.chunks_written(10)
    assert len(out.getvalue().splitlines()) == 1  # the next one 30 s after the last
    log.finish()
    assert out.getvalue().splitlines()[-1].startswith("footnote ingest: 100/100 files (100%) · 60 chunks")
    assert out.getvalue().endswith(" · done\n")


def test_only_without_a_terminal() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert progress_for(Tty(), 30) is None
    assert isinstance(progress_for(io.StringIO(), 30), ProgressLog)


@pytest.mark.slow
def test_footnote_ingest_logs_progress_to_a_pipe(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHROMA_", "FOOTNOTE_", "OPENAI_"))}
    env.update(FOOTNOTE_DATA_DIR=str(tmp_path / "data"), FOOTNOTE_PROGRESS_EVERY_S="0.01")
    done = subprocess.run([sys.executable, "-m", "bot.cli", "ingest", str(SAMPLE_CORPUS)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("footnote ingest: ")]
    assert len(lines) >= 2, done.stderr
    pattern = r"footnote ingest: \d+/\d+ files \(\d+%\) · [\d,]+ chunks · [\d.]+ chunks/s · elapsed \S+ · ETA \S+"
    assert all(re.match(pattern, line) for line in lines), lines
    files = len([p for p in SAMPLE_CORPUS.rglob("*") if p.is_file()])
    assert lines[-1].startswith(f"footnote ingest: {files}/{files} files (100%)") and lines[-1].endswith("· done")
    assert int(lines[-1].split(" · ")[1].split()[0].replace(",", "")) > 0  # chunks were counted
