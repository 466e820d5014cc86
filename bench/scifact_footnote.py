"""SciFact (BEIR test) through Footnote's real pipeline: files -> Ingestor -> HybridRetriever.

    python -m bench.scifact_footnote                 # test metrics + fusion tuning on train + latency
    python -m bench.scifact_footnote --prepare-only  # just build (or reuse) the ingested index

Each of the 5,183 abstracts is written as a Markdown file (title in the front matter, abstract as the body) and
ingested with `index.ingest.Ingestor` (200-token chunks, MiniLM int8, Chroma + BM25); the build is cached in
bench/.cache/ keyed by the documents and the chunking settings (first run: several minutes).

Each claim goes through `HybridRetriever.retrieve` once with deep candidate lists; the per-retriever lists in
its trace give the vector-only and BM25-only runs, and the product's `bot.fusion.fuse` is replayed on them for
every fusion setting (RRF / z-score, weights, depth). Chunk hits become document hits by max over chunks
(the first chunk of a document in the ranking). Settings are chosen on the 809 train claims, reported on test.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.datasets import RetrievalDataset, load_scifact
from bench.metrics import evaluate
from bench.pipeline import (
    PreparedIndex,
    SourceDoc,
    percentiles,
    prepare_index,
    print_table,
    write_result,
)
from index.chunking import doc_id_for

PUBLISHED = {
    "bm25": "0.665 (BEIR) / 0.679 (Anserini)",
    "vector": "0.645 (MTEB all-MiniLM-L6-v2)",
    "hybrid": "0.688 (BEIR BM25 + CE rerank)",
}
KS = (10, 100)
DEEP = 1000  # candidates per retriever when collecting the lists (chunks)
TOLERANCE = 0.005  # train nDCG@10 a cheaper (shallower) fusion setting may give up
LATENCY_DEPTHS = (30, 100, 400)


def scifact_docs(ds: RetrievalDataset) -> list[SourceDoc]:
    return [SourceDoc(name=f"sf-{d.doc_id}", title=d.title, text=d.text) for d in ds.corpus.values()]


def prepare(ds: RetrievalDataset, **kw: Any) -> PreparedIndex:
    return prepare_index("scifact", scifact_docs(ds), **kw)


def chunk_owner(prepared: PreparedIndex, ds: RetrievalDataset) -> dict[str, str]:
    """Footnote document id (sha1 of the file path) -> SciFact doc id."""
    return {doc_id_for(str(prepared.path_of(f"sf-{d}"))): d for d in ds.corpus}


def chunk_doc(chunk_id: str) -> str:
    return chunk_id.split("-", 1)[0]  # ids are f"{doc_id}-{index:05d}-{digest}"


def to_docs(chunk_ids: Sequence[str], owner: dict[str, str], k: int = 100) -> list[str]:
    """Chunk ranking -> document ranking: a document ranks where its best chunk does (max over chunks)."""
    out: list[str] = []
    seen: set[str] = set()
    for cid in chunk_ids:
        doc = owner.get(chunk_doc(cid))
        if doc is not None and doc not in seen:
            seen.add(doc)
            out.append(doc)
            if len(out) >= k:
                break
    return out


def collect(retriever: Any, queries: dict[str, str], depth: int, *, label: str, cache: Path | None = None,
            ) -> dict[str, dict[str, Any]]:
    """One real retrieve per query; keeps the per-retriever candidate lists and timings from the trace.
    With `cache`, the lists are saved there and reused while the index and the queries are the same."""
    from bot.retrieval import FusionConfig

    if cache is not None and cache.exists():
        print(f"  {label}: candidate lists from {cache.name}", flush=True)
        return dict(json.loads(cache.read_text()))

    saved = retriever.fusion
    retriever.fusion = saved.with_values("bench.scifact_footnote: deep candidate lists for replay", candidates=depth)
    out: dict[str, dict[str, Any]] = {}
    t0 = time.perf_counter()
    try:
        for i, (qid, text) in enumerate(queries.items(), 1):
            r = retriever.retrieve(text, top_k=depth)
            out[qid] = {"vector": r.trace["vector"], "bm25": r.trace["bm25"],
                        "bm25_complete": bool(r.trace.get("bm25_complete")),
                        "fused": [p.chunk_id for p in r.passages], "timings": r.trace["timings_ms"]}
            if i % 100 == 0:
                print(f"  {label}: {i}/{len(queries)} queries, {time.perf_counter() - t0:.0f} s", flush=True)
    finally:
        retriever.fusion = saved
    assert isinstance(saved, FusionConfig)
    if cache is not None:
        cache.write_text(json.dumps(out))
    return out


def replay(lists: dict[str, dict[str, Any]], fusion: Any, owner: dict[str, str]) -> dict:
    """The product's `bot.fusion.fuse` on the collected lists, each cut to `fusion.candidates`."""
    from bot.fusion import ScoredList, fuse

    run: dict[str, list[str]] = {}
    for qid, rec in lists.items():
        vector = ScoredList([(c, s) for c, s in rec["vector"]]).top(fusion.candidates)
        absent = 0.0 if rec.get("bm25_complete") else None  # BM25 held every match: the rest score 0
        bm25 = ScoredList([(c, s) for c, s in rec["bm25"]], absent).top(fusion.candidates)
        run[qid] = to_docs([cid for cid, _ in fuse(vector, bm25, fusion)], owner)
    return run


