"""Disk faults: the data dir fills up, hits a file size limit or cannot be written at all.

A real `footnote ingest` process runs under RLIMIT_FSIZE (the kernel refuses writes past the limit with EFBIG;
Python ignores SIGXFSZ), which is how "disk full" looks to SQLite and Chroma: a write fails mid-run. The CLI must
exit 2 with one clear line naming the data dir (no traceback), the index must stay queryable and serve nothing
half-written, and a normal re-run must finish the job consistently. In-process cases inject the same failure at
each store (Chroma, manifest, BM25) deterministically; unwritable data dirs are built from what root cannot write
either (a path through a regular file, a file in place of a directory, /proc).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.retrieval import HybridRetriever
from index.errors import DataDirError
from index.ingest import Ingestor
from index.manifest import Manifest
from index.settings import Settings
from index.store import Bm25Store, VectorIndex
from tests.index.test_crash_safety import make_corpus
from tests.index.test_ingest import assert_consistent, state, write_corpus

REPO = Path(__file__).resolve().parents[2]


def cli(args: list[str], data_dir: Path, *, fsize: int | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m bot.cli ARGS` (or another module) with FOOTNOTE_DATA_DIR, optionally under RLIMIT_FSIZE.

    The limit is set by the child itself before it runs the module, rather than with `preexec_fn` (not safe in a
    test process that has threads: Chroma's, onnxruntime's)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CHROMA_", "FOOTNOTE_", "DISCORD_"))}
    env["FOOTNOTE_DATA_DIR"] = str(data_dir)
    module, *rest = args if args[0].startswith("tests.") else ["bot.cli", *args]
    launcher = (
        "import resource, runpy, sys\n"
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({fsize}, {fsize}))\n" if fsize else "import runpy, sys\n"
    ) + f"sys.argv = [{module!r}, *sys.argv[1:]]\nrunpy.run_module({module!r}, run_name='__main__', alter_sys=True)\n"
    return subprocess.run(
        [sys.executable, "-c", launcher, *rest], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )


def probe(data_dir: Path, query: str = "drones border") -> dict[str, Any]:
    proc = cli(["tests.index.crash_probe", str(data_dir), query], data_dir)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def largest_file(root: Path) -> int:
    return max(p.stat().st_size for p in root.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A corpus and a data dir holding its complete index (ingested once, copied by each test)."""
    base = tmp_path_factory.mktemp("disk-baseline")
    corpus, data = base / "corpus", base / "data"
    make_corpus(corpus, files=6)
    proc = cli(["ingest", str(corpus), "--json"], data)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return corpus, data


