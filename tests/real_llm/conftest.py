"""Fixtures for tests against a real LLM: SmolLM2-135M-Instruct served by llama.cpp on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from index.ingest import Ingestor
from index.settings import Settings
from tests.conftest import SAMPLE_CORPUS, SEED_ARTICLE
from tests.fakes.llama_server import LlamaServer


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    """One real llama.cpp server per module (loading the model takes seconds on a loaded machine). Tests
    that freeze or kill it run last in their module."""
    log = tmp_path_factory.mktemp("llama") / "server.log"
    server = LlamaServer(max_tokens=160, n_ctx=4096, log_path=log).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def real_llm_data_dir(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Path:
    """`examples/corpus` and the seed article ingested into a fresh data dir."""
    assert SEED_ARTICLE.exists(), f"sample article missing: {SEED_ARTICLE}"
    data_dir = tmp_path_factory.mktemp("real_llm") / "data"
    settings = Settings(_env_file=None, data_dir=data_dir)  # type: ignore[call-arg]
    summary = Ingestor(settings, embedder).run([SAMPLE_CORPUS, SEED_ARTICLE])
    assert summary.documents >= 9 and not summary.skipped, summary.to_json()
    return data_dir
