"""Where chunks live: a Chroma collection (embedded `PersistentClient` under the data dir, or a `chroma run`
server when CHROMA_HOST is set), wrapped in llama-index's `ChromaVectorStore`. The BM25 index derived from it is in
`index.bm25` (`Bm25Store` is re-exported here for existing callers).

Chroma and connection errors are translated into ours here, where they enter.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llama_index.core.schema import TextNode

from index.bm25 import Bm25Store as Bm25Store  # re-export: it lived here before issue 14
from index.embeddings import EMBED_HASH_KEY
from index.errors import ConfigError, DamagedStoreError, DataDirError, EmbeddingMismatchError, IndexUnavailableError
from index.settings import Settings

log = logging.getLogger(__name__)

_COLLECTION_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]{1,61}[a-zA-Z0-9]$")
EMBEDDER_KEY = "footnote:embedder"
# Server mode: chromadb's HttpClient waits forever by default, so a frozen or unreachable-but-accepting server
# would hang a question (or an ingest) for good. Bounded here; a timeout surfaces as IndexUnavailableError.
SERVER_TIMEOUT_S = 30.0
SERVER_CONNECT_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class HnswParams:
    """The HNSW graph of a collection (chromadb's configuration API; `hnsw:M`, `hnsw:construction_ef`,
    `hnsw:search_ef` in the legacy metadata). `max_neighbors` and `ef_construction` are fixed when a collection is
    created; `ef_search` can be raised in place."""

    max_neighbors: int
    ef_construction: int
    ef_search: int
    source: str
    num_threads: int | None = None  # None: chromadb's default (all cores)

    def configuration(self) -> dict[str, Any]:
        hnsw: dict[str, Any] = {"space": "cosine", "max_neighbors": self.max_neighbors,
                                "ef_construction": self.ef_construction, "ef_search": self.ef_search}
        if self.num_threads is not None:
            hnsw["num_threads"] = self.num_threads
        return {"hnsw": hnsw}


# chromadb 1.5.9's defaults, what every Footnote index before issue 12 was built with: recall@30 vs exact search
# well below 1 on real-sized indexes, so the same question could get another top chunk in another process.
CHROMA_DEFAULT_HNSW = HnswParams(16, 100, 100, source="chromadb 1.5.9 defaults")
HNSW = HnswParams(
    max_neighbors=32, ef_construction=200, ef_search=200,
    source="recall@10/@30 vs exact search at 1k/10k/100k chunks and vector p95, `python -m bench.stability` "
           "(bench/results/stability.json)",
)


def _where(settings: Settings) -> str:
    if settings.uses_chroma_server:
        return f"the Chroma server at {settings.chroma_host}:{settings.chroma_port}"
    return f"the embedded Chroma store at {settings.chroma_path}"


def when_unlocked(write: Any, attempts: int = 6, first_wait_s: float = 0.05) -> Any:
    """Run a Chroma write, waiting out SQLite's "database is locked" (another connection, in this process or a
    bot beside an ingest, holds the write lock for a moment): up to `attempts` tries, the wait doubling from
    `first_wait_s` (~1.6 s in all). Seen in CI on `collection.modify` right after the collection was created."""
    for attempt in range(attempts):
        try:
            return write()
        except Exception as err:
            if "database is locked" not in str(err) or attempt == attempts - 1:
                raise
            time.sleep(first_wait_s * 2**attempt)
    return None


@contextmanager
def chroma_errors(settings: Settings) -> Iterator[None]:
    """Translate a lost connection (server mode) or a broken store into IndexUnavailableError."""
    import httpx

    try:
        yield
    except (httpx.HTTPError, ConnectionError) as err:
        raise IndexUnavailableError(
            f"The index is unavailable: cannot reach {_where(settings)} ({err.__class__.__name__}). "
            "Check that the server is running; Footnote reconnects by itself when it is back."
        ) from err
    except ValueError as err:
        if "connect" in str(err).lower():
            raise IndexUnavailableError(
                f"The index is unavailable: cannot reach {_where(settings)}. Is `chroma run` running?"
            ) from err
        raise


def check_writable(directory: Path) -> None:
    """Fail early, with the path, when the data dir cannot take writes (read-only, full, no permission)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / f".write-probe-{uuid.uuid4().hex}"
        probe.write_bytes(b"x" * 4096)
        probe.unlink()
    except OSError as err:
        raise DataDirError(
            f"The data dir {directory} is not writable ({err.strerror or err}). "
            "Check its permissions and free disk space, or set FOOTNOTE_DATA_DIR."
        ) from err


