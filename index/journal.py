"""What a reader on another machine needs to know about a collection, kept in Chroma itself (issue 14).

Chroma is the source of truth; every file under a data dir is the writer's own journal or a reader's cache.
Next to each data collection lives a small *journal collection* (`<name>.journal`) with one record per document
(`doc:<doc_id>`: state `writing` / `complete`, content hash, source, title, chunk count) and the writer's lease
(`lease`). The data collection's own metadata carries a version stamp (`footnote:version`) that every ingest step
that changes chunks bumps, so a reader can tell in one call whether its derived BM25 index is still current.

Chroma has no transactions or compare-and-swap; two of its behaviours (checked against chromadb 1.5.9, embedded
and `chroma run`) are enough for the lease: `add` of an id that exists keeps the first record, and `delete` with
`where` removes a record only when its metadata still matches.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from index.errors import WriterBusyError
from index.manifest import Manifest, PendingDocument
from index.settings import Settings
from index.store import chroma_errors, open_client

log = logging.getLogger(__name__)

VERSION_KEY = "footnote:version"
LEASE_ID = "lease"
_DOC = "doc:"
_MAX_NAME = 63  # Chroma's collection-name limit


def journal_name(collection: str) -> str:
    """`<collection>.journal`, shortened with a hash when that would pass Chroma's 63-character limit."""
    name = f"{collection}.journal"
    if len(name) <= _MAX_NAME:
        return name
    digest = hashlib.sha1(collection.encode()).hexdigest()[:10]
    return f"{collection[:40]}-{digest}.journal"


class Journal:
    """The journal collection of one data collection (created on first write; a reader gets None before)."""

    def __init__(self, settings: Settings, collection: str, client: Any, journal: Any) -> None:
        self.settings = settings
        self.collection = collection
        self.client = client
        self.records = journal

    @classmethod
    def open(cls, settings: Settings, collection: str, *, create: bool, client: Any = None) -> Journal | None:
        client = client or open_client(settings, create=create)
        if client is None:
            return None
        with chroma_errors(settings):
            if create:
                records = client.get_or_create_collection(journal_name(collection), embedding_function=None)
            else:
                try:
                    records = client.get_collection(journal_name(collection), embedding_function=None)
                except Exception as err:  # absent: nothing was ever ingested through a journalled writer
                    if "does not exist" in str(err) or "not found" in str(err).lower():
                        return None
                    raise
        return cls(settings, collection, client, records)

    # --- lease ---------------------------------------------------------------------------------------------
    def lease(self) -> dict[str, Any] | None:
        with chroma_errors(self.settings):
            got = self.records.get(ids=[LEASE_ID], include=["metadatas"])
        metas = got.get("metadatas") or []
        return dict(metas[0]) if metas and metas[0] else None

    def try_add_lease(self, meta: dict[str, Any]) -> dict[str, Any] | None:
        """Insert the lease unless one exists; returns the lease that is now in force (ours or another's)."""
        with chroma_errors(self.settings):
            self.records.add(ids=[LEASE_ID], embeddings=[[1.0]], metadatas=[meta], documents=["writer lease"])
        return self.lease()

    def renew_lease(self, meta: dict[str, Any]) -> None:
        with chroma_errors(self.settings):
            self.records.update(ids=[LEASE_ID], metadatas=[meta])

    def drop_lease(self, token: str) -> None:
        """Delete the lease only if it is still the one with this token (a stale one, or our own)."""
        with chroma_errors(self.settings):
            self.records.delete(ids=[LEASE_ID], where={"token": token})

    # --- documents -----------------------------------------------------------------------------------------
    def mark(self, docs: Iterable[PendingDocument], state: str) -> None:
        docs = list(docs)
        if not docs:
            return
        metas = [
            {"kind": "doc", "doc_id": d.doc_id, "state": state, "source": d.source, "title": d.title,
             "content_hash": d.content_hash if state == "complete" else "", "chunks": len(d.chunk_ids)}
            for d in docs
        ]
        with chroma_errors(self.settings):
            self.records.upsert(
                ids=[_DOC + d.doc_id for d in docs], embeddings=[[1.0]] * len(docs), metadatas=metas,
                documents=[d.source for d in docs],
            )

    def forget(self, doc_ids: Iterable[str]) -> None:
        ids = [_DOC + d for d in doc_ids]
        if ids:
            with chroma_errors(self.settings):
                self.records.delete(ids=ids)

    def forget_all_documents(self) -> None:
        with chroma_errors(self.settings):
            self.records.delete(where={"kind": "doc"})

    def documents(self, state: str | None = None) -> dict[str, dict[str, Any]]:
        """doc_id -> its record (state, content_hash, source, title, chunks)."""
        where: dict[str, Any] = {"kind": "doc"} if state is None else {"$and": [{"kind": "doc"}, {"state": state}]}
        with chroma_errors(self.settings):
            got = self.records.get(where=where, include=["metadatas"])
        return {str(m["doc_id"]): dict(m) for m in got.get("metadatas") or [] if m}

    def writing(self) -> set[str]:
        return set(self.documents("writing"))

    # --- version stamp -------------------------------------------------------------------------------------
    def bump_version(self) -> str:
        """Move the data collection's version stamp on (its other metadata kept: `modify` replaces it whole)."""
        with chroma_errors(self.settings):
            data = self.client.get_collection(self.collection)
            meta = {k: v for k, v in (data.metadata or {}).items() if not k.startswith("hnsw:")}
            version = str(int(meta.get(VERSION_KEY) or 0) + 1)
            meta[VERSION_KEY] = version
            data.modify(metadata=meta)
        return version


