"""The one settings object. Built once by the CLI (the composition root) and passed down; never read at import."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _env(name: str) -> AliasChoices:
    return AliasChoices(name, name.lower())


_DISCORD_ID_VARS = {
    "discord_channel_allowlist": "FOOTNOTE_DISCORD_CHANNELS",
    "discord_forums": "FOOTNOTE_DISCORD_FORUMS",
}


def _channel_id(text: str, var: str, example: str = "123456789012345678,234567890123456789") -> int:
    """A Discord channel id from the environment, or an error naming the value and a good one (pydantic's error
    location names the variable)."""
    if not text.isdigit():
        raise PydanticCustomError(  # not ValueError: pydantic would prefix "Value error, "
            "discord_id",
            f"{text!r} is not a channel id. Use numeric channel ids, e.g. {var}={example} "
            "(Discord: Developer Mode on, right-click the channel → Copy Channel ID)"
        )
    return int(text)


class Settings(BaseSettings):
    """Every knob Footnote has. Env vars (or `.env`) by the names in `.env.example`."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True,
        env_ignore_empty=True,  # a copied .env.example with blank values means "unset", not ""
    )

    # --- storage ---
    data_dir: Path = Field(Path("./data"), validation_alias=_env("FOOTNOTE_DATA_DIR"))
    collection: str = Field("footnote", min_length=3, validation_alias=_env("FOOTNOTE_COLLECTION"))
    chroma_host: str | None = Field(None, validation_alias=_env("CHROMA_HOST"))
    chroma_port: int = Field(8000, validation_alias=_env("CHROMA_PORT"))

    # --- embeddings and chunking ---
    embed_backend: Literal["local", "openai"] = Field("local", validation_alias=_env("FOOTNOTE_EMBED_BACKEND"))
    embed_model: str = Field("all-MiniLM-L6-v2", validation_alias=_env("FOOTNOTE_EMBED_MODEL"))
    chunk_tokens: int = Field(200, ge=32, le=2048, validation_alias=_env("FOOTNOTE_CHUNK_TOKENS"))
    chunk_overlap: int = Field(30, ge=0, le=512, validation_alias=_env("FOOTNOTE_CHUNK_OVERLAP"))
    max_file_mb: float = Field(20.0, gt=0, validation_alias=_env("FOOTNOTE_MAX_FILE_MB"))

    # --- answering ---
    answer_mode: Literal["auto", "extractive", "llm"] = Field("auto", validation_alias=_env("FOOTNOTE_ANSWER_MODE"))
    top_k: int = Field(6, ge=1, le=50, validation_alias=_env("FOOTNOTE_TOP_K"))
    context_tokens: int = Field(3000, ge=256, validation_alias=_env("FOOTNOTE_CONTEXT_TOKENS"))
    history_tokens: int = Field(1200, ge=0, validation_alias=_env("FOOTNOTE_HISTORY_TOKENS"))
    max_question_chars: int = Field(2000, ge=10, validation_alias=_env("FOOTNOTE_MAX_QUESTION_CHARS"))
    # Hosts whose URLs a document may claim as its link ("example.org" also allows its subdomains); empty: any
    # http(s) URL is shown, always beside the file's real path. A document's claimed URL is never provenance.
    url_allowlist: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias=_env("FOOTNOTE_URL_ALLOWLIST")
    )

    # --- LLM (any OpenAI-compatible server) ---
    openai_api_key: SecretStr | None = Field(None, validation_alias=_env("OPENAI_API_KEY"))
    openai_base_url: str | None = Field(None, validation_alias=_env("OPENAI_BASE_URL"))
    llm_model: str = Field("gpt-4o-mini", validation_alias=_env("FOOTNOTE_LLM_MODEL"))
    llm_timeout_s: float = Field(30.0, gt=0, validation_alias=_env("FOOTNOTE_LLM_TIMEOUT_S"))
    llm_max_retries: int = Field(2, ge=0, le=10, validation_alias=_env("FOOTNOTE_LLM_MAX_RETRIES"))
    # One budget per question for every LLM call it makes (follow-up rewrite + answer + judge), retries
    # included; past it the labelled extractive answer is shown.
    question_deadline_s: float = Field(30.0, gt=0, validation_alias=_env("FOOTNOTE_QUESTION_DEADLINE_S"))
    # After the deterministic citation checks, one batched LLM call judges each kept claim against its quote.
    verify_judge: bool = Field(True, validation_alias=_env("FOOTNOTE_VERIFY_JUDGE"))

    # --- Discord ---
    discord_token: SecretStr | None = Field(None, validation_alias=_env("DISCORD_TOKEN"))
    discord_admin_role: str | None = Field(None, validation_alias=_env("FOOTNOTE_DISCORD_ADMIN_ROLE"))
    discord_channel_allowlist: Annotated[list[int], NoDecode] = Field(
        default_factory=list, validation_alias=_env("FOOTNOTE_DISCORD_CHANNELS")
    )
    discord_channel_collections: Annotated[dict[int, str], NoDecode] = Field(
        default_factory=dict, validation_alias=_env("FOOTNOTE_DISCORD_CHANNEL_COLLECTIONS")
    )
    discord_threads: bool = Field(True, validation_alias=_env("FOOTNOTE_DISCORD_THREADS"))
    discord_rate_per_minute: int = Field(6, ge=1, validation_alias=_env("FOOTNOTE_DISCORD_RATE_PER_MINUTE"))
    discord_forums: Annotated[list[int], NoDecode] = Field(
        default_factory=list, validation_alias=_env("FOOTNOTE_DISCORD_FORUMS")
    )
    discord_expert_role: str | None = Field(None, validation_alias=_env("FOOTNOTE_DISCORD_EXPERT_ROLE"))

    # --- operations (issue 14) ---
    # A second `footnote ingest` into the same data dir / collection waits this long for the first one, then
    # refuses (0: refuse at once). `footnote ingest --wait SECONDS` overrides it.
    ingest_wait_s: float = Field(0.0, ge=0, validation_alias=_env("FOOTNOTE_INGEST_WAIT_S"))
    # Server mode: an ingest's writer lease in Chroma lasts this long unless renewed (every third of it); a writer
    # killed with -9 blocks others for at most this long.
    ingest_lease_s: float = Field(60.0, ge=3, validation_alias=_env("FOOTNOTE_INGEST_LEASE_S"))
    # Without a terminal on stderr (cron, systemd, docker logs, CI): one progress line this often.
    progress_every_s: float = Field(30.0, gt=0, validation_alias=_env("FOOTNOTE_PROGRESS_EVERY_S"))
    # `footnote discord` serves /healthz and Prometheus /metrics on this port (bot/ops/metrics.py); unset: off.
    metrics_port: int | None = Field(None, ge=1, le=65535, validation_alias=_env("FOOTNOTE_METRICS_PORT"))
    # 127.0.0.1: only this host can scrape; 0.0.0.0 for a Prometheus on another machine (firewall it).
    metrics_host: str = Field("127.0.0.1", validation_alias=_env("FOOTNOTE_METRICS_HOST"))
    # `json`: one JSON object per log line (journald, docker logs); see bot/ops/logs.py.
    log_format: Literal["text", "json"] = Field("text", validation_alias=_env("FOOTNOTE_LOG_FORMAT"))

    @field_validator("url_allowlist", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        if isinstance(value, str):  # "example.org, docs.example.com" in the environment
            return [h.strip().lower().rstrip(".") for h in value.split(",") if h.strip()]
        return value

    @field_validator("discord_channel_allowlist", "discord_forums", mode="before")
    @classmethod
    def _split_ids(cls, value: object, info: ValidationInfo) -> object:
        # "123,456" in the environment; a list when built in code.
        if isinstance(value, str):
            var = _DISCORD_ID_VARS.get(info.field_name or "", "the setting")
            return [_channel_id(part, var) for part in value.replace(" ", "").split(",") if part]
        return value

    @field_validator("discord_channel_collections", mode="before")
    @classmethod
    def _split_mapping(cls, value: object) -> object:
        # "123=news,456=legal" in the environment; a dict when built in code.
        if isinstance(value, str):
            var = "FOOTNOTE_DISCORD_CHANNEL_COLLECTIONS"
            out: dict[int, str] = {}
            for pair in (p for p in value.replace(" ", "").split(",") if p):
                key, sep, name = pair.partition("=")
                if not sep or not name:
                    raise PydanticCustomError(
                        "discord_mapping", f"{pair!r} is not CHANNEL_ID=COLLECTION; e.g. {var}=123456789012345678=legal"
                    )
                out[_channel_id(key, var, "123456789012345678=legal,234567890123456789=news")] = name
            return out
        return value

    @property
    def llm_configured(self) -> bool:
        return self.openai_api_key is not None or self.openai_base_url is not None

    @property
    def uses_chroma_server(self) -> bool:
        return bool(self.chroma_host)

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"