def open_client(settings: Settings, *, create: bool) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.uses_chroma_server:
        import httpx
        from chromadb.api.base_http_client import BaseHTTPClient

        timeout = httpx.Timeout(SERVER_TIMEOUT_S, connect=min(SERVER_CONNECT_TIMEOUT_S, SERVER_TIMEOUT_S))
        with chroma_errors(settings):
            try:
                # The client's constructor talks to the server without a timeout: check it answers first.
                api_url = BaseHTTPClient.resolve_url(
                    chroma_server_host=settings.chroma_host or "",
                    chroma_server_http_port=settings.chroma_port,
                    default_api_path="/api/v2",
                )
                httpx.get(f"{api_url}/heartbeat", timeout=timeout).raise_for_status()
                client = chromadb.HttpClient(
                    host=settings.chroma_host or "", port=settings.chroma_port, settings=chroma_settings
                )
            except Exception as err:  # chromadb raises bare Exception/ValueError variants here
                raise IndexUnavailableError(
                    f"Cannot connect to the Chroma server at {settings.chroma_host}:{settings.chroma_port} "
                    f"({err}). Start it with `chroma run --path DIR --host HOST --port PORT` or unset "
                    "CHROMA_HOST to use the embedded store."
                ) from err
        session = getattr(getattr(client, "_server", None), "_session", None)
        if isinstance(session, httpx.Client):  # shared by every client of this host:port (chromadb caches it)
            session.timeout = timeout
        return client
    path = settings.chroma_path
    if not create and not path.exists():
        return None
    try:
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as err:  # a damaged store can also raise a Rust panic, which is not an Exception
        _forget_failed_client(str(path))
        if not create and "readonly database" in str(err):
            return _open_snapshot(path, chroma_settings)
        raise DamagedStoreError(
            f"Cannot open the Chroma store at {path}: {' '.join(str(err).split())[:300] or type(err).__name__}. "
            "If it is damaged, `footnote ingest --rebuild PATH` starts the index over from your documents."
        ) from err


_snapshots: list[Path] = []


def _open_snapshot(path: Path, chroma_settings: Any) -> Any:
    """A reader on a read-only data dir: Chroma's Rust core writes to its SQLite file on every open (even with
    migrations set to "validate"), so it cannot open a store it may not write. It reads a private copy in the
    temp dir instead, removed at exit (`remove_snapshots`); nothing is written under the data dir."""
    import atexit
    import tempfile

    import chromadb

    snapshot = Path(tempfile.mkdtemp(prefix="footnote-readonly-chroma-"))
    _snapshots.append(snapshot)
    if len(_snapshots) == 1:
        atexit.register(remove_snapshots)
    try:
        shutil.copytree(path, snapshot / "chroma", copy_function=shutil.copyfile)
        for folder, _, names in os.walk(snapshot):  # copytree copies the read-only modes of the folders
            os.chmod(folder, 0o700)
            for name in names:
                os.chmod(os.path.join(folder, name), 0o600)
        log.info("the Chroma store at %s is read-only: reading a copy in %s", path, snapshot)
        return chromadb.PersistentClient(path=str(snapshot / "chroma"), settings=chroma_settings)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as err:
        remove_snapshots()
        raise DataDirError(
            f"The Chroma store at {path} is read-only and could not be read from a temporary copy "
            f"({' '.join(str(err).split())[:200] or type(err).__name__})."
        ) from err


def remove_snapshots() -> None:
    """Delete the temporary copies of read-only stores (at exit; also before a fast `os._exit`)."""
    while _snapshots:
        shutil.rmtree(_snapshots.pop(), ignore_errors=True)


def discard_embedded_store(settings: Settings) -> None:
    """Delete an embedded store that cannot even be opened (for `--rebuild`): nothing in it is readable."""
    _forget_failed_client(str(settings.chroma_path))
    shutil.rmtree(settings.chroma_path, ignore_errors=True)


def _forget_failed_client(path: str) -> None:
    """chromadb caches one System per path *before* starting it: one that failed to start (e.g. the path was a
    file) stayed cached and failed every later open in this process, even once the path was fixed (the bot's
    /reindex until a restart). Drop it so that the next open starts afresh."""
    try:
        from chromadb.api.shared_system_client import SharedSystemClient

        SharedSystemClient._identifier_to_system.pop(path, None)
        SharedSystemClient._identifier_to_refcount.pop(path, None)
    except (ImportError, AttributeError):  # another chromadb layout: nothing cached the same way
        pass


def hnsw_of(collection: Any) -> dict[str, Any]:
    """The collection's HNSW configuration as Chroma reports it ({} when it cannot say)."""
    try:
        config = collection.configuration_json or {}
    except Exception:  # an older/other chromadb: no configuration API
        return {}
    return dict(config.get("hnsw") or {})


def outdated_hnsw(current: dict[str, Any], wanted: HnswParams) -> str | None:
    """A user-facing warning when a collection was built with a weaker HNSW graph than Footnote now uses."""
    if not current:
        return None
    weaker = [
        f"{key} {current.get(key)} < {want}"
        for key, want in (("max_neighbors", wanted.max_neighbors), ("ef_construction", wanted.ef_construction))
        if int(current.get(key) or 0) < want
    ]
    if not weaker:
        return None
    return (
        f"this index was built with older vector-search settings ({', '.join(weaker)}): its search can miss the "
        "best passage, so the same question may get different answers. Rebuild it once with "
        "`footnote ingest --rebuild PATH` (same folders as before)."
    )


_warned: set[str] = set()


