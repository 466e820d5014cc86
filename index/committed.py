"""The read side of crash safety: what a reader may serve while an ingest runs, or after one was killed.

The write side (index/ingest.py, index/manifest.py) marks a document `writing` before it touches its chunks in
Chroma and `complete` after, and sets the collection `dirty` until BM25 is rebuilt from Chroma's committed chunks.
A reader therefore:

- drops chunks of `writing` documents (they may be half-deleted or half-added);
- serves BM25 hits only as Chroma returns them by id: the BM25 snapshot may still hold chunks that are gone from
  Chroma (an old version of a changed file, a deleted file) while an ingest runs. Chroma is the source of truth.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from llama_index.core.schema import BaseNode

from index.bm25_cache import ChromaReadView
from index.manifest import Manifest
from index.settings import Settings

Hit = TypeVar("Hit", bound=tuple[BaseNode, float])


class CommittedView:
    """Filters retrieved hits down to committed chunks. The manifest is opened on first use (a reader that starts
    before any ingest has none) and kept open."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._manifest: Manifest | None = None
        self._chroma: ChromaReadView | None = None

    def _open(self) -> Manifest | None:
        if self._manifest is None:
            path = self.settings.data_dir / "manifest.sqlite"
            if not path.exists():
                return None
            self._manifest = Manifest(path, readonly=True)
        return self._manifest

    def writing(self, collection: str) -> set[str]:
        """Documents an ingest is rewriting right now (or was killed while rewriting): not to be served."""
        manifest = self._open()
        writing = manifest.writing_doc_ids(collection) if manifest is not None else set()
        if self.settings.uses_chroma_server:  # issue 14: the writer may be on another machine; Chroma knows
            writing |= self._chroma_view().writing(collection)
        return writing

    def _chroma_view(self) -> ChromaReadView:
        if self._chroma is None:
            self._chroma = ChromaReadView(self.settings)
        return self._chroma

    def vector_hits(self, hits: Sequence[Hit], writing: set[str]) -> list[Hit]:
        return [hit for hit in hits if hit[0].ref_doc_id not in writing]

    def bm25_hits(self, hits: Sequence[Hit], writing: set[str]) -> list[Hit]:
        """BM25 hits are read from Chroma by id (`bot.retrieval`), so a chunk the snapshot still holds but Chroma
        no longer does is never served; chunks of `writing` documents are dropped like vector hits."""
        return [hit for hit in hits if hit[0].ref_doc_id not in writing]

    def close(self) -> None:
        if self._manifest is not None:
            self._manifest.close()
            self._manifest = None
