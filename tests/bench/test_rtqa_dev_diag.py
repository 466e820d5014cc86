"""bench.rtqa_dev_diag: ranks as the product serves a top 10, a deep call only when the top 10 misses."""

from __future__ import annotations

from typing import Any

from bench.datasets import QAItem
from bench.rtqa_dev_diag import dev_rows
from bot.answer import Passage, Retrieval


class FakeRetriever:
    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.calls: list[tuple[int, Any]] = []

    def retrieve(self, query: str, *, top_k: int, as_of: Any = None) -> Retrieval:
        self.calls.append((top_k, as_of))
        passages = [Passage(chunk_id=str(i), text=t, doc_id=str(i), title="", source="", url=None, date=None,
                            heading=None, score=0.0, scores={}) for i, t in enumerate(self.texts[:top_k])]
        return Retrieval(passages=passages, trace={})


def _q(gold: str) -> QAItem:
    return QAItem(qid="20260327_1", question="Which city?", date="2026/03/26", choices=(), gold=gold,
                  source_urls=())


def test_rank_in_the_top_10_and_the_deep_lookup_only_on_a_miss() -> None:
    texts = [f"filler {i}" for i in range(40)]
    texts[3], texts[25] = "It was Corpus Christi.", "Goyang hosted it."
    retriever = FakeRetriever(texts)
    hit, miss = dev_rows(retriever, [_q("Corpus Christi"), _q("Goyang")], as_of=True, depth=30)
    assert hit["first"] == 4 and hit["deep"] is None
    assert miss["first"] is None and miss["deep"][0] == 26
    assert retriever.calls == [(10, "2026-03-26"), (10, "2026-03-26"), (30, "2026-03-26")]
