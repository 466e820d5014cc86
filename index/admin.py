"""Admin operations for frontends (Discord's /status and /reindex): status, and re-ingest of the folders the
last ingest of each collection was given."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding

from index.errors import FootnoteError
from index.ingest import Ingestor
from index.manifest import Manifest
from index.settings import Settings
from index.status import index_status


class IndexAdmin:
    def __init__(self, settings: Settings, embedder: BaseEmbedding) -> None:
        self.settings = settings
        self.embedder = embedder

    def status(self, collection: str | None = None) -> dict[str, Any]:
        return index_status(self.settings, collection)

    def roots(self, collection: str | None = None) -> list[Path]:
        name = collection or self.settings.collection
        path = self.settings.data_dir / "manifest.sqlite"
        if not path.exists():
            return []
        manifest = Manifest(path)
        try:
            return [Path(p) for p in json.loads(manifest.meta(name).get("roots", "[]"))]
        finally:
            manifest.close()

    def reindex(self, progress: Callable[[str], None], collection: str | None = None) -> dict[str, Any]:
        roots = self.roots(collection)
        if not roots:
            raise FootnoteError("Nothing to re-index yet: run `footnote ingest PATH` once on the server first.")

        def report(done: int, total: int, path: str) -> None:
            progress(f"{done}/{total} files · {path}")

        summary = Ingestor(self.settings, self.embedder, collection=collection, progress=report).run(roots)
        return summary.to_json()
