"""The BM25 index of one collection, derived from Chroma's committed chunks and persisted under the data dir as
generations: `gen-<uuid>/` dirs and a CURRENT file replaced atomically, so a reader (or a crash) never sees a
half-written index."""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from llama_index.core.schema import BaseNode, TextNode


class Bm25Store:
    """The persisted BM25 index of one collection, as generations: `gen-<uuid>/` dirs and a CURRENT file
    replaced atomically, so a reader (or a crash) never sees a half-written index."""

    def __init__(self, data_dir: Path, collection: str, *, root: Path | None = None) -> None:
        self.root = root or data_dir / "bm25" / collection

    def current_dir(self) -> Path | None:
        """The current generation (a subclass may first bring it up to date: `index.bm25_cache`)."""
        return self.snapshot_dir()

    def snapshot_dir(self) -> Path | None:
        """The current generation as it is on disk."""
        try:
            name = (self.root / "CURRENT").read_text().strip()
        except (FileNotFoundError, NotADirectoryError):  # nothing ingested (or the data dir is not a directory)
            return None
        path = self.root / name
        return path if path.is_dir() else None

    def write(self, nodes: list[TextNode], *, version: str | None = None) -> None:
        """A new generation from these (committed) chunks; `version`: the collection's version stamp in Chroma
        they were read at (`index.journal`), so a reader can tell whether this snapshot is current."""
        from llama_index.retrievers.bm25 import BM25Retriever

        _quiet_bm25s()
        self.root.mkdir(parents=True, exist_ok=True)
        gen = self.root / f"gen-{uuid.uuid4().hex[:12]}"
        if nodes:
            retriever = BM25Retriever.from_defaults(nodes=list[BaseNode](nodes), similarity_top_k=min(10, len(nodes)))
            retriever.persist(str(gen), show_progress=False)
        else:
            gen.mkdir()
            (gen / "EMPTY").write_text("no chunks\n")
        (gen / "chunk_ids.json").write_text(json.dumps(sorted(n.node_id for n in nodes)))
        if version is not None:
            (gen / "VERSION").write_text(version)
        _fsync_dir(gen)
        tmp = self.root / f"CURRENT.{uuid.uuid4().hex[:8]}"
        tmp.write_text(gen.name)
        os.replace(tmp, self.root / "CURRENT")
        _fsync_dir(self.root)
        self._collect_garbage(keep=gen.name)

    def version(self) -> str | None:
        """The collection version stamp the current generation was built at (None: unknown / none built)."""
        current = self.snapshot_dir()
        if current is None:
            return None
        try:
            return (current / "VERSION").read_text().strip()
        except FileNotFoundError:
            return None

    def chunk_ids(self) -> set[str]:
        current = self.snapshot_dir()
        if current is None:
            return set()
        return set(json.loads((current / "chunk_ids.json").read_text()))

    def load(self) -> Any | None:
        """The llama-index BM25Retriever of the current generation, or None when there is none / it's empty."""
        from llama_index.retrievers.bm25 import BM25Retriever

        _quiet_bm25s()
        current = self.snapshot_dir()
        if current is None or (current / "EMPTY").exists():
            return None
        return BM25Retriever.from_persist_dir(str(current), show_progress=False)

    def drop(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def _collect_garbage(self, keep: str) -> None:
        for child in self.root.iterdir():
            if child.name in (keep, "CURRENT"):
                continue
            if child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)


def _quiet_bm25s() -> None:
    logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets itself to DEBUG when imported


def _fsync_dir(path: Path) -> None:
    for child in [*path.iterdir(), path] if path.is_dir() else [path]:
        try:
            fd = os.open(child, os.O_RDONLY)
        except OSError:
            continue
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
