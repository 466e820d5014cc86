"""Fixtures for the read-path tests: the real offline embedder, passages from the sample article, an
in-memory retriever over them, and the fake OpenAI server."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from bot.answer import Passage, Retrieval, RetrievalFilters
from bot.text.embedder import SentenceEmbedder
from bot.text.terms import content_terms, term_in
from index.embeddings import LocalMiniLMEmbedding
from index.settings import Settings
from tests.conftest import SEED_ARTICLE
from tests.fakes.openai_server import FakeOpenAI


def seed_text() -> str:
    assert SEED_ARTICLE.exists(), f"sample article missing: {SEED_ARTICLE}"
    return SEED_ARTICLE.read_text(encoding="utf-8")


def seed_passages() -> list[Passage]:
    """One passage per paragraph of the article (as the chunker would cut a short article)."""
    paragraphs = [p.strip() for p in seed_text().splitlines() if len(p.strip()) > 40]
    return [
        Passage(
            chunk_id=f"seed-{i:03d}",
            text=p,
            doc_id="seed",
            title="Turkish drones in Central Asia",
            source="al-monitor-turkish-drones-central-asia.txt",
            date="2022-09-27",
        )
        for i, p in enumerate(paragraphs)
    ]


class MemoryRetriever:
    """The Retriever protocol over a list of passages: cosine + a little term overlap, best first."""

    def __init__(self, embed: SentenceEmbedder, passages: list[Passage]) -> None:
        self.embed = embed
        self.passages = passages
        self.vectors = embed([p.text for p in passages])
        self.terms = [content_terms(p.text) for p in passages]
        self.queries: list[str] = []

    def retrieve(
        self,
        query: str,
        *,
        top_k: int,
        collection: str | None = None,
        filters: RetrievalFilters | None = None,
        as_of: date | None = None,
    ) -> Retrieval:
        self.queries.append(query)
        q = content_terms(query)
        lexical = np.array([sum(term_in(t, ts) for t in q) / (len(q) or 1) for ts in self.terms])
        scores = self.vectors @ self.embed([query])[0] + 0.3 * lexical
        order = np.argsort(-scores)[:top_k]
        hits = [
            Passage(**{**p.__dict__, "score": float(scores[i]), "scores": {"vector": float(scores[i])}})
            for i, p in ((int(i), self.passages[int(i)]) for i in order)
        ]
        return Retrieval(hits, {"query": query, "top_k": top_k, "chunk_ids": [h.chunk_id for h in hits]})


@pytest.fixture(scope="session")
def embed(embedder: LocalMiniLMEmbedding) -> SentenceEmbedder:
    return SentenceEmbedder(embedder)


@pytest.fixture(scope="session")
def passages() -> list[Passage]:
    return seed_passages()


@pytest.fixture
def retriever(embed: SentenceEmbedder, passages: list[Passage]) -> MemoryRetriever:
    return MemoryRetriever(embed, passages)


@pytest.fixture
def offline_settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", answer_mode="extractive", top_k=6)  # type: ignore[call-arg]


@pytest.fixture
def llm_settings(tmp_path: Path, fake_llm: FakeOpenAI) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path / "data",
        answer_mode="llm",
        top_k=6,
        openai_base_url=fake_llm.base_url,
        llm_timeout_s=1.0,
        llm_max_retries=1,
    )


def passage_number(user_prompt: str, phrase: str) -> int:
    """The [n] of the delimited passage that contains `phrase` in a recorded answer prompt."""
    for m in re.finditer(r'<passage n="(\d+)"[^>]*>\n(.*?)\n</passage>', user_prompt, re.S):
        if phrase in m.group(2):
            return int(m.group(1))
    raise AssertionError(f"no passage in the prompt contains {phrase!r}")