@pytest.mark.slow
@pytest.mark.parametrize("limit", ["64KiB", "no-growth"])
def test_disk_full_mid_ingest_is_a_clear_error_and_the_index_survives(
    baseline: tuple[Path, Path], tmp_path: Path, limit: str
) -> None:
    corpus, data = tmp_path / "corpus", tmp_path / "data"
    shutil.copytree(baseline[0], corpus)
    shutil.copytree(baseline[1], data)
    before = probe(data)
    assert set(before["docs"].values()) == {"complete"} and before["hits"]
    # Change half the files and add three: the next ingest has to delete, add and grow every store.
    for path in sorted(corpus.iterdir())[:3]:
        path.write_text(path.read_text() + "\nrevision: drones border summit ceasefire\n" * 40)
    for i in range(3):
        (corpus / f"new{i}.md").write_text(f"# New {i}\n" + "drones border villages diplomacy purchases. " * 300)
    # "64KiB": every write past 64 KiB of any file fails. "no-growth": existing bytes may be rewritten but no file
    # may grow by more than a page, which is what a full disk does to SQLite and Chroma.
    fsize = 64 * 1024 if limit == "64KiB" else largest_file(data) + 4096

    failed = cli(["ingest", str(corpus)], data, fsize=fsize)
    assert failed.returncode == 2, (failed.returncode, failed.stderr[-3000:])
    assert "Traceback" not in failed.stderr, failed.stderr[-3000:]
    [line] = [ln for ln in failed.stderr.splitlines() if ln.startswith("footnote: ")]
    assert line.startswith(f"footnote: Writing the index under the data dir {data} failed (")
    assert "disk may be full" in line and "run the same ingest again" in line

    during = probe(data)  # a fresh process reads what the failed one left
    assert during["hits"], "queries must still work after a failed ingest"
    assert during["hits_from_writing_docs"] == [], during
    assert set(during["hits"]) <= set(during["manifest"])  # only chunks of complete documents are served
    committed = set(during["manifest"])
    assert set(during["bm25"]) <= set(during["chroma"]) | set(before["chroma"])
    assert committed <= set(during["chroma"]) | set(before["chroma"])
    untouched = sorted(p.name for p in corpus.iterdir())[3:6]
    assert all(during["docs"].get(name) in ("complete", "writing") for name in untouched)

    rerun = cli(["ingest", str(corpus), "--json"], data)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    summary = json.loads(rerun.stdout)
    after = probe(data)
    files = sorted(p.name for p in corpus.iterdir())
    assert sorted(after["docs"]) == files and set(after["docs"].values()) == {"complete"}
    assert len(after["chroma"]) == len(set(after["chroma"]))
    assert after["chroma"] == after["manifest"] == after["bm25"]
    assert summary["chunks"] == len(after["chroma"]) and after["hits"]

    again = cli(["ingest", str(corpus), "--json"], data)
    assert again.returncode == 0 and json.loads(again.stdout)["unchanged"] == len(files)


# --- the same failure at each store, injected in process ------------------------------------------------


def _enospc(*_: Any, **__: Any) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def _sqlite_full(*_: Any, **__: Any) -> None:
    raise sqlite3.OperationalError("database or disk is full")


def _chroma_io(*_: Any, **__: Any) -> None:
    from chromadb.errors import InternalError

    raise InternalError("Query error: Database error: error returned from database: (code: 778) disk I/O error")


FAULT_POINTS: dict[str, tuple[str, Callable[..., None], str]] = {
    "chroma-add": ("index.store.VectorIndex.add", _chroma_io, "disk I/O error"),
    "chroma-delete": ("index.store.VectorIndex.delete_ids", _chroma_io, "disk I/O error"),
    "manifest-commit": ("index.manifest.Manifest.commit", _sqlite_full, "database or disk is full"),
    "bm25-write": ("index.store.Bm25Store.write", _enospc, "No space left on device"),
}


@pytest.mark.parametrize("point", list(FAULT_POINTS))
def test_a_failed_write_is_a_data_dir_error_and_the_next_run_repairs(
    settings: Settings, embedder: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, point: str
) -> None:
    paths = write_corpus(tmp_path / "c")
    Ingestor(settings, embedder).run([tmp_path / "c"])
    before = state(settings)
    paths[0].write_text("---\ntitle: Doc 0\n---\nA new text: Iran and Russia offered to mediate the dispute.\n")
    (tmp_path / "c" / "doc9.md").write_text("---\ntitle: Doc 9\n---\nThe summit in Samarkand ended early.\n")
    target, fault, detail = FAULT_POINTS[point]
    with monkeypatch.context() as m:
        m.setattr(target, fault)
        with pytest.raises(DataDirError) as err:
            Ingestor(settings, embedder).run([tmp_path / "c"])
    message = str(err.value)
    assert message.startswith(f"Writing the index under the data dir {settings.data_dir} failed (")
    assert detail in message.split(" failed (", 1)[1] and "run the same ingest again" in message

    # Meanwhile: questions are answered, from complete documents only, and never from text that is gone.
    retriever = HybridRetriever(settings, embedder)
    hits = retriever.retrieve("Kyrgyzstan drones Tajikistan Samarkand Iran Russia", top_k=10).passages
    assert hits
    manifest = Manifest(settings.data_dir / "manifest.sqlite")
    try:
        docs = manifest.documents(settings.collection)
    finally:
        manifest.close()
    live = {c for d in docs.values() if d.state == "complete" for c in d.chunk_ids}
    assert {p.chunk_id for p in hits} <= live, [(p.chunk_id, p.text[:40]) for p in hits if p.chunk_id not in live]

    summary = Ingestor(settings, embedder).run([tmp_path / "c"])
    assert summary.documents == 4
    after = state(settings)
    assert_consistent(after)
    assert set(after["docs"]) == {"doc0.md", "doc1.md", "doc2.md", "doc9.md"}
    assert set(after["chroma"]) != set(before["chroma"])
    texts = " ".join(n.get_content() for n in VectorIndex.open(
        settings, embedder_id="all-MiniLM-L6-v2-int8-onnx", create=False).nodes())  # type: ignore[union-attr]
    assert "Iran and Russia" in texts and "Bayraktar" not in texts


