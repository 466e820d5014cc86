"""`footnote ingest`: files -> chunks -> Chroma + BM25, incremental, idempotent and crash-safe.

Per document: the manifest records intent (`writing`, with old and new chunk ids) -> old and new ids are
deleted from Chroma -> new chunks are added -> the manifest marks it `complete`. Chunk ids are deterministic.
A run killed anywhere leaves `writing` rows; the next run deletes their chunks and redoes them, and sweeps any
Chroma id the manifest does not know. BM25 is rebuilt from Chroma's committed chunks at the end of a run that
changed anything (or after a crash), and swapped in atomically.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import sqlite3
import stat
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.schema import TextNode

from index.bm25 import node_texts
from index.chunking import Chunker, doc_id_for
from index.embeddings import embed_nodes_once, embedder_id
from index.errors import DataDirError, FootnoteError, IndexUnavailableError, LoaderError
from index.journal import JournaledManifest, current_version
from index.loaders import SUPPORTED_SUFFIXES, LoadedDocument, content_hash, file_kind, load_file
from index.lock import WriterLock
from index.manifest import DocumentRecord, Manifest, PendingDocument
from index.progress import ProgressLog
from index.settings import Settings
from index.store import Bm25Store, VectorIndex, check_writable

log = logging.getLogger(__name__)

EMBED_BATCH_CHUNKS = 128  # chunks gathered across files per embedding call: keeps batches full
Progress = Callable[[int, int, str], None]  # (files done, files total, current path)


@dataclass
class IngestSummary:
    indexed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    deleted: list[str] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (path, remark) for files indexed anyway
    recovered: int = 0  # half-written documents from an interrupted run, cleaned and redone
    chunks_written: int = 0
    chunks_embedded: int = 0  # texts sent to the embedder (the rest of chunks_written reused a stored vector)
    chunks_reused: int = 0
    documents: int = 0
    chunks: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict[str, object]:
        return {
            "indexed": len(self.indexed),
            "unchanged": len(self.unchanged),
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
            "deleted": len(self.deleted),
            "notes": [{"path": p, "note": n} for p, n in self.notes],
            "recovered": self.recovered,
            "chunks_written": self.chunks_written,
            "chunks_embedded": self.chunks_embedded,
            "chunks_reused": self.chunks_reused,
            "documents": self.documents,
            "chunks": self.chunks,
            "seconds": round(self.seconds, 2),
        }


def display_source(path: Path) -> str:
    """Relative to the working directory when inside it (short, readable), else absolute."""
    try:
        return path.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return path.as_posix()


def _resolve(path: Path, summary: IngestSummary) -> Path | None:
    """The real path, or None (reported) for a symlink loop or a path that cannot be resolved."""
    try:
        return path.resolve(strict=True)
    except RuntimeError:  # Python 3.11's resolve() on a symlink loop
        summary.skipped.append((display_source(path), "symlink loop"))
    except OSError as err:
        reason = "symlink loop" if err.errno == errno.ELOOP else (
            "broken symlink" if path.is_symlink() else f"cannot read ({err.strerror or err})")
        summary.skipped.append((display_source(path), reason))
    return None


def _regular(path: Path, summary: IngestSummary) -> bool:
    """Only regular files are read: a FIFO would block the ingest forever, a device is not a document."""
    try:
        mode = path.stat().st_mode
    except OSError as err:
        summary.skipped.append((display_source(path), f"cannot read file ({err.strerror or err})"))
        return False
    if stat.S_ISREG(mode):
        return True
    summary.skipped.append((display_source(path), f"not a regular file ({file_kind(mode)})"))
    return False


def stored_source(path: Path, root: Path) -> str:
    """Where a document really came from, as stored and cited: its path relative to the ingest root, starting
    with the root folder's own name ("corpus/02-report.md"), or the file's name when the file itself was given.
    Unlike a path relative to the working directory, it does not depend on where the ingest ran."""
    if path == root:
        return path.name
    try:
        return path.relative_to(root.parent).as_posix()
    except ValueError:  # a symlink inside the root pointing elsewhere: named under the root by its link name
        return f"{root.name}/{path.name}"


def discover(paths: Iterable[Path], summary: IngestSummary) -> dict[Path, str]:
    """Regular, supported files under `paths` -> their stored source (see `stored_source`), in path order."""
    files: dict[Path, str] = {}
    for given in paths:
        if not given.exists() and not given.is_symlink():
            raise FootnoteError(f"No such file or directory: {given}")
        root = _resolve(given, summary)
        if root is None:
            continue
        if not root.is_dir():
            if _regular(root, summary):
                files.setdefault(root, root.name)
            continue

        def unreadable(err: OSError, root: Path = root) -> None:
            where = Path(err.filename) if err.filename else root
            summary.skipped.append((display_source(where), f"cannot read folder ({err.strerror or err})"))

        for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if name.startswith("."):
                    continue
                link = Path(dirpath, name)
                path = _resolve(link, summary)
                if path is None:
                    continue
                if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                    summary.skipped.append((display_source(path), f"unsupported file type {path.suffix or '(none)'}"))
                elif _regular(path, summary):
                    files.setdefault(path, stored_source(path if root in path.parents else link, root))
    return dict(sorted(files.items()))


@dataclass
class _Pending:
    doc: LoadedDocument
    doc_id: str
    source: str  # stored source: path relative to the ingest root
    nodes: list[TextNode]


class Ingestor:
    def __init__(
        self, settings: Settings, embedder: BaseEmbedding, *, collection: str | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.collection = collection or settings.collection
        self.progress = progress
        self.chunker = Chunker(settings.chunk_tokens, settings.chunk_overlap)

    def run(self, paths: list[Path], *, prune: bool = True, rebuild: bool = False) -> IngestSummary:
        """One writer at a time (`index.lock`): waits for, or refuses, another ingest into this data dir or
        (server mode) this collection."""
        with WriterLock(self.settings, self.collection) as lock:
            return self._run(paths, prune=prune, rebuild=rebuild, lock=lock)

    def _run(self, paths: list[Path], *, prune: bool, rebuild: bool, lock: WriterLock) -> IngestSummary:
        started = time.perf_counter()
        summary = IngestSummary()
        check_writable(self.settings.data_dir)
        files = discover(paths, summary)
        manifest = JournaledManifest.for_writer(self.settings, self.collection, lock)
        try:
            bm25 = Bm25Store(self.settings.data_dir, self.collection)
            if rebuild:
                self._drop_everything(manifest, bm25)
            index = VectorIndex.open(
                self.settings, self.collection, embedder_id=embedder_id(self.settings), create=True
            )
            assert index is not None
            summary.recovered = self._recover(manifest, index)
            self._ingest_files(files, manifest, index, summary)
            if prune:
                self._prune(paths, {str(f) for f in files}, manifest, index, summary)
            meta = manifest.meta(self.collection)
            if meta.get("dirty") == "1" or bm25.current_dir() is None:
                self._rebuild_bm25(manifest, index, bm25)
            manifest.mark_ingested(self.collection)
            known_roots = set(json.loads(manifest.meta(self.collection).get("roots", "[]")))
            known_roots |= {str(_absolute(p)) for p in paths}
            manifest.set_meta(self.collection, roots=json.dumps(sorted(known_roots)))  # for /reindex
            summary.documents = len(manifest.documents(self.collection))
            summary.chunks = index.count()
        except Exception as err:
            if isinstance(err, OSError) and not self._in_data_dir(err):
                name = err.filename or "a source file"
                raise FootnoteError(f"Cannot read {name} ({err.strerror or err}); the index was not changed "
                                    "by it. Fix its permissions or leave it out, then run the ingest again.") from err
            if not _storage_failure(err):
                raise
            raise self._write_failed(err) from err
        finally:
            manifest.close()
        summary.seconds = time.perf_counter() - started
        return summary

    def _in_data_dir(self, err: OSError) -> bool:
        """An OSError that names a path outside the data dir is about a source file, not our storage."""
        if not err.filename:
            return True
        try:
            Path(os.fsdecode(err.filename)).resolve().relative_to(self.settings.data_dir.resolve())
        except (ValueError, OSError, RuntimeError):
            return False
        return True

    def _write_failed(self, err: Exception) -> FootnoteError:
        """A write failed mid-run (disk full, file size limit, read-only or vanished data dir): say where, and that
        re-running finishes the job (the manifest's `writing` rows let the next run redo what was cut short)."""
        detail = " ".join(str(err).split())[:300] or type(err).__name__
        if self.settings.uses_chroma_server and not isinstance(err, OSError | sqlite3.Error):
            return IndexUnavailableError(
                f"The Chroma server at {self.settings.chroma_host}:{self.settings.chroma_port} failed to store the "
                f"chunks ({detail}). Check its disk and logs, then run the same ingest again to finish it."
            )
        return DataDirError(
            f"Writing the index under the data dir {self.settings.data_dir} failed ({detail}). The disk may be full "
            "or the data dir not writable: free some space or fix its permissions, then run the same ingest again "
            "to finish it."
        )

    def _drop_everything(self, manifest: Manifest, bm25: Bm25Store) -> None:
        from index.errors import DamagedStoreError
        from index.store import discard_embedded_store, open_client

        try:
            client = open_client(self.settings, create=True)
        except DamagedStoreError as err:
            log.warning("%s -- rebuilding: the damaged store is deleted and re-created", err)
            discard_embedded_store(self.settings)
            client = open_client(self.settings, create=True)
        try:
            client.delete_collection(self.collection)
        except Exception as err:  # absent collection: nothing to drop
            log.debug("drop collection: %s", err)
        manifest.drop_collection(self.collection)
        bm25.drop()

    def _recover(self, manifest: Manifest, index: VectorIndex) -> int:
        """Undo what an interrupted run half-did: `writing` documents and chunks the manifest doesn't know."""
        docs = manifest.documents(self.collection)
        writing = [d for d in docs.values() if d.state == "writing"]
        for doc in writing:
            index.delete_ids(doc.chunk_ids)
            manifest.remove(self.collection, doc.doc_id)
        known = {cid for d in docs.values() if d.state == "complete" for cid in d.chunk_ids}
        orphans = sorted(index.all_ids() - known)
        if orphans:
            log.info("removing %d orphan chunks left by an interrupted run", len(orphans))
            index.delete_ids(orphans)
            manifest.set_meta(self.collection, dirty="1")
        return len(writing)

    def _ingest_files(
        self, files: dict[Path, str], manifest: Manifest, index: VectorIndex, summary: IngestSummary
    ) -> None:
        from tqdm import tqdm

        known = manifest.documents(self.collection)
        remembered = manifest.skipped(self.collection)
        max_bytes = int(self.settings.max_file_mb * 1_000_000)
        pending: list[_Pending] = []
        bar = tqdm(total=len(files), unit="file", desc="ingest", disable=None, leave=False)
        for done, (path, stored) in enumerate(files.items(), 1):
            source = display_source(path)
            doc_id = doc_id_for(str(path))
            bar.update(1)
            if self.progress:
                self.progress(done, len(files), source)
            previous = known.get(doc_id)
            digest: str | None = None
            try:
                if path.stat().st_size <= max_bytes:
                    digest = content_hash(path.read_bytes())
                    if (previous and previous.state == "complete" and digest == previous.content_hash
                            and previous.url is not None and previous.source == stored):
                        summary.unchanged.append(source)
                        continue
                    if str(path) in remembered and remembered[str(path)][0] == digest:
                        summary.skipped.append((source, f"{remembered[str(path)][1]} (unchanged since it was "
                                                        "skipped: not read again)"))
                        continue
                doc = load_file(path, max_bytes=max_bytes)
            except (LoaderError, OSError) as err:
                reason = err.reason if isinstance(err, LoaderError) else f"cannot read file ({err.strerror or err})"
                if previous is not None:  # emptied, damaged or unreadable now: its old passages must not be served
                    self._remove(manifest, index, previous)
                    reason += "; its previously indexed passages were removed"
                summary.skipped.append((source, reason))
                log.warning("skipped %s: %s", source, reason)
                if digest is not None and isinstance(err, LoaderError):
                    manifest.remember_skip(self.collection, str(path), digest, err.reason)
                continue
            if str(path) in remembered:
                manifest.forget_skip(self.collection, str(path))
            summary.notes.extend((source, note) for note in doc.notes)
            # The chunk's `source` is the real path; the document's claimed URL is kept apart in `url` (never
            # trusted for provenance: a document can claim any URL).
            nodes = self.chunker.chunk(doc, doc_id=doc_id, source=stored)
            pending.append(_Pending(doc, doc_id, stored, nodes))
            if sum(len(p.nodes) for p in pending) >= EMBED_BATCH_CHUNKS:
                self._write(pending, manifest, index, known, summary)
                pending = []
        self._write(pending, manifest, index, known, summary)
        bar.close()

    def _write(
        self, pending: list[_Pending], manifest: Manifest,
        index: VectorIndex, known: dict[str, DocumentRecord], summary: IngestSummary,
    ) -> None:
        if not pending:
            return
        all_nodes = [node for p in pending for node in p.nodes]
        self._embed(all_nodes, index, summary)
        docs = [
            PendingDocument(
                doc_id=p.doc_id, path=str(p.doc.path), source=p.source, title=p.doc.title,
                content_hash=p.doc.content_hash, chunk_ids=[n.node_id for n in p.nodes],
                previous=known[p.doc_id].chunk_ids if p.doc_id in known else [], url=p.doc.url or "",
            )
            for p in pending
        ]
        # One manifest transaction, one Chroma delete and one add per batch: per-document calls cost more than
        # the writes themselves. New documents have nothing to delete (recovery already removed leftovers).
        manifest.begin(self.collection, docs)
        index.delete_ids(sorted({cid for d in docs if d.previous for cid in (*d.previous, *d.chunk_ids)}))
        index.add(all_nodes)
        manifest.commit(self.collection, docs)
        summary.indexed.extend(display_source(Path(d.path)) for d in docs)
        summary.chunks_written += len(all_nodes)
        if isinstance(self.progress, ProgressLog):  # no terminal: chunks and chunks/s in its lines
            self.progress.chunks_written(len(all_nodes))

    def _embed(self, nodes: list[TextNode], index: VectorIndex, summary: IngestSummary) -> None:
        embedded = embed_nodes_once(self.embedder, nodes, index.embeddings_by_hash)
        summary.chunks_embedded += embedded
        summary.chunks_reused += len(nodes) - embedded

    def _prune(
        self, roots: list[Path], seen: set[str], manifest: Manifest, index: VectorIndex, summary: IngestSummary
    ) -> None:
        """Delete documents that were ingested from under these roots and no longer exist there."""
        resolved = [_absolute(r) for r in roots]
        for doc in manifest.documents(self.collection).values():
            path = Path(doc.path)
            under = any(path == r or r in path.parents for r in resolved)
            if not under or doc.path in seen:
                continue
            try:
                gone = not path.exists()
            except OSError as err:  # e.g. its folder became unreadable: a source problem, not a data-dir one
                self._remove(manifest, index, doc)
                summary.skipped.append((doc.source, f"cannot read file ({err.strerror or err}); its previously "
                                                    "indexed passages were removed"))
                continue
            if gone:
                self._remove(manifest, index, doc)
                summary.deleted.append(doc.source)

    def _remove(self, manifest: Manifest, index: VectorIndex, doc: DocumentRecord) -> None:
        """Take one document out of the index, crash-safely (intent first, like a rewrite)."""
        manifest.begin(self.collection, [PendingDocument(
            doc.doc_id, doc.path, doc.source, doc.title, doc.content_hash, [], doc.chunk_ids)])
        index.delete_ids(doc.chunk_ids)
        manifest.remove(self.collection, doc.doc_id)

    def _rebuild_bm25(self, manifest: Manifest, index: VectorIndex, bm25: Bm25Store) -> None:
        committed = {
            cid for d in manifest.documents(self.collection).values() if d.state == "complete" for cid in d.chunk_ids
        }
        chunks = node_texts(n for n in index.iter_nodes() if n.node_id in committed)
        bm25.write(chunks, version=current_version(self.settings, self.collection))
        manifest.set_meta(self.collection, dirty="0")


def _absolute(path: Path) -> Path:
    """Resolved when it can be (a symlink loop cannot), else just absolute."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return Path(os.path.abspath(path))


def _storage_failure(err: Exception) -> bool:
    """An error of the storage under the index (OS, SQLite, or Chroma's internal storage errors), not a bug."""
    if isinstance(err, OSError | sqlite3.Error):
        return True
    try:
        from chromadb.errors import InternalError
    except ImportError:  # pragma: no cover - chromadb is a dependency
        return False
    return isinstance(err, InternalError)
