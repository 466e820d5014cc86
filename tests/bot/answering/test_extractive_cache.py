"""The persistent sentence-embedding cache behind the extractive answerer (bot/text/embedder.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from llama_index.core.base.embeddings.base import BaseEmbedding

from bot.text.embedder import CACHE_FILE, SentenceEmbedder
from index.embeddings import LOCAL_MODEL_ID, LocalMiniLMEmbedding


class Unreachable(BaseEmbedding):
    """An embedder of the same model that must not be asked: every vector has to come from the cache."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(model_name=LOCAL_MODEL_ID, **kwargs)

    def _get_text_embedding(self, text: str) -> list[float]:
        raise AssertionError(f"model called for {text!r}")

    def _get_query_embedding(self, query: str) -> list[float]:
        raise AssertionError(f"model called for {query!r}")

    async def _aget_query_embedding(self, query: str) -> list[float]:
        raise AssertionError(f"model called for {query!r}")


TEXTS = ["Tajikistan puts its death toll at 41.", "Kyrgyzstan says 59 people were killed."]


def test_a_later_process_reads_the_vectors_from_disk(tmp_path: Path, embedder: LocalMiniLMEmbedding) -> None:
    first = SentenceEmbedder(embedder, cache_dir=tmp_path)(TEXTS)
    again = SentenceEmbedder(Unreachable(), cache_dir=tmp_path)(TEXTS)
    np.testing.assert_allclose(first, again, rtol=0, atol=0)
    with pytest.raises(AssertionError, match="model called"):
        SentenceEmbedder(Unreachable(), cache_dir=tmp_path)(["a sentence nobody embedded"])


def test_the_cache_is_bounded(tmp_path: Path, embedder: LocalMiniLMEmbedding) -> None:
    embed = SentenceEmbedder(embedder, cache_dir=tmp_path, max_disk_items=20)
    for i in range(6):
        embed([f"sentence number {i} of batch {j}" for j in range(8)])
    (rows,) = sqlite3.connect(tmp_path / CACHE_FILE).execute("SELECT count(*) FROM vec").fetchone()
    assert 0 < rows <= 20


def test_an_unusable_cache_dir_is_only_a_cache_miss(tmp_path: Path, embedder: LocalMiniLMEmbedding) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    vectors = SentenceEmbedder(embedder, cache_dir=blocker / "data")(TEXTS)
    assert vectors.shape == (2, 384)
