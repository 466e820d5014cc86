"""The ingest manifest: which documents are in which collection, with which content hash and chunk ids.

It is the source of truth for crash safety. A document is marked `writing` (with its new chunk ids) *before*
its chunks are touched in Chroma and `complete` only after; a run killed in between leaves a `writing` row
that the next run redoes, and the read path ignores chunks of `writing` documents. SQLite in WAL mode gives
atomic commits, so the manifest itself is never half-written.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from index.errors import DataDirError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    collection TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    path TEXT NOT NULL,
    source TEXT NOT NULL,
    title TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    chunk_ids TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('writing', 'complete')),
    updated_at TEXT NOT NULL,
    url TEXT,
    PRIMARY KEY (collection, doc_id)
);
CREATE TABLE IF NOT EXISTS skipped (
    collection TEXT NOT NULL,
    path TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (collection, path)
);
CREATE TABLE IF NOT EXISTS meta (
    collection TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (collection, key)
);
"""


@dataclass(frozen=True)
class DocumentRecord:
    doc_id: str
    path: str
    source: str
    title: str
    content_hash: str
    chunk_ids: list[str]
    state: str
    updated_at: str
    # The URL the document claims (front matter, canonical link), "" for none. None: written before sources were
    # stored as paths relative to the ingest root (the chunks' `source` may be that URL): re-indexed once.
    url: str | None = ""


@dataclass(frozen=True)
class PendingDocument:
    """A document about to be (re)written: its new chunk ids and the ids it had before."""

    doc_id: str
    path: str
    source: str  # path relative to the ingest root: where the document really came from
    title: str
    content_hash: str
    chunk_ids: list[str]
    previous: list[str]
    url: str = ""  # what the document claims as its source


