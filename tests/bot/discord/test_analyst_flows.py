"""Analyst answers through the loopback gateway with the REAL engine (`bot.cli.build_engine` over a Chroma + BM25
index of examples/corpus + examples/analyst): a comparison table as an embed with a footnote per cell, a
"Sources disagree" notice, both within Discord's limits, and the Export button's private `.md` attachment,
which is the document `footnote ask --format markdown` writes for the same answer."""

from __future__ import annotations

# First: imports discord with its import-time `audioop` DeprecationWarning silenced (warnings are errors).
import tests.fakes.discord_gateway  # noqa: F401

# isort: split

import contextlib
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.answering.markdown_export import to_markdown
from bot.cli import build_engine
from bot.discord.render import EMBED_TOTAL
from bot.discord.splitting import DISCORD_LIMIT
from bot.discord.views import EXPORT_NOTE
from bot.engine import Engine
from index.ingest import Ingestor
from index.settings import Settings
from tests.conftest import _AMBIENT
from tests.fakes.discord_gateway import CHANNELS, FakeDiscord, user
from tests.fakes.discord_harness import Env, running_bot

ROOT = Path(__file__).resolve().parents[3]
FOLDERS = (ROOT / "examples" / "corpus", ROOT / "examples" / "analyst")
BOB = user(800000000000000002, "bob")
TIMEOUT = 60.0
# Dev questions of tests/data/analyst_qa.jsonl (a01, b03).
COMPARE_Q = "Compare Kyrgyzstan and Tajikistan on the number of people killed."
CONFLICT_Q = "How many people did Kyrgyzstan lose in the September 2022 fighting?"


@pytest.fixture(scope="module")
def analyst_data(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Iterator[Path]:
    data = tmp_path_factory.mktemp("analyst-discord") / "data"
    with pytest.MonkeyPatch.context() as mp:  # module scope: the autouse env scrub has not run yet
        for name in _AMBIENT:
            mp.delenv(name, raising=False)
        settings = Settings(_env_file=None, data_dir=data, answer_mode="extractive")  # type: ignore[call-arg]
        summary = Ingestor(settings, embedder).run(list(FOLDERS))
    assert summary.documents >= 14 and not summary.skipped, summary.to_json()
    yield data


@contextlib.asynccontextmanager
async def analyst_bot(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, data: Path, embedder: Any
) -> AsyncIterator[tuple[Env, Engine]]:
    monkeypatch.setattr("index.embeddings.make_embedder", lambda settings: embedder)
    values: dict[str, Any] = {"data_dir": data, "answer_mode": "extractive"}
    engine = build_engine(Settings(_env_file=None, **values))  # type: ignore[call-arg]
    async with running_bot(monkeypatch, tmp_path, service=engine, **values) as env:  # type: ignore[arg-type]
        yield env, engine


async def answer_in_thread(fake: FakeDiscord, question: str) -> dict[str, Any]:
    q = await fake.say(CHANNELS[0], question, mention_bot=True)
    [msg] = await fake.wait_until(lambda: [m for m in fake.bot_messages(int(q["id"])) if m["components"]], TIMEOUT)
    return msg


def button(msg: dict[str, Any], prefix: str) -> str:
    return next(
        c["custom_id"] for row in msg["components"] for c in row["components"] if c["custom_id"].startswith(prefix)
    )


def embed_chars(embed: dict[str, Any]) -> int:
    """What Discord counts against the 6,000-character total of a message's embeds."""
    fields = sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields", []))
    footer = len(embed.get("footer", {}).get("text", ""))
    return len(embed.get("title", "")) + len(embed.get("description", "")) + fields + footer


async def test_a_comparison_is_a_table_embed_and_exports_as_the_cli_markdown(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, analyst_data: Path, embedder: Any
) -> None:
    async with analyst_bot(monkeypatch, tmp_path, analyst_data, embedder) as (env, engine):
        fake = env.fake
        msg = await answer_in_thread(fake, COMPARE_Q)
        assert len(msg["content"]) <= DISCORD_LIMIT and "|" not in msg["content"]  # no raw Markdown table
        assert msg["content"].startswith("Comparison (Kyrgyzstan, Tajikistan):")
        table, sources = msg["embeds"]
        assert table["title"] == "Comparison" and sources["title"] == "Sources"
        assert sum(embed_chars(e) for e in msg["embeds"]) <= EMBED_TOTAL
        rows = {f["name"]: f["value"] for f in table["fields"]}
        assert set(rows) == {"Kyrgyzstan", "Tajikistan"}
        # Each row's cell quotes its own footnote, and that footnote is in the Sources embed with its date.
        numbers = {name: re.findall(r"\[(\d+)\]", value) for name, value in rows.items()}
        assert all(numbers.values()), rows
        assert "41" in rows["Tajikistan"] and re.search(r"\b(59|63)\b", rows["Kyrgyzstan"]), rows
        footnotes = {re.match(r"\[(\d+)\]", f["name"]).group(1): f["value"] for f in sources["fields"]}  # type: ignore[union-attr]
        for ns in numbers.values():
            assert all(n in footnotes for n in ns)
        assert all(re.search(r" · (as of \d{4}-\d{2}-\d{2}|undated)\n", v) for v in footnotes.values()), footnotes

        export = button(msg, "footnote:md:")
        before = len(fake.requests)
        inter = await fake.click(msg, export, author=BOB)  # anyone may export; only they see the file
        await fake.wait_until(lambda: inter.callbacks, TIMEOUT)
        [cb] = inter.callbacks
        assert cb["type"] == 4 and cb["data"]["flags"] & 64 and cb["data"]["content"] == EXPORT_NOTE
        [upload] = [r for r in fake.requests[before:] if r.files]
        qid = export.rsplit(":", 1)[1]
        [(name, body)] = upload.files.items()
        assert name == f"footnote-answer-{qid}.md"
        document = body.decode("utf-8")
        # The same document the CLI's `--format markdown` writes for this answer (the engine is deterministic).
        assert document == to_markdown(await engine.aask(COMPARE_Q))
        assert document.startswith(f"# {COMPARE_Q}\n")
        assert "| Kyrgyzstan |" in document and "| Tajikistan |" in document
        assert re.search(r"^\[\^1\]: \*\*.+\*\* \((as of \d{4}-\d{2}-\d{2}|undated)\)", document, re.M), document


async def test_a_conflict_notice_names_each_version_within_limits(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, analyst_data: Path, embedder: Any
) -> None:
    async with analyst_bot(monkeypatch, tmp_path, analyst_data, embedder) as (env, _):
        msg = await answer_in_thread(env.fake, CONFLICT_Q)
        content = msg["content"]
        assert len(content) <= DISCORD_LIMIT and content.startswith("Sources disagree:")
        versions = [line for line in content.splitlines() if line.startswith("- ")]
        assert len(versions) >= 2 and any("59" in v for v in versions) and any("63" in v for v in versions)
        # Each version: who states it, as of when (or undated), its footnote.
        assert all(re.match(r"- .+ \((as of \d{4}-\d{2}-\d{2}|undated)\): .+ \[\d+\]$", v) for v in versions), versions
        [sources] = msg["embeds"]
        assert sum(embed_chars(e) for e in msg["embeds"]) <= EMBED_TOTAL
        assert len(sources["fields"]) == len(versions)
