"""Fixtures the answering tests share: one extractive answerer per module, the sample documents' sections."""

from __future__ import annotations

import pytest

from bot.answer import Passage
from bot.answering.extractive import ExtractiveAnswerer
from bot.text.embedder import SentenceEmbedder
from tests.bot.answering.test_analyst import load_sections


@pytest.fixture(scope="module")
def answerer(embed: SentenceEmbedder) -> ExtractiveAnswerer:
    return ExtractiveAnswerer(embed)


@pytest.fixture(scope="module")
def sections() -> list[Passage]:
    return load_sections()
