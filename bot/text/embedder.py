"""Sentence embeddings with a cache shared by the answerers and the verifier.

Embedding the sentences of the retrieved passages is the extractive path's main cost (MiniLM on CPU). The same
chunks come back for many questions, so vectors are kept in memory and, when a cache directory is given (the
data dir), in a small SQLite file keyed by a hash of the embedder id and the text: a warm answer -- in this
process or a later one, the CLI included -- costs retrieval plus scoring. The file is bounded (oldest rows go
first), shared safely by concurrent processes (WAL, busy timeout), and never fatal: any SQLite error makes it a
cache miss.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from threading import Lock

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding

from index.embeddings import embed_texts

CACHE_FILE = "sentence-embeddings.sqlite"


class _DiskCache:
    def __init__(self, path: Path, model: str, max_rows: int) -> None:
        self.path = path
        self.model = model
        self.max_rows = max_rows
        self._conn: sqlite3.Connection | None = None
        self._broken = False
        self._lock = Lock()

    def _connect(self) -> sqlite3.Connection | None:
        if self._conn is None and not self._broken:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, timeout=2.0, check_same_thread=False, isolation_level=None)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("CREATE TABLE IF NOT EXISTS vec (key BLOB PRIMARY KEY, v BLOB NOT NULL)")
                self._conn = conn
            except (sqlite3.Error, OSError):
                self._broken = True  # read-only or full disk: work without the file
        return self._conn

    def key(self, text: str) -> bytes:
        return hashlib.blake2b(f"{self.model}\x00{text}".encode(), digest_size=16).digest()

    def get(self, texts: list[str]) -> dict[str, np.ndarray]:
        keyed = {self.key(t): t for t in texts}
        out: dict[str, np.ndarray] = {}
        with self._lock:
            conn = self._connect()
            if conn is None or not keyed:
                return out
            try:
                keys = list(keyed)
                for i in range(0, len(keys), 500):
                    part = keys[i : i + 500]
                    rows = conn.execute(f"SELECT key, v FROM vec WHERE key IN ({','.join('?' * len(part))})", part)
                    for k, v in rows:
                        out[keyed[k]] = np.frombuffer(v, dtype=np.float32)
            except sqlite3.Error:
                return {}
        return out

    def delete(self, texts: list[str]) -> None:
        with self._lock:
            conn = self._connect()
            if conn is None or not texts:
                return
            try:
                conn.executemany("DELETE FROM vec WHERE key = ?", [(self.key(t),) for t in texts])
            except sqlite3.Error:
                pass

    def put(self, items: dict[str, np.ndarray]) -> None:
        with self._lock:
            conn = self._connect()
            if conn is None or not items:
                return
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(
                    "INSERT OR REPLACE INTO vec (key, v) VALUES (?, ?)",
                    [(self.key(t), np.asarray(v, dtype=np.float32).tobytes()) for t, v in items.items()],
                )
                # Bounded: past max_rows, drop the oldest tenth (rowid order is insertion order).
                (count,) = conn.execute("SELECT max(rowid) - min(rowid) + 1 FROM vec").fetchone()
                if count and count > self.max_rows:
                    conn.execute("DELETE FROM vec WHERE rowid < (SELECT min(rowid) FROM vec) + ?",
                                 (count - self.max_rows + self.max_rows // 10,))
                conn.execute("COMMIT")
            except sqlite3.Error:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass


class SentenceEmbedder:
    """Embeds texts through an llama-index embedder with a per-instance memory cache and, given `cache_dir`, a
    persistent one: overlapping chunks repeat sentences, and the extractive answer and the verifier look at
    the same passages."""

    def __init__(
        self,
        embedder: BaseEmbedding,
        max_items: int = 20000,
        *,
        cache_dir: Path | None = None,
        max_disk_items: int = 200_000,
    ) -> None:
        self.embedder = embedder
        self._cache: dict[str, np.ndarray] = {}
        self._max = max_items
        self._lock = Lock()  # the engine calls this from several worker threads
        model = str(getattr(embedder, "model_name", "") or type(embedder).__name__)
        self._disk = _DiskCache(Path(cache_dir) / CACHE_FILE, model, max_disk_items) if cache_dir else None

    def forget(self, texts: list[str]) -> None:
        """Drop these texts' vectors from memory and disk: for benchmarks, so that a repeated question costs
        what a new one does."""
        with self._lock:
            for t in texts:
                self._cache.pop(t, None)
        if self._disk is not None:
            self._disk.delete(texts)

    def clear_memory(self) -> None:
        """Forget the in-memory vectors (the persistent cache stays): for benchmarks of a fresh process."""
        with self._lock:
            self._cache.clear()

    def __call__(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            known = {t: self._cache[t] for t in texts if t in self._cache}
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing and self._disk is not None:
            found = self._disk.get(missing)
            if found:
                self._remember(found)
                known.update(found)
                missing = [t for t in missing if t not in found]
        if missing:
            fresh = dict(zip(missing, embed_texts(self.embedder, missing), strict=True))
            self._remember(fresh)
            known.update(fresh)
            if self._disk is not None:
                self._disk.put(fresh)
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        return np.stack([known[t] for t in texts])

    def _remember(self, items: dict[str, np.ndarray]) -> None:
        with self._lock:
            if len(self._cache) + len(items) > self._max:
                self._cache.clear()
            self._cache.update(items)
