"""Two machines, one `chroma run` (issue 14 item 2): machine A ingests through its data dir, machine B reads from
an empty data dir of its own. Everything B knows comes from Chroma: its BM25 index is derived from the collection
(cached under B's data dir, keyed by the collection's version stamp) and the documents being written come from
the collection's journal."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.retrieval import HybridRetriever
from index.bm25 import Bm25Store
from index.bm25_cache import cache_root
from index.embeddings import embedder_id
from index.ingest import Ingestor
from index.journal import Journal, current_version
from index.settings import Settings
from index.store import VectorIndex
from tests.conftest import REPO
from tests.fakes.chroma_server import ChromaServer
from tests.index.test_chroma_server import write_corpus

pytestmark = pytest.mark.slow

QUERIES = [
    "Which drones did Kyrgyzstan buy from Turkey?",
    "How many people died in the fighting?",
    "summit in Samarkand ceasefire",
    "Bayraktar TB2 border clashes",
]
LEASE_S = 3.0


def ids(retriever: HybridRetriever, query: str) -> list[str]:
    return [p.chunk_id for p in retriever.retrieve(query, top_k=6).passages]


def bm25_ranking(store: Bm25Store, query: str) -> list[tuple[str, float]]:
    index = store.load()
    assert index is not None
    return [(cid, round(score, 5)) for cid, score in index.search(query, 8)]


@pytest.fixture
def machines(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> Iterator[tuple[ChromaServer, Settings, Settings]]:
    with ChromaServer(tmp_path / "chroma-server") as server:
        where = {"chroma_host": server.host, "chroma_port": server.port, "ingest_lease_s": LEASE_S}
        machine_a = make_settings(data_dir=tmp_path / "machine-a", ingest_wait_s=60.0, **where)
        machine_b = make_settings(data_dir=tmp_path / "machine-b", **where)
        yield server, machine_a, machine_b


def test_reader_on_an_empty_data_dir_sees_what_the_writer_committed(
    tmp_path: Path, machines: tuple[ChromaServer, Settings, Settings], embedder: object, seed_article: Path
) -> None:
    _server, machine_a, machine_b = machines
    corpus = write_corpus(tmp_path / "corpus", seed_article)
    Ingestor(machine_a, embedder).run([corpus])  # type: ignore[arg-type]
    assert not machine_b.data_dir.exists()

    reader_a = HybridRetriever(machine_a, embedder)  # type: ignore[arg-type]
    reader_b = HybridRetriever(machine_b, embedder)  # type: ignore[arg-type]
    for query in QUERIES:
        got_b = reader_b.retrieve(query, top_k=6)
        assert got_b.trace["bm25"], f"B fell back to vector-only for {query!r}"
        assert [p.chunk_id for p in got_b.passages] == ids(reader_a, query)
    # B's derived BM25 is the index the writer built from the same committed chunks: same chunks, same scores.
    writer_bm25 = Bm25Store(machine_a.data_dir, machine_a.collection)
    derived = Bm25Store(machine_b.data_dir, machine_b.collection, root=cache_root(machine_b, machine_b.collection))
    assert derived.chunk_ids() == writer_bm25.chunk_ids() and derived.chunk_ids()
    assert derived.version() == writer_bm25.version() == current_version(machine_b, machine_b.collection)
    for query in QUERIES:
        assert bm25_ranking(derived, query) == bm25_ranking(writer_bm25, query)
    assert not (machine_b.data_dir / "manifest.sqlite").exists()  # B never needed the writer's journal

    # A changes one file and deletes another: B's very next question sees both.
    (corpus / "drones.md").write_text("---\ntitle: Drones\n---\n# Drones\n## Purchases\nKyrgyzstan ordered "
                                      "Aksungur drones from Turkish Aerospace for its border patrols.\n")
    (corpus / "casualties.md").unlink()
    Ingestor(machine_a, embedder).run([corpus])  # type: ignore[arg-type]
    changed = reader_b.retrieve("Aksungur drones border patrols", top_k=6)
    assert "Aksungur" in changed.passages[0].text
    assert changed.passages[0].chunk_id in {cid for cid, _ in changed.trace["bm25"]}  # found by BM25 too
    for query in QUERIES:
        got = reader_b.retrieve(query, top_k=6)
        assert not [p for p in got.passages if p.source.endswith("casualties.md")]
        assert not [p for p in got.passages if "Bayraktar TB2 drones from Turkey in 2021" in p.text]
        assert [p.chunk_id for p in got.passages] == ids(reader_a, query)


def test_an_ingest_killed_mid_write_never_shows_the_reader_a_half_written_document(
    tmp_path: Path, machines: tuple[ChromaServer, Settings, Settings], embedder: object, seed_article: Path
) -> None:
    server, machine_a, machine_b = machines
    corpus = write_corpus(tmp_path / "corpus", seed_article)
    Ingestor(machine_a, embedder).run([corpus])  # type: ignore[arg-type]
    reader_b = HybridRetriever(machine_b, embedder)  # type: ignore[arg-type]
    assert ids(reader_b, "summit in Samarkand ceasefire")

    # A new long document (several chunks) and a changed one, written by an ingest that dies half-way.
    paragraphs = [f"The Ferghana valley water council met for session {i}. Delegates argued about canal quotas, "
                  f"pumping stations and reservoir {i} at length, and the council recorded every objection in "
                  "detail for the next session of the regional water authority." for i in range(12)]
    (corpus / "long.md").write_text("# Water council\n\n" + "\n\n".join(p * 3 for p in paragraphs) + "\n")
    (corpus / "summit.md").write_text("# Summit\n\nThe Samarkand summit ended with a ceasefire agreement "
                                      "signed by both ministers.\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHROMA_", "FOOTNOTE_", "OPENAI_"))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.index.half_ingest", str(machine_a.data_dir), server.host, str(server.port),
         str(LEASE_S), str(corpus)], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 300)
        assert ready and proc.stdout.readline().strip() == "HALF"

        journal = Journal.open(machine_b, machine_b.collection, create=False)
        assert journal is not None
        writing = journal.writing()
        assert len(writing) == 2  # long.md and summit.md
        index = VectorIndex.open(machine_b, embedder_id=embedder_id(machine_b), create=False)
        assert index is not None
        half = [n for n in index.nodes() if n.ref_doc_id in writing]
        assert half, "the crash must leave some chunks of the documents being written in Chroma"

        def served_from_writing() -> list[str]:
            served = []
            for query in [*QUERIES, "Ferghana valley water council canal quotas", "Samarkand summit ceasefire"]:
                served += [p.chunk_id for p in reader_b.retrieve(query, top_k=8).passages if p.doc_id in writing]
            return served

        assert served_from_writing() == []  # while the writer hangs mid-write (its lease still renewed)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        time.sleep(LEASE_S + 1)  # its lease runs out: B rebuilds BM25 from Chroma, leaving `writing` docs out
        assert served_from_writing() == []
        derived = Bm25Store(machine_b.data_dir, machine_b.collection, root=cache_root(machine_b, machine_b.collection))
        assert derived.version() == current_version(machine_b, machine_b.collection)
        assert not derived.chunk_ids() & {n.node_id for n in half}
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()

    # A runs again: it takes over the dead writer's lease, redoes both documents, and B serves them.
    summary = Ingestor(machine_a, embedder).run([corpus])  # type: ignore[arg-type]
    assert summary.recovered == 2
    assert Journal.open(machine_b, machine_b.collection, create=False).writing() == set()  # type: ignore[union-attr]
    top = reader_b.retrieve("Ferghana valley water council canal quotas", top_k=3).passages
    assert top and "Ferghana" in top[0].text
    top = reader_b.retrieve("Samarkand summit ceasefire agreement ministers", top_k=3).passages
    assert "ceasefire agreement" in top[0].text