def _open_readonly(path: Path) -> sqlite3.Connection:
    """A read-only connection that writes nothing. `mode=ro` still needs the WAL's shared-memory file, which
    SQLite cannot create in a read-only directory: then the database is opened `immutable` (no locks, no WAL
    index), safe because nobody can be writing to a directory that cannot be written."""
    if not path.is_file():
        raise sqlite3.OperationalError("no such file")
    uri = path.resolve().as_uri()
    try:
        db = sqlite3.connect(f"{uri}?mode=ro", uri=True, check_same_thread=False, isolation_level=None)
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return db
    except sqlite3.OperationalError:
        db = sqlite3.connect(f"{uri}?immutable=1", uri=True, check_same_thread=False, isolation_level=None)
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return db


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Manifest:
    """`readonly`: for readers (`status`, `ask`, the bot): never creates or changes a file, so it works on a
    read-only data dir. The manifest must exist."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            if readonly:
                self._db = _open_readonly(path)
                return
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(documents)")}
            if "url" not in columns:  # a manifest from before root-relative sources: rows keep url NULL
                self._db.execute("ALTER TABLE documents ADD COLUMN url TEXT")
        except (sqlite3.Error, OSError) as err:
            raise DataDirError(f"Cannot open the manifest at {path}: {err}") from err

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                yield self._db
                self._db.execute("COMMIT")
            except sqlite3.Error as err:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise DataDirError(f"Cannot write the manifest at {self.path}: {err}") from err
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    def _rows(self, sql: str, args: tuple[object, ...]) -> list[DocumentRecord]:
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        return [
            DocumentRecord(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), r[6], r[7], r[8]) for r in rows
        ]

    @property
    def _columns(self) -> str:
        if self._has_url is None:
            with self._lock:
                self._has_url = any(r[1] == "url" for r in self._db.execute("PRAGMA table_info(documents)"))
        return "doc_id, path, source, title, content_hash, chunk_ids, state, updated_at" + (
            ", url" if self._has_url else ", NULL")

    _has_url: bool | None = None

    def documents(self, collection: str) -> dict[str, DocumentRecord]:
        rows = self._rows(f"SELECT {self._columns} FROM documents WHERE collection = ?", (collection,))
        return {r.doc_id: r for r in rows}

    def writing_doc_ids(self, collection: str) -> set[str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT doc_id FROM documents WHERE collection = ? AND state = 'writing'", (collection,)
            ).fetchall()
        return {r[0] for r in rows}

    def skipped(self, collection: str) -> dict[str, tuple[str, str]]:
        """Files a previous run could not index: path -> (content hash, reason). Not re-parsed until changed."""
        with self._lock:
            rows = self._db.execute(
                "SELECT path, content_hash, reason FROM skipped WHERE collection = ?", (collection,)
            ).fetchall()
        return {r[0]: (r[1], r[2]) for r in rows}

    def remember_skip(self, collection: str, path: str, digest: str, reason: str) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO skipped VALUES (?, ?, ?, ?) ON CONFLICT (collection, path) DO UPDATE SET "
                "content_hash=excluded.content_hash, reason=excluded.reason",
                (collection, path, digest, reason),
            )

    def forget_skip(self, collection: str, path: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM skipped WHERE collection = ? AND path = ?", (collection, path))

    def begin(self, collection: str, docs: list[PendingDocument]) -> None:
        """Record intent before touching Chroma: the union of old and new ids, so a crash leaves no orphan."""
        with self._tx() as db:
            for doc in docs:
                ids = sorted(set(doc.chunk_ids) | set(doc.previous))
                db.execute(
                    "INSERT INTO documents (collection, doc_id, path, source, title, content_hash, chunk_ids, "
                    "state, updated_at, url) VALUES (?, ?, ?, ?, ?, '', ?, 'writing', ?, ?) "
                    "ON CONFLICT (collection, doc_id) DO UPDATE SET path=excluded.path, source=excluded.source, "
                    "title=excluded.title, content_hash='', chunk_ids=excluded.chunk_ids, state='writing', "
                    "updated_at=excluded.updated_at, url=excluded.url",
                    (collection, doc.doc_id, doc.path, doc.source, doc.title, json.dumps(ids), _now(), doc.url),
                )

    def commit(self, collection: str, docs: list[PendingDocument]) -> None:
        with self._tx() as db:
            for doc in docs:
                db.execute(
                    "UPDATE documents SET content_hash = ?, chunk_ids = ?, state = 'complete', updated_at = ? "
                    "WHERE collection = ? AND doc_id = ?",
                    (doc.content_hash, json.dumps(doc.chunk_ids), _now(), collection, doc.doc_id),
                )
            self._set(db, collection, "dirty", "1")

    def remove(self, collection: str, doc_id: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM documents WHERE collection = ? AND doc_id = ?", (collection, doc_id))
            self._set(db, collection, "dirty", "1")

    def drop_collection(self, collection: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM documents WHERE collection = ?", (collection,))
            db.execute("DELETE FROM meta WHERE collection = ?", (collection,))
            db.execute("DELETE FROM skipped WHERE collection = ?", (collection,))

    @staticmethod
    def _set(db: sqlite3.Connection, collection: str, key: str, value: str) -> None:
        db.execute(
            "INSERT INTO meta VALUES (?, ?, ?) ON CONFLICT (collection, key) DO UPDATE SET value=excluded.value",
            (collection, key, value),
        )

    def set_meta(self, collection: str, **values: str) -> None:
        with self._tx() as db:
            for key, value in values.items():
                self._set(db, collection, key, value)

    def meta(self, collection: str) -> dict[str, str]:
        with self._lock:
            rows = self._db.execute("SELECT key, value FROM meta WHERE collection = ?", (collection,)).fetchall()
        return dict(rows)

    def collections(self) -> list[str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT DISTINCT collection FROM documents UNION SELECT DISTINCT collection FROM meta"
            ).fetchall()
        return sorted(r[0] for r in rows)

    def mark_ingested(self, collection: str) -> None:
        self.set_meta(collection, last_ingest=_now())
