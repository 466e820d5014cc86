"""Documents -> llama-index `TextNode` chunks.

Token-aware (tiktoken, the same counts the LLM path uses), split on paragraph then sentence boundaries by
llama-index's `SentenceSplitter`, one section at a time so a chunk never straddles two headings. Each node keeps
its heading path, page and character offsets in the section, and embeds with its title and heading (which helps
retrieval) while its stored text stays the verbatim passage (which citations quote).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime

from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
from llama_index.core.utils import get_tokenizer

from index.loaders import LoadedDocument

# Metadata shown to the embedder next to the text; everything else is bookkeeping.
EMBED_KEYS = ("title", "heading")


def doc_id_for(source_key: str) -> str:
    """Stable document id from its normalised path (or URL)."""
    return hashlib.sha1(source_key.encode("utf-8")).hexdigest()[:20]


def date_as_int(iso: str | None) -> int:
    """YYYYMMDD as an int (0 = unknown): Chroma's range filters work on numbers only."""
    return int(iso.replace("-", "")) if iso else 0


class Chunker:
    def __init__(self, chunk_tokens: int, chunk_overlap: int) -> None:
        self.tokenizer: Callable[[str], list[int]] = get_tokenizer()
        self.chunk_tokens = chunk_tokens
        self.splitter = SentenceSplitter(
            chunk_size=chunk_tokens,
            chunk_overlap=min(chunk_overlap, chunk_tokens // 2),
            tokenizer=self.tokenizer,
            paragraph_separator="\n\n",
            include_metadata=False,
            include_prev_next_rel=False,
        )

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text))

    def _pieces(self, text: str) -> list[str]:
        """The splitter's chunks, stripped; any that re-tokenises over budget (the splitter sums the token counts
        of its parts, and joined text can tokenise differently) is cut again at whitespace."""
        out: list[str] = []
        for piece in self.splitter.split_text(text):
            piece = piece.strip()
            while piece and self.count_tokens(piece) > self.chunk_tokens:
                head = self._longest_prefix_within_budget(piece)
                out.append(head)
                piece = piece[len(head) :].strip()
            if piece:
                out.append(piece)
        return out

    def _longest_prefix_within_budget(self, text: str) -> str:
        low, high = 1, len(text)
        while low < high:  # binary search on characters: the longest prefix whose tokens fit
            mid = (low + high + 1) // 2
            if self.count_tokens(text[:mid]) <= self.chunk_tokens:
                low = mid
            else:
                high = mid - 1
        cut = text.rfind(" ", 0, low + 1)
        return (text[:cut] if cut > 0 else text[:low]).rstrip() or text[:low]

    def _spans(self, text: str) -> list[tuple[str, int]]:
        """The section's pieces with their offsets, in order. Overlapping chunks start after the previous start;
        the splitter can emit a short piece that its successor's overlap then covers whole (found by fuzzing:
        '...!\r\r  0000 0:Ø0:ØØØ...'): that piece is dropped, as the successor holds all of its text."""
        spans: list[tuple[str, int]] = []
        cursor = 0
        for piece in self._pieces(text):
            start = text.find(piece, cursor)
            if start < 0:
                start = text.find(piece)
            cursor = max(cursor, start)
            while spans and spans[-1][1] > start and spans[-1][1] + len(spans[-1][0]) <= start + len(piece):
                spans.pop()
            spans.append((piece, start))
        return spans

    def chunk(self, doc: LoadedDocument, *, doc_id: str, source: str) -> list[TextNode]:
        nodes: list[TextNode] = []
        ingested_at = datetime.now(UTC).isoformat(timespec="seconds")
        for section in doc.sections:
            for piece, start in self._spans(section.text):
                index = len(nodes)
                digest = hashlib.sha1(piece.encode("utf-8")).hexdigest()[:10]
                node = TextNode(
                    id_=f"{doc_id}-{index:05d}-{digest}",
                    text=piece,
                    metadata={
                        "title": doc.title,
                        "heading": section.heading or "",
                        "source": source,
                        "url": doc.url or "",
                        "date": doc.date or "",
                        "date_int": date_as_int(doc.date),
                        "page": section.page or 0,
                        "chunk_index": index,
                        "start_char": start,
                        "content_hash": doc.content_hash,
                        "ingested_at": ingested_at,
                    },
                )
                node.excluded_embed_metadata_keys = [k for k in node.metadata if k not in EMBED_KEYS]
                node.excluded_llm_metadata_keys = list(node.excluded_embed_metadata_keys)
                node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=doc_id)
                nodes.append(node)
        return nodes


def chunk_position(chunk_id: str) -> int | None:
    """The position of a chunk in its document, read back from the id `Chunker.chunk` gives it
    ("<doc_id>-<index:05d>-<digest>"); None for an id of another shape."""
    parts = chunk_id.rsplit("-", 2)
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() and len(parts[1]) == 5 else None
