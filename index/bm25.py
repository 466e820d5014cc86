"""The BM25 index of one collection, derived from Chroma's committed chunks and persisted under the data dir as
generations: `gen-<uuid>/` dirs and a CURRENT file replaced atomically, so a reader (or a crash) never sees a
half-written index.

A generation holds only what BM25 needs: bm25s's sparse score matrix and vocabulary, and the chunk id of each row
(`rows.json`). Chunk text and metadata stay in Chroma, the source of truth: a search returns chunk ids and scores,
and the caller reads the hits' nodes from Chroma. So a build streams chunks page by page (memory independent of
corpus size, issue 14 item 4) and a reader memory-maps the scores instead of loading every node (cold start).
Generations written by earlier releases (llama-index's BM25Retriever, the corpus saved beside the scores) are read
too: their row ids come from the saved corpus.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
from array import array
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from llama_index.core.schema import BaseNode, MetadataMode

# As llama-index's BM25Retriever tokenises (the default of earlier releases; SciFact fusion was tuned with it):
# scikit-learn's word pattern, bm25s's English stopwords, the Snowball English stemmer.
TOKEN_PATTERN = r"(?u)\b\w\w+\b"
ROWS_FILE = "rows.json"
BUILD_PAGE = 2000  # texts tokenised per step while building


def index_text(node: BaseNode) -> str:
    """What BM25 indexes for a chunk: the text the embedder saw (title and heading metadata included)."""
    return node.get_content(metadata_mode=MetadataMode.EMBED)


def node_texts(nodes: Iterable[BaseNode]) -> Iterator[tuple[str, str]]:
    return ((n.node_id, index_text(n)) for n in nodes)


def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


class Bm25Index:
    """One loaded generation: search returns (chunk id, score) for chunks sharing a term with the query."""

    def __init__(self, model: Any, rows: list[str]) -> None:
        self.model = model
        self.rows = rows
        self._stem = _stemmer()

    @property
    def num_docs(self) -> int:
        return len(self.rows)

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        import bm25s

        k = min(k, self.num_docs)
        vocab = self.model.vocab_dict
        tokens = bm25s.tokenize(query, token_pattern=TOKEN_PATTERN, stopwords="en", stemmer=self._stem,
                                return_ids=False, show_progress=False)[0]
        known = [t for t in tokens if t in vocab]
        if k <= 0 or not known:
            return []
        rows, scores = self.model.retrieve([known], k=k, show_progress=False, n_threads=1)
        return [(self.rows[int(r)], float(s)) for r, s in zip(rows[0], scores[0], strict=True) if s > 0]


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

    def write(self, chunks: Iterable[tuple[str, str]], *, version: str | None = None) -> int:
        """A new generation from these committed (chunk id, text) pairs, read one page at a time: only token ids
        are held, never the nodes; returns the number of chunks indexed. `version`: the collection's version stamp
        in Chroma they were read at (`index.journal`), so a reader can tell whether this snapshot is current."""
        import bm25s
        from bm25s.tokenization import Tokenizer

        _quiet_bm25s()
        self.root.mkdir(parents=True, exist_ok=True)
        gen = self.root / f"gen-{uuid.uuid4().hex[:12]}"
        tokenizer = Tokenizer(splitter=TOKEN_PATTERN, stopwords="en", stemmer=_stemmer())
        rows: list[str] = []
        ids: list[array[int]] = []
        page_ids: list[str] = []
        page_texts: list[str] = []

        def flush() -> None:
            if page_texts:
                # 4 bytes a token instead of ~36 in a list of Python ints (measured: a build over 100k
                # synthetic 170-word chunks peaked 63 MB lower; bm25s's own sparse-matrix build is the rest).
                ids.extend(array("I", doc) for doc in tokenizer.tokenize(
                    page_texts, update_vocab=True, return_as="ids", show_progress=False))
                rows.extend(page_ids)
                page_ids.clear()
                page_texts.clear()

        seen: set[str] = set()
        for chunk_id, text in chunks:
            # A reader pages through a collection that a writer may change meanwhile (server mode): a chunk read
            # twice is indexed once (this snapshot is stale then anyway, and rebuilt at the next stamp).
            if chunk_id in seen:
                continue
            seen.add(chunk_id)
            page_ids.append(chunk_id)
            page_texts.append(text)
            if len(page_texts) >= BUILD_PAGE:
                flush()
        flush()
        if rows:
            model = bm25s.BM25()
            model.index(tokenizer.to_tokenized_tuple(ids), show_progress=False)
            del ids
            model.save(str(gen))
        else:
            gen.mkdir()
            (gen / "EMPTY").write_text("no chunks\n")
        (gen / ROWS_FILE).write_text(json.dumps(rows))
        if version is not None:
            (gen / "VERSION").write_text(version)
        _fsync_dir(gen)
        tmp = self.root / f"CURRENT.{uuid.uuid4().hex[:8]}"
        tmp.write_text(gen.name)
        os.replace(tmp, self.root / "CURRENT")
        _fsync_dir(self.root)
        self._collect_garbage(keep=gen.name)
        return len(rows)

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
        if (current / "chunk_ids.json").exists():  # written by earlier releases
            return set(json.loads((current / "chunk_ids.json").read_text()))
        return set(_rows(current))

    def load(self) -> Bm25Index | None:
        """The current generation, scores memory-mapped; None when there is none or it is empty."""
        import bm25s

        _quiet_bm25s()
        current = self.snapshot_dir()
        if current is None or (current / "EMPTY").exists():
            return None
        model = bm25s.BM25.load(str(current), mmap=True, load_corpus=False)
        return Bm25Index(model, _rows(current))

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


def _rows(gen: Path) -> list[str]:
    """The chunk id of each row; a generation of an earlier release has them in its saved corpus instead."""
    path = gen / ROWS_FILE
    if path.exists():
        return list(json.loads(path.read_text()))
    with open(gen / "corpus.jsonl", encoding="utf-8") as fh:
        return [json.loads(line)["node_id"] for line in fh if line.strip()]


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
