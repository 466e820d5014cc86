"""A chunk's id carries its position in the document, and `chunk_position` reads it back (the summary of the
whole reads each document from its opening)."""

from __future__ import annotations

from pathlib import Path

from index.chunking import Chunker, chunk_position
from index.documents import LoadedDocument, Section


def test_chunk_position_reads_back_the_index_the_chunker_wrote() -> None:
    text = " ".join(f"Sentence number {i} says something about the border." for i in range(120))
    doc = LoadedDocument(Path("a.md"), "A", [Section(text), Section("A closing section.", "End")], "h")
    nodes = Chunker(64, 8).chunk(doc, doc_id="doc-with-dashes", source="a.md")
    assert len(nodes) > 2
    assert [chunk_position(n.node_id) for n in nodes] == list(range(len(nodes)))


def test_an_id_of_another_shape_has_no_position() -> None:
    assert chunk_position("a:0") is None
    assert chunk_position("doc-7-abc") is None
