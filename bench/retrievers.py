"""Stand-alone doc-level retrievers and fusion for the baselines (no Chroma, no chunking).

Runs are `{query id: {doc id: score}}` over the top `depth` docs; `bench.metrics.rank_scores` turns one into
a ranked list. Embeddings are cached in `bench/.cache/` keyed by model id + a hash of the exact texts.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from bench.metrics import rank_scores
from bot.fusion import Norm, ScoredList, fuse_lists

CACHE_DIR = Path(__file__).resolve().parent / ".cache"
ScoreRun = dict[str, dict[str, float]]


def to_ranked(run: Mapping[str, Mapping[str, float]], k: int | None = None) -> dict[str, list[str]]:
    return {q: rank_scores(s, k) for q, s in run.items()}


# ---------------------------------------------------------------------------------------------- BM25


def bm25_run(
    doc_ids: Sequence[str],
    doc_texts: Sequence[str],
    queries: Mapping[str, str],
    *,
    method: str = "lucene",
    k1: float = 0.9,
    b: float = 0.4,
    stemmer: str | None = "english",
    stopwords: str | None = "en",
    depth: int = 1000,
) -> ScoreRun:
    """BM25 via bm25s (the library under llama-index-retrievers-bm25). Docs that share no term with the
    query (score 0) are dropped, as a Lucene run would not return them."""
    import bm25s

    stem = None
    if stemmer:
        import Stemmer

        stem = Stemmer.Stemmer(stemmer)
    retriever = bm25s.BM25(method=method, k1=k1, b=b)
    tokens = bm25s.tokenize(list(doc_texts), stopwords=stopwords, stemmer=stem, show_progress=False)
    retriever.index(tokens, show_progress=False)
    qids = list(queries)
    qtok = bm25s.tokenize([queries[q] for q in qids], stopwords=stopwords, stemmer=stem, show_progress=False)
    depth = min(depth, len(doc_ids))
    idx, scores = retriever.retrieve(qtok, k=depth, show_progress=False, n_threads=1)
    run: ScoreRun = {}
    for row, qid in enumerate(qids):
        run[qid] = {doc_ids[i]: float(s) for i, s in zip(idx[row], scores[row], strict=True) if s > 0}
    return run


# --------------------------------------------------------------------------------------------- dense


def _texts_key(model_id: str, texts: Sequence[str]) -> str:
    h = hashlib.sha256(model_id.encode())
    for t in texts:
        h.update(b"\x00" + t.encode("utf-8"))
    return h.hexdigest()[:16]


def embed_cached(texts: Sequence[str], name: str, *, verbose: bool = True) -> np.ndarray:
    """(n, d) unit vectors from the project's local MiniLM embedder, cached as `.cache/<name>-<hash>.npy`."""
    from index.embeddings import LOCAL_MODEL_ID, LocalMiniLMEmbedding

    path = CACHE_DIR / f"{name}-{_texts_key(LOCAL_MODEL_ID, texts)}.npy"
    if path.exists():
        return np.load(path)
    t0 = time.perf_counter()
    if verbose:
        print(f"  embedding {len(texts)} texts for {name!r} -> {path.name}", flush=True)
    vecs = LocalMiniLMEmbedding().embed(list(texts)).astype(np.float32)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, vecs)
    tmp.replace(path)
    if verbose:
        print(f"  ... {time.perf_counter() - t0:.1f}s", flush=True)
    return vecs


def dense_run(
    doc_ids: Sequence[str], doc_vecs: np.ndarray, qids: Sequence[str], q_vecs: np.ndarray, depth: int = 1000
) -> ScoreRun:
    """Exact cosine search (vectors are unit length, so a dot product)."""
    return _top_from_matrix(doc_ids, qids, q_vecs @ doc_vecs.T, depth)


def max_passage_run(
    passage_doc: Sequence[str],
    passage_vecs: np.ndarray,
    qids: Sequence[str],
    q_vecs: np.ndarray,
    depth: int = 1000,
) -> ScoreRun:
    """Doc score = best passage cosine (MaxP): what a chunked index gives when hits are grouped by doc."""
    sims = q_vecs @ passage_vecs.T
    docs = sorted(set(passage_doc))
    col = {d: i for i, d in enumerate(docs)}
    owner = np.array([col[d] for d in passage_doc])
    best = np.full((len(qids), len(docs)), -np.inf, dtype=np.float32)
    for j in range(sims.shape[1]):
        np.maximum(best[:, owner[j]], sims[:, j], out=best[:, owner[j]])
    return _top_from_matrix(docs, qids, best, depth)


def _top_from_matrix(doc_ids: Sequence[str], qids: Sequence[str], sims: np.ndarray, depth: int) -> ScoreRun:
    depth = min(depth, len(doc_ids))
    top = np.argpartition(-sims, depth - 1, axis=1)[:, :depth]
    return {qid: {doc_ids[j]: float(sims[row, j]) for j in top[row]} for row, qid in enumerate(qids)}


def rocchio(q_vecs: np.ndarray, doc_vecs: np.ndarray, run_rows: np.ndarray, beta: float) -> np.ndarray:
    """Dense pseudo-relevance feedback: q' = q + beta * mean(top-m doc vectors), renormalised.
    `run_rows` is (n_queries, m) indices of each query's top docs."""
    fb = doc_vecs[run_rows].mean(axis=1)
    new = q_vecs + beta * fb
    return new / np.linalg.norm(new, axis=1, keepdims=True)


# -------------------------------------------------------------------------------------------- fusion


def rrf(
    runs: Sequence[Mapping[str, Mapping[str, float]]],
    k: int = 60,
    weights: Sequence[float] | None = None,
    depth: int = 1000,
) -> ScoreRun:
    """RRF: score(d) = sum_i w_i / (k + rank_i(d)), ranks 1-based, each run cut at `depth` (`bot.fusion`)."""
    weights = list(weights or [1.0] * len(runs))
    return {qid: dict(fuse_lists([_scored(run.get(qid, {}), depth) for run in runs], weights, method="rrf", rrf_k=k))
            for qid in runs[0]}


def score_fusion(
    runs: Sequence[Mapping[str, Mapping[str, float]]],
    weights: Sequence[float],
    norm: Norm = "minmax",
    depth: int = 100,
) -> ScoreRun:
    """Convex combination of per-query normalised scores over each run's top `depth`; a doc missing from a
    run gets that run's floor, its minimum normalised score (not 0, which would favour docs found by one run
    only when z-scores are negative). The product's fusion (`bot.fusion.fuse_lists`), not a copy of it."""
    return {qid: dict(fuse_lists([_scored(run.get(qid, {}), depth) for run in runs], list(weights), method=norm))
            for qid in runs[0]}


def _scored(scores: Mapping[str, float], depth: int) -> ScoredList:
    return ScoredList([(d, scores[d]) for d in rank_scores(scores, depth)])