def single(lists: dict[str, dict[str, Any]], key: str, owner: dict[str, str]) -> dict[str, list[str]]:
    return {qid: to_docs([c for c, _ in rec[key]], owner) for qid, rec in lists.items()}


def metrics(run: dict[str, list[str]], ds: RetrievalDataset) -> dict[str, float]:
    m = evaluate(run, ds.qrels, ks=KS)
    return {k: round(v, 4) for k, v in m.items() if k != "mrr@100"}


def subset(ds: RetrievalDataset, n_queries: int = 50, n_docs: int = 300) -> RetrievalDataset:
    """A small, still discriminating SciFact: the first `n_queries` test claims, their relevant abstracts,
    and hard negatives (each claim's top BM25 abstracts over the full corpus, round-robin) up to `n_docs`."""
    from bench.retrievers import bm25_run

    qids = sorted(ds.queries, key=int)[:n_queries]
    queries = {q: ds.queries[q] for q in qids}
    qrels = {q: dict(ds.qrels[q]) for q in qids}
    keep: dict[str, None] = dict.fromkeys(d for q in qids for d in qrels[q] if d in ds.corpus)
    run = bm25_run(ds.doc_ids, [d.full_text for d in ds.corpus.values()], queries, depth=50, k1=0.9, b=0.4)
    ranked = [sorted(run[q], key=lambda d: -run[q][d]) for q in qids]
    depth = 0
    while len(keep) < n_docs and any(depth < len(r) for r in ranked):
        for r in ranked:
            if depth < len(r) and len(keep) < n_docs:
                keep.setdefault(r[depth])
        depth += 1
    corpus = {d: ds.corpus[d] for d in sorted(keep, key=int)}
    return RetrievalDataset(f"{ds.name}-subset{n_queries}q{len(corpus)}d", corpus, queries, qrels)


def evaluate_retriever(retriever: Any, ds: RetrievalDataset, owner: dict[str, str]) -> dict:
    """Hybrid (the retriever's own fusion and candidate depth: every fused chunk kept), vector-only and
    BM25-only metrics, one real retrieve per claim."""
    runs: dict[str, dict[str, list[str]]] = {"hybrid": {}, "vector": {}, "bm25": {}}
    top_k = max(retriever.fusion.candidates, 10)  # = the retrieval depth, so fusion sees what it sees in use
    for qid, text in ds.queries.items():
        r = retriever.retrieve(text, top_k=top_k)
        runs["hybrid"][qid] = to_docs([p.chunk_id for p in r.passages], owner)
        runs["vector"][qid] = to_docs([c for c, _ in r.trace["vector"]], owner)
        runs["bm25"][qid] = to_docs([c for c, _ in r.trace["bm25"]], owner)
    return {name: metrics(run, ds) for name, run in runs.items()}


def grid() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for depth in (30, 50, 100, 200, 400):
        for k in (10, 30, 60):
            for wb in (0.3, 0.5, 0.7):
                out.append(dict(method="rrf", rrf_k=k, candidates=depth, bm25_weight=wb, vector_weight=1 - wb))
        for wb in (0.3, 0.4, 0.5, 0.6, 0.7):
            out.append(dict(method="zscore", candidates=depth, bm25_weight=wb, vector_weight=1 - wb))
    return out


def label(cfg: dict[str, Any]) -> str:
    if cfg["method"] == "rrf":
        return f"rrf k={cfg['rrf_k']} depth={cfg['candidates']} w_bm25={cfg['bm25_weight']:.1f}"
    return f"zscore depth={cfg['candidates']} w_bm25={cfg['bm25_weight']:.1f}"


