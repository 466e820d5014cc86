from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from index.settings import Settings

REPO = Path(__file__).resolve().parents[2]


def _env_names() -> set[str]:
    names = set()
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        names.add(alias.choices[0])  # type: ignore[union-attr]
    return names


def test_env_example_lists_exactly_the_settings_fields() -> None:
    text = (REPO / ".env.example").read_text()
    listed = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))
    assert listed == _env_names()


def test_env_example_values_are_valid_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    settings = Settings(_env_file=REPO / ".env.example")  # type: ignore[call-arg]
    assert settings.openai_api_key is None and not settings.llm_configured
    assert settings.chroma_host in (None, "") and not settings.uses_chroma_server


def test_environment_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-value")
    monkeypatch.setenv("FOOTNOTE_DISCORD_CHANNELS", "12, 34")
    monkeypatch.setenv("FOOTNOTE_DISCORD_CHANNEL_COLLECTIONS", "12=news,34=legal")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.llm_configured
    assert settings.discord_channel_allowlist == [12, 34]
    assert settings.discord_channel_collections == {12: "news", 34: "legal"}
    assert "sk-secret-value" not in repr(settings) and "sk-secret-value" not in str(settings.model_dump())


def test_invalid_values_are_rejected() -> None:
    with pytest.raises(ValidationError):
        Settings(_env_file=None, chunk_tokens=5)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        Settings(_env_file=None, answer_mode="magic")  # type: ignore[call-arg]
