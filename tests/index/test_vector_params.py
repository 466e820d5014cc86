"""index.store: collections get Footnote's HNSW parameters; old ones are upgraded where possible and flagged."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

import index.store
from index.errors import DamagedStoreError
from index.ingest import Ingestor
from index.settings import Settings
from index.status import index_status
from index.store import CHROMA_DEFAULT_HNSW, HNSW, VectorIndex, hnsw_of, open_client


def test_new_collection_gets_the_recall_parameters(settings: Settings) -> None:
    index = VectorIndex.open(settings, embedder_id="e", create=True)
    assert index is not None
    got = hnsw_of(index.collection)
    assert (got["max_neighbors"], got["ef_construction"], got["ef_search"], got["space"]) == (
        HNSW.max_neighbors, HNSW.ef_construction, HNSW.ef_search, "cosine")
    assert index.outdated is None


def test_old_collection_is_flagged_and_a_writer_raises_its_search_ef(
    settings: Settings, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index.store, "_warned", set())
    old = VectorIndex.open(settings, embedder_id="e", create=True, hnsw=CHROMA_DEFAULT_HNSW)
    assert old is not None and hnsw_of(old.collection)["ef_search"] == 100
    with caplog.at_level(logging.WARNING, logger="index.store"):
        reader = VectorIndex.open(settings, embedder_id="e", create=False)
    assert reader is not None and reader.outdated is not None
    assert "--rebuild" in reader.outdated and "max_neighbors 16 < 32" in reader.outdated
    assert "--rebuild" in caplog.text
    assert hnsw_of(reader.collection)["ef_search"] == 100  # reading changes nothing
    writer = VectorIndex.open(settings, embedder_id="e", create=True)
    assert writer is not None and hnsw_of(writer.collection)["ef_search"] == HNSW.ef_search
    assert "--rebuild" in index_status(settings)["warning"]


def test_rebuild_gives_an_old_index_the_new_graph(settings: Settings, embedder: Any, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# A\nKyrgyzstan bought Bayraktar TB2 drones from Turkey.\n")
    VectorIndex.open(settings, embedder_id="all-MiniLM-L6-v2-int8-onnx", create=True, hnsw=CHROMA_DEFAULT_HNSW)
    Ingestor(settings, embedder).run([docs])
    assert "warning" in index_status(settings)
    Ingestor(settings, embedder).run([docs], rebuild=True)
    status = index_status(settings)
    assert "warning" not in status and status["vector_search"]["max_neighbors"] == HNSW.max_neighbors


def test_damaged_store_says_rebuild_and_rebuild_starts_over(settings: Settings, embedder: Any, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# A\nTajikistan says 41 people died in the fighting.\n")
    Ingestor(settings, embedder).run([docs])
    sqlite = settings.chroma_path / "chroma.sqlite3"
    data = bytearray(sqlite.read_bytes())
    data[100:20000] = b"\xff" * 19900
    sqlite.write_bytes(bytes(data))
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient.clear_system_cache()  # as a new process would: chromadb caches open stores per path
    with pytest.raises(DamagedStoreError, match="--rebuild"):
        open_client(settings, create=False)
    summary = Ingestor(settings, embedder).run([docs], rebuild=True)
    assert summary.chunks == 1 and [Path(p).name for p in summary.indexed] == ["a.md"]


def test_a_write_waits_out_a_locked_database_and_other_errors_pass_through() -> None:
    from index.store import when_unlocked

    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("Database error: error returned from database: (code: 5) database is locked")
        return "written"

    assert when_unlocked(flaky, first_wait_s=0.0) == "written" and len(calls) == 3  # CI: modify hit the lock

    def always_locked() -> None:
        raise RuntimeError("database is locked")

    with pytest.raises(RuntimeError, match="locked"):
        when_unlocked(always_locked, attempts=2, first_wait_s=0.0)

    def broken() -> None:
        calls.append(1)
        raise ValueError("no such collection")

    calls.clear()
    with pytest.raises(ValueError):
        when_unlocked(broken, first_wait_s=0.0)
    assert len(calls) == 1  # not retried
