"""Server mode against a real `chroma run` on 127.0.0.1: ingest, retrieve, idempotent re-ingest, status,
and what happens when the server is down at start, dies mid-session (SIGKILL / SIGTERM), freezes, and
comes back."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bot.retrieval import HybridRetriever
from index.errors import IndexUnavailableError
from index.ingest import Ingestor
from index.settings import Settings
from index.status import index_status
from tests.fakes.chroma_server import ChromaServer, free_port

T = TypeVar("T")

QUERY = "Which drones did Kyrgyzstan buy from Turkey?"
NOTES = {
    "drones.md": "---\ntitle: Drones\ndate: 2022-09-20\n---\n# Drones\n## Purchases\n"
    "Kyrgyzstan bought Bayraktar TB2 drones from Turkey in 2021 and used them in the border clashes.\n",
    "casualties.md": "---\ntitle: Casualties\n---\n# Casualties\n"
    "Tajikistan says 41 people died in the fighting; Kyrgyzstan reports 59 dead and 139 injured.\n",
    "summit.md": "# Summit\n\nThe Organization of Turkic States held a summit in Samarkand where the "
    "conflict was discussed.\n\nLeaders called for a ceasefire along the border.\n",
}


def bounded(fn: Callable[[], T], seconds: float) -> T:
    """Run `fn` but never wait for it longer than `seconds`: a hang is a test failure, not a stuck suite."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = fn()
        except BaseException as err:  # re-raised in the test thread
            outcome["error"] = err

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"call did not return within {seconds:.0f} s (hang)")
    if "error" in outcome:
        raise outcome["error"]
    value: T = outcome["value"]
    return value


def write_corpus(root: Path, seed_article: Path) -> Path:
    root.mkdir(parents=True)
    for name, text in NOTES.items():
        (root / name).write_text(text)
    shutil.copy(seed_article, root / seed_article.name)
    return root


def chunk_ids(retrieval: Any) -> list[str]:
    return [p.chunk_id for p in retrieval.passages]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ChromaServer]:
    with ChromaServer(tmp_path / "chroma-server") as running:
        yield running


@pytest.fixture
def server_settings(make_settings: Callable[..., Settings], server: ChromaServer) -> Settings:
    return make_settings(chroma_host=server.host, chroma_port=server.port)


@pytest.fixture
def ingested(server_settings: Settings, embedder: Any, tmp_path: Path, seed_article: Path) -> Settings:
    summary = Ingestor(server_settings, embedder).run([write_corpus(tmp_path / "corpus", seed_article)])
    assert len(summary.indexed) == 4 and summary.skipped == []
    return server_settings


# --- server down at start: fast, no server needed ---


def test_server_down_at_start_is_index_unavailable_naming_host_and_port(
    make_settings: Callable[..., Settings], embedder: Any, tmp_path: Path, seed_article: Path
) -> None:
    port = free_port()  # nothing listens there
    settings = make_settings(chroma_host="127.0.0.1", chroma_port=port)
    corpus = write_corpus(tmp_path / "corpus", seed_article)

    with pytest.raises(IndexUnavailableError, match=f"127\\.0\\.0\\.1:{port}"):
        bounded(lambda: Ingestor(settings, embedder).run([corpus]), 30)
    assert not settings.chroma_path.exists(), "must not fall back to the embedded store"

    retriever = HybridRetriever(settings, embedder)
    for _ in range(2):  # a failed open is not cached: the second call tries again and fails the same way
        with pytest.raises(IndexUnavailableError, match=f"127\\.0\\.0\\.1:{port}"):
            bounded(lambda: retriever.retrieve(QUERY, top_k=3), 30)

    with pytest.raises(IndexUnavailableError, match=f"127\\.0\\.0\\.1:{port}"):
        bounded(lambda: index_status(settings), 30)


# --- a real server ---


@pytest.mark.slow
def test_ingest_retrieve_reingest_and_status_over_the_server(
    ingested: Settings, server: ChromaServer, embedder: Any, tmp_path: Path
) -> None:
    settings = ingested
    assert not settings.chroma_path.exists(), "server mode must not create the embedded store"

    retrieval = HybridRetriever(settings, embedder).retrieve(QUERY, top_k=4)
    assert retrieval.passages, "nothing retrieved"
    assert retrieval.trace["vector"], "the vector side (the Chroma server) returned nothing"
    assert any("Bayraktar" in p.text for p in retrieval.passages)
    assert {Path(p.source).name for p in retrieval.passages} & {
        "drones.md",
        "al-monitor-turkish-drones-central-asia.txt",
    }

    first_status = index_status(settings)
    again = Ingestor(settings, embedder).run([tmp_path / "corpus"])
    assert (len(again.indexed), len(again.unchanged), again.chunks_written) == (0, 4, 0)
    assert again.chunks == first_status["chunks"] > 4

    status = index_status(settings)
    assert status["store"] == f"chroma server {server.host}:{server.port}"
    assert status["chunks"] == status["bm25_chunks"] == again.chunks
    assert status["documents"] == 4 and status["pending_documents"] == 0
    assert status["embedding_model"] == status["configured_embedding_model"]

    # The data really lives in the server's path: a fresh server process on it serves the same chunks.
    server.restart()
    assert index_status(settings)["chunks"] == again.chunks


@pytest.mark.slow
@pytest.mark.parametrize("how", ["sigkill", "sigterm"])
def test_server_lost_mid_session_then_back_same_retriever_recovers(
    ingested: Settings, server: ChromaServer, embedder: Any, how: str
) -> None:
    retriever = HybridRetriever(ingested, embedder)
    before = chunk_ids(retriever.retrieve(QUERY, top_k=4))
    assert before

    server.kill() if how == "sigkill" else server.stop()
    for _ in range(2):
        started = time.monotonic()
        with pytest.raises(IndexUnavailableError) as caught:
            bounded(lambda: retriever.retrieve(QUERY, top_k=4), 30)
        assert time.monotonic() - started < 10
        message = str(caught.value)
        assert "index is unavailable" in message.lower()
        assert f"{server.host}:{server.port}" in message
        assert "Traceback" not in message and "httpx" not in message

    server.start()  # same port, same path
    after = bounded(lambda: retriever.retrieve(QUERY, top_k=4), 30)
    assert chunk_ids(after) == before


@pytest.mark.slow
def test_retriever_created_while_server_down_works_once_it_is_up(
    ingested: Settings, server: ChromaServer, embedder: Any
) -> None:
    server.stop()
    retriever = HybridRetriever(ingested, embedder)
    with pytest.raises(IndexUnavailableError, match=f"{server.host}:{server.port}"):
        bounded(lambda: retriever.retrieve(QUERY, top_k=3), 30)
    server.start()
    assert bounded(lambda: retriever.retrieve(QUERY, top_k=3), 30).passages


@pytest.mark.slow
def test_frozen_server_times_out_instead_of_hanging(
    ingested: Settings, server: ChromaServer, embedder: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGSTOP: connections are accepted by the kernel but never answered. Without a client timeout a question
    would wait forever; it must fail as IndexUnavailableError, and work again after SIGCONT."""
    import index.store

    monkeypatch.setattr(index.store, "SERVER_TIMEOUT_S", 2.0)
    retriever = HybridRetriever(ingested, embedder)
    assert retriever.retrieve(QUERY, top_k=3).passages
    server.freeze()
    try:
        with pytest.raises(IndexUnavailableError, match="index is unavailable"):
            bounded(lambda: retriever.retrieve(QUERY, top_k=3), 20)
    finally:
        server.thaw()
    assert bounded(lambda: retriever.retrieve(QUERY, top_k=3), 20).passages
