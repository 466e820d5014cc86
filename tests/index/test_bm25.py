"""The BM25 store: streamed builds, ids-only generations, and parity with llama-index's BM25Retriever (the
tokenisation earlier releases indexed with, and that fusion was tuned on)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from llama_index.core.schema import TextNode
from llama_index.retrievers.bm25 import BM25Retriever

from index.bm25 import BUILD_PAGE, Bm25Store, node_texts

TEXTS = [
    "Kyrgyzstan took delivery of Bayraktar TB2 drones in December 2021.",
    "Tajikistan puts its death toll at 41; the Kyrgyz side says 59 people were killed.",
    "Turkmenistan became the first Central Asian republic to acquire the TB2 drones.",
    "The Organization of Turkic States was set up in November 2021.",
    "Drones, drones and more drones: the border clashes were fought with them.",
]
QUERIES = ["Who acquired TB2 drones first?", "death toll Tajikistan", "Organization of Turkic States", "drones"]


def nodes() -> list[TextNode]:
    return [TextNode(id_=f"c{i}", text=t, metadata={"title": f"Doc {i}"}) for i, t in enumerate(TEXTS)]


def test_scores_equal_llama_index_bm25_retriever(tmp_path: Path) -> None:
    store = Bm25Store(tmp_path, "c")
    store.write(node_texts(nodes()))
    index = store.load()
    assert index is not None and index.num_docs == len(TEXTS)
    reference = BM25Retriever.from_defaults(nodes=list(nodes()), similarity_top_k=len(TEXTS))
    for query in QUERIES:
        hits = [h for h in reference.retrieve(query) if (h.score or 0) > 0]
        want = [(h.node.node_id, round(float(h.score or 0), 6)) for h in hits]
        got = [(cid, round(score, 6)) for cid, score in index.search(query, len(TEXTS))]
        assert got == want, query


def test_a_generation_of_an_earlier_release_is_read(tmp_path: Path) -> None:
    # Earlier releases persisted llama-index's retriever (scores + the whole corpus) and a sorted chunk_ids.json.
    root = tmp_path / "bm25" / "c"
    gen = root / "gen-old"
    BM25Retriever.from_defaults(nodes=list(nodes()), similarity_top_k=3).persist(str(gen))
    (gen / "chunk_ids.json").write_text(json.dumps(sorted(n.node_id for n in nodes())))
    (root / "CURRENT").write_text("gen-old")
    store = Bm25Store(tmp_path, "c")
    index = store.load()
    assert index is not None
    assert index.search("death toll Tajikistan", 1)[0][0] == "c1"
    assert store.chunk_ids() == {f"c{i}" for i in range(len(TEXTS))}


def test_a_build_streams_many_pages_and_keeps_each_row_its_id(tmp_path: Path) -> None:
    count = BUILD_PAGE * 2 + 7
    chunks = ((f"id{i}", f"filler words here token{i} unique{i}") for i in range(count))  # a generator: one pass
    store = Bm25Store(tmp_path, "c")
    store.write(chunks, version="v1")
    index = store.load()
    assert index is not None and index.num_docs == count
    for i in (0, BUILD_PAGE - 1, BUILD_PAGE, count - 1):
        assert index.search(f"unique{i}", 3)[0][0] == f"id{i}"
    assert store.version() == "v1" and len(store.chunk_ids()) == count


@pytest.mark.parametrize("query", ["", "the of and", "zzzunknownword"])
def test_a_query_with_no_indexed_term_matches_nothing(tmp_path: Path, query: str) -> None:
    store = Bm25Store(tmp_path, "c")
    store.write(node_texts(nodes()))
    index = store.load()
    assert index is not None and index.search(query, 5) == []


def test_an_empty_collection_has_no_index(tmp_path: Path) -> None:
    store = Bm25Store(tmp_path, "c")
    store.write(iter(()))
    assert store.load() is None and store.chunk_ids() == set()


def test_a_chunk_read_twice_while_a_writer_moves_the_pages_is_indexed_once(tmp_path: Path) -> None:
    """A server-mode reader pages through Chroma by offset; a write landing meanwhile can hand it a chunk twice.
    Two rows with one id would be served twice (and ask Chroma for a duplicate id)."""
    store = Bm25Store(tmp_path, "c")
    store.write([("a", "drones over the border"), ("b", "talks in Ankara"), ("a", "drones over the border")])
    index = store.load()
    assert index is not None and index.num_docs == 2
    assert [cid for cid, _ in index.search("drones", 5)] == ["a"]
