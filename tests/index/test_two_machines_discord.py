"""The Discord bot on machine B (issue 14 item 2): the real bot, through the loopback gateway, over the engine that
`footnote discord` builds from machine B's empty data dir against the `chroma run` that machine A ingests into.
Its answers cite A's documents, and a file A changes or deletes shows in B's very next answer after A's commit."""

from __future__ import annotations

# First: imports discord with its import-time `audioop` DeprecationWarning silenced (warnings are errors).
import tests.fakes.discord_gateway  # noqa: F401

# isort: split

import asyncio
from pathlib import Path
from typing import Any

import pytest

from index.ingest import Ingestor
from index.settings import Settings
from tests.fakes.chroma_server import ChromaServer
from tests.fakes.discord_gateway import CHANNELS, FakeDiscord
from tests.fakes.discord_harness import running_bot
from tests.index.test_chroma_server import write_corpus
from tests.index.test_two_machines import machines  # noqa: F401  (fixture)
from tests.test_reliability_llm import engine_for

pytestmark = pytest.mark.slow

TOLL_Q = "How many people died in the fighting?"
SUMMIT_Q = "Where did the Organization of Turkic States hold its summit?"


async def ask(fake: FakeDiscord, channel: int, question: str) -> dict[str, Any]:
    """The bot's answer message (with its Sources embed) to an @mention, in the thread it opens."""
    q = await fake.say(channel, question, mention_bot=True)
    [msg] = await fake.wait_until(lambda: [m for m in fake.bot_messages(int(q["id"])) if m["embeds"]], 60)
    return msg


def cited(msg: dict[str, Any]) -> str:
    """The answer's Sources embed: each footnote's title, file and quote."""
    return "\n".join(f"{f['name']}\n{f['value']}" for f in msg["embeds"][0]["fields"])


async def test_the_bot_on_machine_b_answers_from_what_machine_a_ingested(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    machines: tuple[ChromaServer, Settings, Settings],  # noqa: F811
    embedder: Any,
    seed_article: Path,
) -> None:
    _server, machine_a, machine_b = machines
    corpus = write_corpus(tmp_path / "corpus", seed_article)
    await asyncio.to_thread(Ingestor(machine_a, embedder).run, [corpus])
    assert not machine_b.data_dir.exists()
    engine = engine_for(machine_b, embedder, monkeypatch)  # `footnote discord`'s engine, from B's settings
    async with running_bot(monkeypatch, machine_b.data_dir, service=engine) as env:  # type: ignore[arg-type]
        fake = env.fake
        toll = await ask(fake, CHANNELS[0], TOLL_Q)
        assert "Tajikistan says 41 people died in the fighting; Kyrgyzstan reports 59 dead" in toll["content"]
        assert "casualties.md" in cited(toll) and "[1] Casualties" in cited(toll)
        summit = await ask(fake, CHANNELS[1], SUMMIT_Q)
        assert "held a summit in Samarkand" in summit["content"] and "summit.md" in cited(summit)

        # A changes one file and deletes another, and commits; B's next answer to each question shows it.
        (corpus / "casualties.md").write_text("---\ntitle: Casualties\n---\n# Casualties\nTajikistan now says 43 "
                                              "people died in the fighting; Kyrgyzstan reports 62 dead and 140 "
                                              "injured.\n")
        (corpus / "summit.md").unlink()
        summary = await asyncio.to_thread(Ingestor(machine_a, embedder).run, [corpus])
        assert len(summary.indexed) == 1 and len(summary.deleted) == 1, summary.to_json()
        toll = await ask(fake, CHANNELS[0], TOLL_Q)
        assert "Tajikistan now says 43 people died in the fighting" in toll["content"]
        assert "casualties.md" in cited(toll) and "41 people died" not in cited(toll) + toll["content"]
        summit = await ask(fake, CHANNELS[1], SUMMIT_Q)
        assert "summit.md" not in cited(summit) and "Samarkand" not in summit["content"]
    assert not (machine_b.data_dir / "manifest.sqlite").exists()  # B never needed the writer's journal
