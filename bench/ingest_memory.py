"""Ingest peak memory vs corpus size (issue 14 item 4: peak RSS independent of corpus size, <= 1 GB at 25k chunks).

    python -m bench.ingest_memory [--sizes 2500,25000,100000] [--embedder hash|minilm]

Corpus: the RealTime QA articles (every week's pooled search results), then generated documents: the same
articles' sentences shuffled into new documents (every chunk a distinct text, so nothing is deduplicated by the
embedding reuse), written as .txt files until the chunk estimate reaches the size; the real chunk count is
reported. Each size is ingested by the real `index.ingest.Ingestor` (files -> chunks -> embeddings -> Chroma,
manifest, journal, BM25) into a fresh data dir in a fresh child process, whose peak RSS (VmHWM) is the figure.

Embedder: `hash` (default) is a deterministic 384-d token-hash embedding with no model, so 100k chunks take minutes
instead of ~40 min of MiniLM on 2 cores; everything else is the product's pipeline. The model's own memory is a
constant on top: `--embedder minilm --sizes 2500` measures it at the smallest size (same run, same corpus).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.pipeline import bench_settings, peak_rss_mb, print_table, write_result

TARGET_MB = {25_000: 1024.0}
TOKENS_PER_CHUNK = 170  # measured mean of the chunker on news text (bench.query_speed's base index)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


class HashEmbedding:
    """Factory for a llama-index embedding with no model: each token hashed into 384 dims, normalised."""

    @staticmethod
    def make() -> Any:
        import zlib

        import numpy as np
        from llama_index.core.base.embeddings.base import BaseEmbedding

        def vec(text: str) -> list[float]:
            v = np.zeros(384, dtype=np.float32)
            for tok in text.lower().split():
                v[zlib.crc32(tok.encode()) % 384] += 1.0
            n = float(np.linalg.norm(v)) or 1.0
            return (v / n).tolist()

        class _Hash(BaseEmbedding):
            def _get_text_embedding(self, text: str) -> list[float]:
                return vec(text)

            def _get_query_embedding(self, query: str) -> list[float]:
                return vec(query)

            async def _aget_query_embedding(self, query: str) -> list[float]:
                return vec(query)

        return _Hash(model_name="hash-384", embed_batch_size=128)


def write_corpus(folder: Path, chunks: int) -> int:
    """Text files for about `chunks` chunks; returns the number of files."""
    from bench.datasets import load_realtimeqa
    from bench.realtimeqa import realtimeqa_docs

    docs = realtimeqa_docs(load_realtimeqa())
    folder.mkdir(parents=True, exist_ok=True)
    budget = chunks * TOKENS_PER_CHUNK
    sentences = [s for d in docs for s in _SENTENCE.split(d.text) if len(s.split()) >= 4]
    rng = random.Random(0)
    written = tokens = 0
    for d in docs:  # the real articles first
        if tokens >= budget:
            break
        (folder / f"{d.name}.txt").write_text(f"{d.title}\n\n{d.text}\n", encoding="utf-8")
        tokens += int(len(d.text.split()) * 1.3)
        written += 1
    while tokens < budget:  # then generated ones, ~20 chunks each
        picked = rng.sample(sentences, k=min(len(sentences), 120))
        text = " ".join(picked)
        (folder / f"gen-{written:06d}.txt").write_text(f"Generated {written}\n\n{text}\n", encoding="utf-8")
        tokens += int(len(text.split()) * 1.3)
        written += 1
    return written


def child(corpus: Path, data_dir: Path, embedder_kind: str) -> None:
    from index.ingest import Ingestor

    settings = bench_settings(data_dir)
    if embedder_kind == "minilm":
        from index.embeddings import LocalMiniLMEmbedding

        embedder: Any = LocalMiniLMEmbedding()
    else:
        embedder = HashEmbedding.make()
    t0 = time.perf_counter()
    summary = Ingestor(settings, embedder).run([corpus])
    print("RESULT " + json.dumps({"chunks": summary.chunks, "documents": summary.documents,
                                  "seconds": round(time.perf_counter() - t0, 1), "peak_rss_mb": peak_rss_mb()}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="2500,25000,100000")
    parser.add_argument("--embedder", choices=["hash", "minilm"], default="hash")
    parser.add_argument("--label", default="", help="suffix of the result name: ingest_memory_<label>")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)  # corpus data_dir embedder
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), Path(args.child[1]), args.child[2])
        return
    rows = []
    for size in [int(s) for s in args.sizes.split(",")]:
        with tempfile.TemporaryDirectory() as tmp:
            corpus = Path(tmp) / "corpus"
            files = write_corpus(corpus, size)
            print(f"  {size}: {files} files, ingesting ({args.embedder}) ...", flush=True)
            out = subprocess.run([sys.executable, "-m", "bench.ingest_memory", "--child", str(corpus),
                                  str(Path(tmp) / "data"), args.embedder], capture_output=True, text=True, check=False)
            line = next((ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")), None)
            if line is None:
                raise SystemExit(f"ingest of {size} failed: {out.stderr[-3000:]}")
            row = {"target": size, "files": files, **json.loads(line.removeprefix("RESULT "))}
            print(f"  ... {row['chunks']} chunks in {row['seconds']} s, peak RSS {row['peak_rss_mb']:.0f} MB",
                  flush=True)
            rows.append(row)
    print_table(["chunks", "files", "seconds", "peak RSS MB", "target MB"],
                [[r["chunks"], r["files"], r["seconds"], r["peak_rss_mb"], TARGET_MB.get(r["target"], "")]
                 for r in rows], title=f"ingest peak memory, embedder={args.embedder}")
    write_result("ingest_memory" + (f"_{args.label}" if args.label else ""),
                 {"embedder": args.embedder, "rows": rows, "targets_mb": TARGET_MB})


if __name__ == "__main__":
    main()
