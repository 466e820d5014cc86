"""A reader's view of a collection on a Chroma server, derived from Chroma alone (issue 14 items 1-2).

A bot on another machine than the ingest has none of the writer's files: its BM25 index is *derived* from the
collection's committed chunks, persisted under its own data dir as a cache keyed by the collection's version stamp
(`index.journal`), and rebuilt when the stamp has moved; the documents being written are read from the journal in
Chroma. In embedded mode reader and writer share the data dir, and the writer's own BM25 generations are used as
before (`reader_bm25`).

While an ingest is running (its lease is live) the stamp moves at every batch: the reader keeps its snapshot
rather than rebuilding per question, and `index.committed` re-checks each BM25 hit against Chroma meanwhile (the
snapshot is stale). The first question after the ingest released its lease rebuilds.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from pathlib import Path
from typing import Any

from index.bm25 import Bm25Store, node_texts
from index.journal import Journal, current_version
from index.settings import Settings
from index.store import VectorIndex

log = logging.getLogger(__name__)


def cache_root(settings: Settings, collection: str) -> Path:
    """Per server and collection, apart from the writer's `bm25/` (a writer on the same data dir collects its
    own old generations there)."""
    server = re.sub(r"[^A-Za-z0-9._-]", "_", f"{settings.chroma_host}-{settings.chroma_port}")
    return settings.data_dir / "bm25-cache" / server / collection


class ChromaReadView:
    """Journal reads for one server (opened on first use, then kept)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._journals: dict[str, Journal | None] = {}

    def journal(self, collection: str) -> Journal | None:
        found = self._journals.get(collection)
        if found is None:
            found = Journal.open(self.settings, collection, create=False)
            if found is not None:  # absent: looked up again next time (a first ingest may create it)
                self._journals[collection] = found
        return found

    def writing(self, collection: str) -> set[str]:
        journal = self.journal(collection)
        return journal.writing() if journal is not None else set()

    def writer_active(self, collection: str) -> bool:
        journal = self.journal(collection)
        lease = journal.lease() if journal is not None else None
        return lease is not None and float(lease.get("expires") or 0) > time.time()

    def version(self, collection: str) -> str | None:
        return current_version(self.settings, collection)


class DerivedBm25Store(Bm25Store):
    """`Bm25Store` whose `current_dir()` first brings the cache up to the collection's version stamp."""

    def __init__(self, settings: Settings, collection: str, index: VectorIndex) -> None:
        super().__init__(settings.data_dir, collection, root=cache_root(settings, collection))
        self.settings = settings
        self.collection = collection
        self.index = index
        self.view = ChromaReadView(settings)
        self._lock = threading.Lock()
        self.rebuilds = 0

    def current_dir(self) -> Path | None:
        with self._lock:
            cached = self.snapshot_dir()
            version = self.view.version(self.collection)
            if version is None or (cached is not None and self.version() == version):
                return cached
            if cached is not None and self.view.writer_active(self.collection):
                return cached  # an ingest is under way: keep this snapshot, hits are re-checked (index.committed)
            self.rebuild(version)
            return self.snapshot_dir()

    def rebuild(self, version: str) -> None:
        """From Chroma's committed chunks: those of documents the journal marks `writing` are left out. Labelled
        with the stamp read *before* the chunks: a write that lands meanwhile leaves this snapshot stale."""
        started = time.perf_counter()
        writing = self.view.writing(self.collection)
        chunks = self.write(node_texts(n for n in self.index.iter_nodes() if n.ref_doc_id not in writing),
                            version=version)
        self.rebuilds += 1
        log.info("BM25 of collection %r derived from Chroma at version %s: %d chunks in %.1f s",
                 self.collection, version, chunks, time.perf_counter() - started)


def reader_bm25(settings: Settings, collection: str, index: VectorIndex) -> Any:
    """The BM25 store a reader uses: derived from the server in server mode, the writer's in embedded mode."""
    if settings.uses_chroma_server:
        return DerivedBm25Store(settings, collection, index)
    return Bm25Store(settings.data_dir, collection)