# --- data dirs that cannot be written -------------------------------------------------------------------


def _unwritable(kind: str, tmp_path: Path) -> Path:
    if kind == "parent-is-a-file":
        (tmp_path / "blocker").write_text("a file")
        return tmp_path / "blocker" / "data"
    if kind == "data-dir-is-a-file":
        (tmp_path / "data").write_text("a file")
        return tmp_path / "data"
    if not Path("/proc/self").is_dir():
        pytest.skip("no /proc")
    return Path(f"/proc/footnote-test-{os.getpid()}/data")


UNWRITABLE = ["parent-is-a-file", "data-dir-is-a-file", "under-proc"]


@pytest.mark.parametrize("kind", UNWRITABLE)
def test_unwritable_data_dir_names_the_path(
    make_settings: Callable[..., Settings], embedder: Any, tmp_path: Path, kind: str
) -> None:
    data_dir = _unwritable(kind, tmp_path)
    write_corpus(tmp_path / "c")
    with pytest.raises(DataDirError) as err:
        Ingestor(make_settings(data_dir=data_dir), embedder).run([tmp_path / "c"])
    assert str(err.value).startswith(f"The data dir {data_dir} is not writable (")


@pytest.mark.parametrize("kind", UNWRITABLE)
def test_cli_on_an_unwritable_data_dir_exits_2_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], embedder: Any, kind: str
) -> None:
    from bot.cli import main

    data_dir = _unwritable(kind, tmp_path)
    write_corpus(tmp_path / "c")
    monkeypatch.setenv("FOOTNOTE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("FOOTNOTE_ANSWER_MODE", "extractive")
    monkeypatch.setattr("index.embeddings.make_embedder", lambda _settings: embedder)
    assert main(["ingest", str(tmp_path / "c")]) == 2
    assert capsys.readouterr().err.startswith(f"footnote: The data dir {data_dir} is not writable")
    assert main(["ask", "Which drones did Kyrgyzstan buy?"]) == 2
    assert str(data_dir) in capsys.readouterr().err
    assert main(["status", "--json"]) == 0  # nothing there: reported as empty, not a crash
    assert json.loads(capsys.readouterr().out)["documents"] == 0


@pytest.mark.parametrize("blocked", ["chroma", "manifest.sqlite", "bm25"])
def test_a_store_path_taken_by_something_else(
    settings: Settings, embedder: Any, tmp_path: Path, blocked: str
) -> None:
    """The data dir is writable but one store's path is not what it should be (a file for a directory, or the
    reverse): a clear DataDirError naming it; the other stores are left consistent for the run after the fix."""
    write_corpus(tmp_path / "c")
    settings.data_dir.mkdir(parents=True)
    spot = settings.data_dir / blocked
    if blocked == "manifest.sqlite":
        spot.mkdir()
    else:
        spot.write_text("in the way")
    with pytest.raises(DataDirError) as err:
        Ingestor(settings, embedder).run([tmp_path / "c"])
    assert str(settings.data_dir) in str(err.value), str(err.value)
    if spot.is_dir():
        spot.rmdir()
    else:
        spot.unlink()
    Ingestor(settings, embedder).run([tmp_path / "c"])
    assert_consistent(state(settings))
    assert Bm25Store(settings.data_dir, settings.collection).current_dir() is not None