class VectorIndex:
    """One Chroma collection that remembers which embedder built it."""

    def __init__(self, settings: Settings, client: Any, name: str, collection: Any) -> None:
        self.settings = settings
        self.client = client
        self.name = name
        self.collection = collection
        self.outdated = outdated_hnsw(hnsw_of(collection), HNSW)

    @classmethod
    def open(
        cls, settings: Settings, name: str | None = None, *, embedder_id: str, create: bool, client: Any = None,
        hnsw: HnswParams = HNSW,
    ) -> VectorIndex | None:
        """Open (or create) the collection; refuse when it was built by another embedder. A writer (`create`)
        raises an old collection's `ef_search` in place; a weaker graph needs a rebuild, which is advised once."""
        name = name or settings.collection
        if not _COLLECTION_NAME.match(name):
            raise ConfigError(
                f"Invalid collection name {name!r}: 3-63 characters, letters, digits, '.', '_' or '-'."
            )
        client = client or open_client(settings, create=create)
        if client is None:
            return None
        with chroma_errors(settings):
            if create:
                collection = client.get_or_create_collection(
                    name, metadata={EMBEDDER_KEY: embedder_id}, configuration=hnsw.configuration()
                )
                if int(hnsw_of(collection).get("ef_search") or hnsw.ef_search) < hnsw.ef_search:
                    when_unlocked(lambda: collection.modify(configuration={"hnsw": {"ef_search": hnsw.ef_search}}))
            else:
                try:
                    collection = client.get_collection(name)
                except Exception as err:
                    if "does not exist" in str(err) or "not found" in str(err).lower():
                        return None
                    raise
        indexed = (collection.metadata or {}).get(EMBEDDER_KEY)
        if indexed and indexed != embedder_id:
            raise EmbeddingMismatchError(indexed, embedder_id)
        opened = cls(settings, client, name, collection)
        if opened.outdated and name not in _warned:
            _warned.add(name)
            log.warning("collection %r: %s", name, opened.outdated)
        return opened

    def max_batch(self) -> int:
        """Chroma refuses a write of more records than this in one call (5,461 for the embedded store)."""
        try:
            return max(1, int(self.client.get_max_batch_size()))
        except Exception:  # an older client without the call: chromadb's documented floor
            return 5000

    def vector_store(self) -> Any:
        from llama_index.vector_stores.chroma import ChromaVectorStore

        return ChromaVectorStore(chroma_collection=self.collection)

    def count(self) -> int:
        with chroma_errors(self.settings):
            return int(self.collection.count())

    def all_ids(self) -> set[str]:
        with chroma_errors(self.settings):
            return set(self.collection.get(include=[])["ids"])

    def add(self, nodes: list[TextNode]) -> None:
        """In batches of the client's max batch size: one big document must not fail the whole write."""
        batch = self.max_batch()
        store = self.vector_store()
        with chroma_errors(self.settings):
            for start in range(0, len(nodes), batch):
                store.add(nodes[start : start + batch])

    def embeddings_by_hash(self, hashes: list[str]) -> dict[str, list[float]]:
        """The stored embedding of any chunk whose embedded text has one of these hashes (`EMBED_HASH_KEY`): the
        collection is bound to one embedder, so an equal text has an equal vector and need not be embedded again
        (an edited document's unchanged chunks, a page duplicated in another file)."""
        out: dict[str, list[float]] = {}
        with chroma_errors(self.settings):
            for start in range(0, len(hashes), 500):
                got = self.collection.get(
                    where={EMBED_HASH_KEY: {"$in": hashes[start : start + 500]}}, include=["embeddings", "metadatas"]
                )
                for meta, vector in zip(got["metadatas"], got["embeddings"], strict=True):
                    out.setdefault(str(meta[EMBED_HASH_KEY]), [float(x) for x in vector])
        return out

    def delete_ids(self, ids: list[str]) -> None:
        if not ids:
            return
        batch = self.max_batch()
        with chroma_errors(self.settings):
            for start in range(0, len(ids), batch):
                self.collection.delete(ids=ids[start : start + batch])

    def nodes(self, ids: list[str] | None = None) -> list[TextNode]:
        """Chunks as llama-index nodes (text + metadata), read back from Chroma (with `ids`: in that order, the
        ids Chroma no longer holds left out)."""
        out = list(self.iter_nodes(ids))
        if ids is not None:
            rank = {cid: i for i, cid in enumerate(ids)}
            out.sort(key=lambda n: rank.get(n.node_id, len(rank)))
        return out

    def iter_nodes(self, ids: list[str] | None = None, *, page: int = 1000) -> Iterator[TextNode]:
        """`nodes`, one Chroma page at a time: a caller that streams them never holds the whole collection."""
        from llama_index.core.vector_stores.utils import metadata_dict_to_node

        offset = 0
        while True:
            with chroma_errors(self.settings):
                got = self.collection.get(ids=ids, include=["documents", "metadatas"], limit=page, offset=offset)
            for text, meta in zip(got["documents"], got["metadatas"], strict=True):
                yield metadata_dict_to_node(meta, text=text)  # type: ignore[misc]
            if len(got["ids"]) < page:
                return
            offset += page

    def drop(self) -> None:
        with chroma_errors(self.settings):
            self.client.delete_collection(self.name)