def current_version(settings: Settings, collection: str, client: Any = None) -> str | None:
    """The data collection's version stamp ("0" before any journalled ingest; None: no such collection)."""
    client = client or open_client(settings, create=False)
    if client is None:
        return None
    with chroma_errors(settings):
        try:
            data = client.get_collection(collection)
        except Exception as err:
            if "does not exist" in str(err) or "not found" in str(err).lower():
                return None
            raise
    return str((data.metadata or {}).get(VERSION_KEY) or "0")


class JournaledManifest(Manifest):
    """The writer's local manifest, mirrored into the collection's journal in Chroma.

    Order of each step, so that a crash between the two writes never shows a reader a half-written document:
    `begin` marks the documents `writing` locally, then in Chroma, then bumps the stamp (chunks are touched only
    after); `commit` marks them `complete` in Chroma first (their chunks are all there), then locally; `remove`
    (after the chunks are deleted) forgets them in Chroma, then locally. Each write first checks that this writer
    still holds the lease (`guard`), so a writer whose lease was taken over stops instead of interleaving."""

    def __init__(self, path: Path, settings: Settings, collection: str, guard: Callable[[], bool] | None = None,
                 journal: Journal | None = None) -> None:
        super().__init__(path)
        self.settings = settings
        self.collection = collection
        self.guard = guard
        self._journal = journal

    @classmethod
    def for_writer(cls, settings: Settings, collection: str, lock: Any) -> JournaledManifest:
        """The manifest of an ingest holding `lock` (an `index.lock.WriterLock`)."""
        return cls(settings.data_dir / "manifest.sqlite", settings, collection, lock.held, lock.journal)

    @property
    def journal(self) -> Journal:
        """Opened on first use: `--rebuild` of a damaged embedded store must be able to discard it first."""
        if self._journal is None:
            self._journal = Journal.open(self.settings, self.collection, create=True)
            assert self._journal is not None
        return self._journal

    def _check(self) -> None:
        if self.guard is not None and not self.guard():
            raise WriterBusyError(
                f"This ingest lost its writer lease on collection {self.collection!r} (another ingest took "
                "it over after it was not renewed in time): stopped before writing more. Run the ingest again."
            )

    def begin(self, collection: str, docs: list[PendingDocument]) -> None:
        self._check()
        super().begin(collection, docs)
        self.journal.mark(docs, "writing")
        self.journal.bump_version()

    def commit(self, collection: str, docs: list[PendingDocument]) -> None:
        self._check()
        self.journal.mark(docs, "complete")
        self.journal.bump_version()
        super().commit(collection, docs)

    def remove(self, collection: str, doc_id: str) -> None:
        self._check()
        self.journal.forget([doc_id])
        self.journal.bump_version()
        super().remove(collection, doc_id)

    def drop_collection(self, collection: str) -> None:
        self.journal.forget_all_documents()
        super().drop_collection(collection)