def latency(retriever: Any, queries: Sequence[str], top_k: int, repeats: int = 1) -> dict[str, Any]:
    times: list[float] = []
    parts: dict[str, list[float]] = {}
    for _ in range(repeats):
        for q in queries:
            t0 = time.perf_counter()
            r = retriever.retrieve(q, top_k=top_k)
            times.append((time.perf_counter() - t0) * 1000)
            for k, v in r.trace["timings_ms"].items():
                parts.setdefault(k, []).append(v)
    return {"retrieve": percentiles(times), **{k: percentiles(v) for k, v in parts.items()}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prepare-only", action="store_true")
    parser.add_argument("--train-queries", type=int, default=0, help="use only the first N train claims (0: all)")
    parser.add_argument("--fresh", action="store_true", help="re-collect the candidate lists (no cache)")
    args = parser.parse_args()

    from bot.retrieval import FusionConfig, HybridRetriever
    from index.embeddings import LocalMiniLMEmbedding

    test, train = load_scifact("test"), load_scifact("train")
    embedder = LocalMiniLMEmbedding()
    prepared = prepare(test, embedder=embedder)
    print(f"index: {prepared.root.name}: {prepared.summary['documents']} docs, {prepared.summary['chunks']} chunks"
          + (f", built in {prepared.summary['seconds']:.0f} s" if prepared.built_now else " (cached)"))
    if args.prepare_only:
        return
    owner = chunk_owner(prepared, test)
    retriever = HybridRetriever(prepared.settings, embedder)
    default = retriever.fusion
    retriever.retrieve("warm up", top_k=10)

    train_q = dict(list(train.queries.items())[: args.train_queries or None])
    def cache(name: str, queries: dict[str, str]) -> Path | None:
        if args.fresh:
            return None
        key = hashlib.sha256(json.dumps([DEEP, sorted(queries.items())]).encode()).hexdigest()[:10]
        return prepared.root / f"lists-{name}-{key}.json"

    lists_test = collect(retriever, test.queries, DEEP, label="test", cache=cache("test", test.queries))
    lists_train = collect(retriever, train_q, DEEP, label="train", cache=cache("train", train_q))
    train_ds = RetrievalDataset(train.name, train.corpus, train_q, {q: train.qrels[q] for q in train_q})

    rows: list[dict[str, Any]] = []
    for key in ("vector", "bm25"):
        rows.append({"name": f"{key}-only (deep {DEEP})", "test": metrics(single(lists_test, key, owner), test),
                     "train": metrics(single(lists_train, key, owner), train_ds), "published": PUBLISHED[key]})
    base = default.with_values("previous default, for comparison", method="rrf", rrf_k=60, vector_weight=1.0,
                               bm25_weight=1.0, candidates=30)
    rows.append({"name": "hybrid: previous default (rrf k=60, depth 30, equal weights)",
                 "test": metrics(replay(lists_test, base, owner), test),
                 "train": metrics(replay(lists_train, base, owner), train_ds),
                 "published": PUBLISHED["hybrid"]})

    tuned: list[dict[str, Any]] = []
    for cfg in grid():
        fusion = FusionConfig().with_values(f"bench.scifact_footnote grid: {label(cfg)}", **cfg)
        tuned.append({"name": label(cfg), "config": cfg,
                      "train": metrics(replay(lists_train, fusion, owner), train_ds),
                      "test": metrics(replay(lists_test, fusion, owner), test)})
    top = max(r["train"]["ndcg@10"] for r in tuned)
    # The cheapest setting (shallowest candidate lists) within TOLERANCE of the best train score: deeper lists
    # cost query time, and differences this small are within the noise of 809 claims.
    best = min((r for r in tuned if r["train"]["ndcg@10"] >= top - TOLERANCE),
               key=lambda r: (r["config"]["candidates"], -r["train"]["ndcg@10"]))
    best_overall = max(tuned, key=lambda r: r["train"]["ndcg@10"])
    oracle = max(tuned, key=lambda r: r["test"]["ndcg@10"])
    best_rrf = max((r for r in tuned if r["config"]["method"] == "rrf"), key=lambda r: r["train"]["ndcg@10"])
    current = {"method": default.method, "rrf_k": default.rrf_k, "candidates": default.candidates,
               "bm25_weight": default.bm25_weight, "vector_weight": default.vector_weight}
    rows.append({"name": f"hybrid: best RRF on train ({best_rrf['name']})", **best_rrf})
    rows.append({"name": f"hybrid: best on train ({best_overall['name']})", **best_overall})
    rows.append({"name": f"hybrid: chosen on train, shallowest within {TOLERANCE} ({best['name']})", **best})
    rows.append({"name": f"hybrid: Footnote default now ({label(current)})",
                 "test": metrics(replay(lists_test, default, owner), test),
                 "train": metrics(replay(lists_train, default, owner), train_ds)})
    rows.append({"name": f"(oracle: best on test: {oracle['name']})", **oracle})

    standalone = _standalone()
    print_table(
        ["run", "nDCG@10", "R@10", "MRR@10", "R@100", "train nDCG@10", "published nDCG@10"],
        [[r["name"], r["test"]["ndcg@10"], r["test"]["recall@10"], r["test"]["mrr@10"], r["test"]["recall@100"],
          r["train"]["ndcg@10"], r.get("published", "")] for r in rows],
        title=f"SciFact test (300 claims) through Footnote's pipeline ({prepared.summary['chunks']} chunks)",
    )
    if standalone:
        print("\nstandalone doc-level results (bench/scifact_baselines.py):")
        for name, value in standalone.items():
            print(f"  {name:<58} nDCG@10 {value:.4f}")

    print("\nfusion grid, top 12 by train nDCG@10:")
    for r in sorted(tuned, key=lambda r: -r["train"]["ndcg@10"])[:12]:
        print(f"  {r['name']:<45} train {r['train']['ndcg@10']:.4f}  test {r['test']['ndcg@10']:.4f}")

    lat_queries = list(test.queries.values())[:100]
    lat: dict[str, Any] = {}
    configs = [("previous default: rrf depth 30", base), (f"default now: {label(current)}", default)]
    configs += [(f"zscore depth {d}", default.with_values("latency grid", method="zscore", candidates=d))
                for d in LATENCY_DEPTHS]
    for cfg_name, fusion in configs:
        retriever.fusion = fusion
        lat[cfg_name] = latency(retriever, lat_queries, top_k=6)
    retriever.fusion = default
    print_table(["config (top_k=6, 100 claims)", "p50 ms", "p95 ms", "embed p50", "vector p50", "bm25 p50"],
                [[n, v["retrieve"]["p50_ms"], v["retrieve"]["p95_ms"], v["embed_ms"]["p50_ms"],
                  v["vector_ms"]["p50_ms"], v["bm25_ms"]["p50_ms"]] for n, v in lat.items()],
                title=f"retrieve latency on {prepared.summary['chunks']} chunks")

    target = 0.70
    now = next(r for r in rows if r["name"].startswith("hybrid: Footnote default now"))["test"]["ndcg@10"]
    print(f"\nhybrid nDCG@10 through the pipeline with the default config: {now:.4f} "
          f"(target >= {target}: {'met' if now >= target else 'MISSED'})")
    write_result("scifact_footnote", {
        "dataset": "BEIR SciFact test (300 claims) via files -> Ingestor -> HybridRetriever; doc = max over chunks",
        "index": {"chunks": prepared.summary["chunks"], "documents": prepared.summary["documents"],
                  "ingest_seconds": prepared.summary["seconds"], "dir": prepared.root.name},
        "rows": rows, "grid": tuned, "chosen_on_train": best, "best_on_train": best_overall,
        "tolerance": TOLERANCE, "oracle_on_test": oracle,
        "standalone": standalone, "latency": lat, "target_ndcg10": target, "default_ndcg10": now,
    })


def _standalone() -> dict[str, float]:
    path = Path(__file__).parent / "results" / "scifact_baselines.json"
    if not path.exists():
        return {}
    data = json.loads(path.read_text())
    out: dict[str, float] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "name" in node and isinstance(node.get("test"), dict) and "ndcg@10" in node["test"]:
                out[str(node["name"])] = float(node["test"]["ndcg@10"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(data)
    keep = ("lucene k1=0.9 b=0.4 (Anserini)", "lucene k1=1.5 b=0.75 (bm25s/llama-index default)")
    picked = {k: v for k, v in out.items() if k in keep or "dense" in k.lower() or "fusion" in k.lower()
              or "rrf" in k.lower() or "zscore" in k.lower()}
    return dict(sorted(picked.items(), key=lambda kv: -kv[1])[:8])


if __name__ == "__main__":
    main()
