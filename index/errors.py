"""Footnote's own exceptions. Library errors (OpenAI, Chroma, Discord, parsers) are translated into these
where they enter; the CLI and the bot each turn them into user text in one place. Messages are written for
the person who will read them and never contain secrets."""

from __future__ import annotations

from pathlib import Path


class FootnoteError(Exception):
    """Base class: `str(err)` is a message fit to show a user."""


class ConfigError(FootnoteError):
    """A setting is missing or invalid."""


class DataDirError(FootnoteError):
    """The data dir cannot be written (read-only, disk full, permissions)."""


class DamagedStoreError(DataDirError):
    """The embedded Chroma store exists but cannot be opened (damaged files)."""


class IndexEmptyError(FootnoteError):
    """Nothing has been ingested yet."""

    def __init__(self, where: str) -> None:
        super().__init__(f"No index found at {where}. Run `footnote ingest PATH` first.")


class EmbeddingMismatchError(FootnoteError):
    """The index was built with another embedding model than the one configured."""

    def __init__(self, indexed: str, configured: str) -> None:
        super().__init__(
            f"This index was built with embedding model {indexed!r} but {configured!r} is configured. "
            "Mixing models would give meaningless results: re-ingest into a fresh data dir/collection "
            "(or `footnote ingest --rebuild PATH`), or set the embedding model back."
        )
        self.indexed = indexed
        self.configured = configured


class IndexUnavailableError(FootnoteError):
    """The vector store (e.g. a Chroma server) cannot be reached."""


class LoaderError(FootnoteError):
    """One file could not be read; it is skipped and reported, the rest of the corpus goes on."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


class QuestionError(FootnoteError):
    """The question itself is unusable (empty, too long)."""


class LLMError(FootnoteError):
    """The LLM call failed; callers fall back to the extractive answer."""


class LLMTimeoutError(LLMError):
    pass


class LLMRateLimitedError(LLMError):
    pass


class LLMBadResponseError(LLMError):
    pass


class WriterBusyError(FootnoteError):
    """Another ingest is writing the same data dir or collection (issue 14: one writer at a time)."""
