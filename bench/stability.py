"""Retrieval that does not flip: Chroma's HNSW recall vs exact search, and the same question in 10 processes.

    python -m bench.stability                        # recall at 1k/10k/100k + answer stability, ~10-20 min
    python -m bench.stability --sizes 1000,10000 --processes 3 --skip-answers   # quick look

Part 1, recall vs exact. Vectors: real all-MiniLM-L6-v2 embeddings (the product's embedder) of 1,000 chunks of
SciFact abstracts (~50-word windows), queried with the 200 first SciFact test claims. 10k and 100k are synthetic
on top of them: each real vector plus Gaussian noise (sigma 0.03 per dimension, renormalised: cosine ~0.86 to its
origin), i.e. clouds of near-duplicates, a hard case for an approximate index. Embedding 100k real chunks would
take over an hour here. Each size is written into a collection made by `index.store.VectorIndex.open` with the
old parameters (chromadb's defaults) and with Footnote's `HNSW`, in adds of 128 vectors as an ingest writes; then
each of `--processes` fresh processes opens the persisted store and asks every query for its top 30 (after:
the top 60, cut to 30 by (distance, id), as `HybridRetriever` now does). Reported:
recall@10 / @30 against exact (numpy) cosine search over the same vectors, vector-query p50/p95 (first process),
and the share of queries whose top-30 ids are identical in every process.

Part 2, answer stability through the product: examples/corpus + the seed article + 300 SciFact abstracts
ingested by the real Ingestor (once with the old HNSW parameters, once with the new), then `footnote ask --json`
for the first `--questions` answerable questions of each of tests/data's two sets, each in `--processes` fresh
processes; a question is stable when every process returns the same
fused top-k chunk ids and the same answer text.

Writes bench/results/stability.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.pipeline import CACHE_DIR, bench_settings, percentiles, print_table, write_result

REPO = Path(__file__).resolve().parents[1]
SIZES = (1_000, 10_000, 100_000)
NOISE = 0.03
WINDOW_WORDS = 50
N_QUERIES = 200
K = 30
COLLECTION = "stability"


def base_vectors(n_real: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """(n_real, 384) chunk vectors and (N_QUERIES, 384) query vectors, real MiniLM embeddings (cached)."""
    from bench.datasets import load_scifact
    from bench.retrievers import embed_cached

    ds = load_scifact("test")
    windows: list[str] = []
    for doc in ds.corpus.values():
        words = doc.full_text.split()
        for start in range(0, len(words), WINDOW_WORDS):
            windows.append(" ".join(words[start : start + WINDOW_WORDS]))
        if len(windows) >= n_real:
            break
    queries = [ds.queries[q] for q in sorted(ds.queries, key=int)[:N_QUERIES]]
    return embed_cached(windows[:n_real], "stability-chunks"), embed_cached(queries, "stability-queries")


def vectors_of_size(base: np.ndarray, size: int, seed: int = 12) -> np.ndarray:
    if size <= len(base):
        return base[:size]
    rng = np.random.default_rng(seed)
    copies = base[rng.integers(0, len(base), size - len(base))]
    noisy = copies + rng.normal(scale=NOISE, size=copies.shape).astype(np.float32)
    noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
    return np.vstack([base, noisy]).astype(np.float32)


def build(root: Path, vectors: np.ndarray, params: Any) -> float:
    from index.ingest import EMBED_BATCH_CHUNKS
    from index.store import VectorIndex

    settings = bench_settings(root / "data", collection=COLLECTION)
    index = VectorIndex.open(settings, embedder_id="synthetic", create=True, hnsw=params)
    assert index is not None
    batch = min(index.max_batch(), EMBED_BATCH_CHUNKS)  # the ingest's write pattern: many small adds
    ids = [f"c{i:06d}" for i in range(len(vectors))]
    t0 = time.perf_counter()
    for start in range(0, len(ids), batch):
        index.collection.add(ids=ids[start : start + batch], embeddings=vectors[start : start + batch])
    return time.perf_counter() - t0


def query_process(root: Path, queries_path: Path, out: Path, fetch: int = K) -> None:
    """Child process: open the persisted store like a fresh `footnote ask` does and query every vector: the
    top `fetch` by Chroma, ordered by (distance, id) and cut to the top K, as `HybridRetriever` does."""
    from index.store import VectorIndex

    settings = bench_settings(root / "data", collection=COLLECTION)
    index = VectorIndex.open(settings, embedder_id="synthetic", create=False)
    assert index is not None
    queries = np.load(queries_path)
    got: list[list[str]] = []
    times: list[float] = []
    index.collection.query(query_embeddings=queries[:1], n_results=fetch, include=[])  # load, not timed
    for q in queries:
        t0 = time.perf_counter()
        res = index.collection.query(query_embeddings=[q], n_results=fetch, include=["distances"])
        times.append((time.perf_counter() - t0) * 1000)
        ranked = sorted(zip(res["distances"][0], res["ids"][0], strict=True))
        got.append([cid for _, cid in ranked[:K]])
    out.write_text(json.dumps({"ids": got, "ms": times}))


def recall_at(got: list[list[str]], exact: np.ndarray, k: int) -> float:
    return float(np.mean([len({int(g[1:]) for g in row[:k]} & set(exact[i, :k].tolist())) / k
                          for i, row in enumerate(got)]))


def measure_recall(sizes: list[int], processes: int, configs: dict[str, Any]) -> list[dict[str, Any]]:
    from bot.retrieval import VECTOR_OVERFETCH

    base, queries = base_vectors()
    rows: list[dict[str, Any]] = []
    for size in sizes:
        vectors = vectors_of_size(base, size)
        exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :K]
        for name, params in configs.items():
            root = Path(tempfile.mkdtemp(prefix=f"footnote-stability-{size}-", dir=CACHE_DIR))
            try:
                build_s = build(root, vectors, params)
                qpath = root / "queries.npy"
                np.save(qpath, queries)
                runs = []
                fetch = K * (VECTOR_OVERFETCH if name == "after" else 1)  # as HybridRetriever asks, then and now
                for p in range(processes):
                    out = root / f"run{p}.json"
                    subprocess.run([sys.executable, "-m", "bench.stability", "--child", str(root), str(qpath),
                                    str(out), "--fetch", str(fetch)], check=True, cwd=REPO)
                    runs.append(json.loads(out.read_text()))
            finally:
                shutil.rmtree(root, ignore_errors=True)
            first = runs[0]["ids"]
            same30 = np.mean([all(r["ids"][i] == first[i] for r in runs) for i in range(len(first))])
            same1 = np.mean([all(r["ids"][i][:1] == first[i][:1] for r in runs) for i in range(len(first))])
            row = {
                "size": size, "config": name, "hnsw": params.configuration()["hnsw"],
                "recall@10": round(recall_at(first, exact, 10), 4), "recall@30": round(recall_at(first, exact, 30), 4),
                "top1_is_exact_top1": round(float(np.mean([int(r[0][1:]) == exact[i, 0]
                                                           for i, r in enumerate(first)])), 4),
                "vector_query": percentiles(runs[0]["ms"]), "build_s": round(build_s, 1),
                "processes": processes, "identical_top30_all_processes": round(float(same30), 4),
                "identical_top1_all_processes": round(float(same1), 4),
            }
            rows.append(row)
            print(f"  {size:>7} {name:<8} r@10 {row['recall@10']:.3f} r@30 {row['recall@30']:.3f} "
                  f"p95 {row['vector_query']['p95_ms']} ms build {row['build_s']} s "
                  f"stable top30 {row['identical_top30_all_processes']:.3f}", flush=True)
    return rows


# ------------------------------------------------------------------------------------------ answer stability

def questions(per_set: int) -> list[str]:
    out: list[str] = []
    for name in ("corpus_qa.jsonl", "seed_qa.jsonl"):
        rows = [json.loads(line) for line in (REPO / "tests" / "data" / name).read_text().splitlines() if line]
        out += [r["question"] for r in rows if r.get("answerable")][:per_set]
    return out


def answer_corpus(folder: Path) -> None:
    from bench.datasets import load_scifact, shared_dir

    shutil.copytree(REPO / "examples" / "corpus", folder / "corpus")
    seed = shared_dir() / "seed"
    for path in sorted(seed.glob("*.txt")):
        shutil.copy(path, folder / path.name)
    science = folder / "scifact"
    science.mkdir()
    for doc in list(load_scifact("test").corpus.values())[:300]:
        title = doc.title.replace('"', "'")
        (science / f"sf-{doc.doc_id}.md").write_text(f'---\ntitle: "{title}"\n---\n{doc.text}\n')


def code_digest() -> str:
    """A hash of the product's source (bot/, index/, prompts/). The answer-stability run compares it before every
    process: in a working tree shared with others, a file edited mid-run changes answers between processes, which
    is not the nondeterminism this bench looks for (the 1-of-8 "flip" of 2026-12-01 was one). Run from a clean
    checkout (`git worktree add`) to measure committed code."""
    import hashlib

    digest = hashlib.sha256()
    for folder in ("bot", "index", "prompts"):
        for path in sorted((REPO / folder).rglob("*")):
            if path.is_file() and path.suffix in (".py", ".txt", ".md", ".json", ".yaml"):
                digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def answer_stability(processes: int, configs: dict[str, Any], per_set: int,
                     reuse: Path | None = None) -> list[dict[str, Any]]:
    """`reuse`: a data dir already holding `answer_corpus` ingested with the current parameters (e.g. by
    `footnote ingest` of a folder `answer_corpus` wrote); skips the ~8 min ingest, for config "after" only."""
    from index.embeddings import LocalMiniLMEmbedding, embedder_id
    from index.ingest import Ingestor
    from index.store import VectorIndex

    rows: list[dict[str, Any]] = []
    qs = questions(per_set)
    embedder = LocalMiniLMEmbedding()
    for name, params in configs.items():
        root = Path(tempfile.mkdtemp(prefix="footnote-answers-", dir=CACHE_DIR))
        try:
            if reuse is not None:
                settings = bench_settings(reuse)
                index = VectorIndex.open(settings, embedder_id=embedder_id(settings), create=False)
                assert index is not None and name == "after", "--reuse-answers-data is for config 'after'"
                summary = type("Reused", (), {"chunks": index.count()})()
            else:
                answer_corpus(root / "docs")
                settings = bench_settings(root / "data")
                VectorIndex.open(settings, embedder_id=embedder_id(settings), create=True, hnsw=params)
                summary = Ingestor(settings, embedder).run([root / "docs"])
                index = VectorIndex.open(settings, embedder_id=embedder_id(settings), create=False)
                assert index is not None
                # The ingest raised ef_search in place, as it does for old indexes; put the old index's value back.
                index.collection.modify(configuration={"hnsw": {"ef_search": params.ef_search}})
            env = {**os.environ, "FOOTNOTE_DATA_DIR": str(settings.data_dir), "FOOTNOTE_ANSWER_MODE": "extractive"}
            env.pop("OPENAI_API_KEY", None)
            env.pop("OPENAI_BASE_URL", None)
            for q in qs:
                seen = []
                codes = []
                for _ in range(processes):
                    codes.append(code_digest())
                    done = subprocess.run([sys.executable, "-m", "bot.cli", "ask", "--json", q], env=env,
                                          cwd=root, capture_output=True, text=True, check=True)
                    answer = json.loads(done.stdout)
                    fused = [c for c, _ in answer.get("trace", {}).get("retrieval", {}).get("fused", [])] or \
                        [c.get("chunk_id") for c in answer.get("citations", [])]
                    seen.append((json.dumps(fused), answer.get("text") or answer.get("answer")))
                rows.append({"config": name, "chunks": summary.chunks, "question": q, "processes": processes,
                             "distinct_retrievals": len({s[0] for s in seen}),
                             "distinct_answers": len({s[1] for s in seen}),
                             "code_changed_during_run": len(set(codes)) > 1})
                if rows[-1]["distinct_answers"] > 1 or rows[-1]["distinct_retrievals"] > 1:  # keep what differed
                    rows[-1]["variants"] = [{"process": i, "fused": json.loads(f)[:10], "answer": (a or "")[:300]}
                                            for i, (f, a) in enumerate(seen)]
                print(f"  {name:<8} {q[:60]:<60} retrievals {rows[-1]['distinct_retrievals']} "
                      f"answers {rows[-1]['distinct_answers']}", flush=True)
        finally:
            shutil.rmtree(root, ignore_errors=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--processes", type=int, default=10)
    parser.add_argument("--skip-answers", action="store_true")
    parser.add_argument("--skip-recall", action="store_true")
    parser.add_argument("--configs", default="before,after", help="which of: before (chromadb defaults), after")
    parser.add_argument("--questions", type=int, default=4, help="answerable questions per set (2 sets)")
    parser.add_argument("--out", default="stability", help="bench/results/<OUT>.json")
    parser.add_argument("--reuse-answers-data", type=Path, help="data dir with the answer corpus already ingested")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--fetch", type=int, default=K, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        query_process(Path(args.child[0]), Path(args.child[1]), Path(args.child[2]), args.fetch)
        return

    from index.store import CHROMA_DEFAULT_HNSW, HNSW

    known = {"before": CHROMA_DEFAULT_HNSW, "after": HNSW}
    configs = {name: known[name] for name in args.configs.split(",")}
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "vectors": f"real MiniLM vectors of 1000 SciFact chunks ({WINDOW_WORDS}-word windows); larger sizes add "
                   f"noisy copies (sigma {NOISE}/dim); {N_QUERIES} SciFact test claims as queries",
        "configs": {n: {**c.configuration()["hnsw"], "source": c.source} for n, c in configs.items()},
    }
    if not args.skip_recall:
        rows = measure_recall([int(s) for s in args.sizes.split(",")], args.processes, configs)
        result["recall"] = rows
        print_table(["size", "config", "recall@10", "recall@30", "top-1 exact", "p50 ms", "p95 ms", "build s",
                     f"same top-30 in {args.processes} procs"],
                    [[r["size"], r["config"], r["recall@10"], r["recall@30"], r["top1_is_exact_top1"],
                      r["vector_query"]["p50_ms"], r["vector_query"]["p95_ms"], r["build_s"],
                      r["identical_top30_all_processes"]] for r in rows],
                    title="Chroma HNSW vs exact cosine search")
    if not args.skip_answers:
        answers = answer_stability(args.processes, configs, args.questions, args.reuse_answers_data)
        result["answers"] = answers
        for name in configs:
            mine = [a for a in answers if a["config"] == name]
            stable = sum(1 for a in mine if a["distinct_retrievals"] == 1 and a["distinct_answers"] == 1)
            print(f"{name}: {stable}/{len(mine)} questions identical in all {args.processes} processes")
            result[f"answers_stable_{name}"] = f"{stable}/{len(mine)}"
            if any(a["code_changed_during_run"] for a in mine):
                print(f"{name}: WARNING the source changed during the run: differences may be edits, not flips")
    path = write_result(args.out, result)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
