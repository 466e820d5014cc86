"""Shared fixtures. Tests build their own Settings (no .env, no ambient secrets) and inject fakes."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from index.settings import Settings
from tests.fakes.openai_server import FakeOpenAI

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FOOTNOTE_SHARED_DIR", REPO.parent / "shared"))
SEED_ARTICLE = SHARED / "seed" / "al-monitor-turkish-drones-central-asia.txt"
SAMPLE_CORPUS = REPO / "examples" / "corpus"

_AMBIENT = (
    "OPENAI_API_KEY", "OPENAI_BASE_URL", "DISCORD_TOKEN", "CHROMA_HOST", "CHROMA_PORT", "FOOTNOTE_DATA_DIR",
    "FOOTNOTE_COLLECTION", "FOOTNOTE_ANSWER_MODE", "FOOTNOTE_EMBED_BACKEND",
)


@pytest.fixture(autouse=True)
def _no_ambient_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's shell (keys, a Chroma server) must not leak into tests."""
    for name in _AMBIENT:
        monkeypatch.delenv(name, raising=False)
    # The LLM judge adds one request after every verified LLM answer, which scripted fake servers would have to
    # answer; tests of the judge (tests/bot/answering/test_judge.py and others) turn it on explicitly.
    monkeypatch.setenv("FOOTNOTE_VERIFY_JUDGE", "false")


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {"data_dir": tmp_path / "data"}
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture(scope="session")
def embedder() -> Any:
    from index.embeddings import LocalMiniLMEmbedding

    return LocalMiniLMEmbedding()


@pytest.fixture
def fake_llm() -> Iterator[FakeOpenAI]:
    """A real HTTP server speaking the OpenAI chat-completions protocol on 127.0.0.1 (scriptable faults)."""
    server = FakeOpenAI().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def seed_article() -> Path:
    assert SEED_ARTICLE.exists(), f"sample article missing: {SEED_ARTICLE}"
    return SEED_ARTICLE
