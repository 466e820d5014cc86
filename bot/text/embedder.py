"""Sentence embeddings with a cache shared by the answerers and the verifier."""

from __future__ import annotations

from threading import Lock

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding

from index.embeddings import embed_texts


class SentenceEmbedder:
    """Embeds texts through an llama-index embedder with a per-instance cache: overlapping chunks repeat
    sentences, and the extractive answer and the verifier look at the same passages."""

    def __init__(self, embedder: BaseEmbedding, max_items: int = 20000) -> None:
        self.embedder = embedder
        self._cache: dict[str, np.ndarray] = {}
        self._max = max_items
        self._lock = Lock()  # the engine calls this from several worker threads

    def __call__(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            known = {t: self._cache[t] for t in texts if t in self._cache}
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            fresh = embed_texts(self.embedder, missing)
            with self._lock:
                if len(self._cache) + len(missing) > self._max:
                    self._cache.clear()
                for t, v in zip(missing, fresh, strict=True):
                    self._cache[t] = v
                    known[t] = v
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        return np.stack([known[t] for t in texts])
