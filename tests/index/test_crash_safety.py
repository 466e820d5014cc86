"""kill -9 of a real `footnote ingest` process at random moments; the index must stay queryable and consistent
and the next run must complete it (no duplicate, no orphan, every file once)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOPICS = ["drones", "border", "casualties", "diplomacy", "summit", "villages", "ceasefire", "purchases"]


def make_corpus(root: Path, files: int) -> None:
    root.mkdir(parents=True)
    rng = random.Random(7)
    for i in range(files):
        words = " ".join(rng.choice(TOPICS) + f"{rng.randint(0, 999)}" for _ in range(260))
        (root / f"f{i:03d}.md").write_text(f"---\ntitle: File {i}\n---\n## Section {i}\n{words}.\n\n{words[::-1]}.\n")


def run(args: list[str], data_dir: Path, *, quiet: bool = False) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CHROMA_", "FOOTNOTE_"))}
    env["FOOTNOTE_DATA_DIR"] = str(data_dir)
    pipe = subprocess.DEVNULL if quiet else subprocess.PIPE  # a killed process's pipes would never be drained
    return subprocess.Popen([sys.executable, *args], cwd=REPO, env=env, stdout=pipe, stderr=pipe, text=True)


def probe(data_dir: Path, query: str | None = "drones border") -> dict[str, object]:
    args = ["-m", "tests.index.crash_probe", str(data_dir)] + ([query] if query else [])
    proc = run(args, data_dir)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return json.loads(out)


@pytest.mark.slow
def test_kill_9_at_random_points_then_rerun_completes(tmp_path: Path) -> None:
    kills = int(os.environ.get("FOOTNOTE_CRASH_KILLS", "20"))
    corpus, data_dir = tmp_path / "corpus", tmp_path / "data"
    make_corpus(corpus, files=40)
    rng = random.Random(int(os.environ.get("FOOTNOTE_CRASH_SEED", "20261127")))
    killed_mid_run = 0
    for attempt in range(kills):
        if attempt == kills // 2:  # change some files halfway, so kills also hit replacements and prunes
            for path in sorted(corpus.iterdir())[:5]:
                path.write_text(path.read_text() + f"\nrevision {attempt}\n")
            sorted(corpus.iterdir())[-1].unlink()
        proc = run(["-m", "bot.cli", "ingest", str(corpus)], data_dir, quiet=True)
        time.sleep(rng.uniform(2.0, 9.0))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed_mid_run += 1
        proc.wait(timeout=60)
        if (data_dir / "manifest.sqlite").exists():
            state = probe(data_dir)
            # Whatever the kill point: the read path answers and serves nothing half-written.
            assert state["hits_from_writing_docs"] == [], state
            committed = set(state["manifest"])  # type: ignore[arg-type]
            assert set(state["bm25"]) <= set(state["chroma"]) | committed  # type: ignore[arg-type]
    assert killed_mid_run >= kills // 2, "the kills should land while ingest is running"

    final = run(["-m", "bot.cli", "ingest", str(corpus), "--json"], data_dir)
    out, err = final.communicate(timeout=300)
    assert final.returncode == 0, err
    summary = json.loads(out)
    state = probe(data_dir)
    files = sorted(p.name for p in corpus.iterdir())
    assert sorted(state["docs"]) == files  # type: ignore[arg-type]
    assert set(state["docs"].values()) == {"complete"}  # type: ignore[union-attr]
    chroma = state["chroma"]
    assert len(chroma) == len(set(chroma))  # type: ignore[arg-type]
    assert chroma == state["manifest"] == state["bm25"]
    assert summary["chunks"] == len(chroma)  # type: ignore[arg-type]

    again = run(["-m", "bot.cli", "ingest", str(corpus), "--json"], data_dir)
    out, _ = again.communicate(timeout=300)
    assert again.returncode == 0
    assert json.loads(out)["unchanged"] == len(files)
