"""`footnote discord` startup and shutdown: clear errors for token/intent problems, graceful SIGTERM."""

from __future__ import annotations

# First: imports discord with its import-time `audioop` DeprecationWarning silenced (warnings are errors).
import tests.fakes.discord_gateway  # noqa: F401

# isort: split

import asyncio
import os
import signal
from pathlib import Path

import pytest

from bot.discord.launch import arun_bot, run_bot
from index.errors import ConfigError
from tests.fakes.discord_gateway import CHANNELS, FakeDiscord
from tests.fakes.discord_harness import FakeAdmin, FakeService, make_settings


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> FakeDiscord:
    f = FakeDiscord()
    await f.start()
    f.patch(monkeypatch)
    yield f
    await f.close()


@pytest.mark.parametrize("token", [None, "", "   "])
def test_missing_token(tmp_path: Path, token: str | None) -> None:
    with pytest.raises(ConfigError, match="DISCORD_TOKEN is not set"):
        run_bot(make_settings(tmp_path, discord_token=token), FakeService(), FakeAdmin())


async def test_invalid_token(tmp_path: Path, fake: FakeDiscord) -> None:
    settings = make_settings(tmp_path, discord_token="not-the-right-token")
    with pytest.raises(ConfigError, match="rejected DISCORD_TOKEN"):
        await asyncio.wait_for(arun_bot(settings, FakeService(), FakeAdmin(), guild_ready_timeout=0.05), 10)
    assert fake.requests[0].path == "/users/@me" and fake.requests[0].status == 401


async def test_missing_message_content_intent(tmp_path: Path, fake: FakeDiscord) -> None:
    fake.allow_message_content = False  # the portal switch is off: Discord closes with 4014
    with pytest.raises(ConfigError, match="MESSAGE CONTENT INTENT") as err:
        await asyncio.wait_for(
            arun_bot(make_settings(tmp_path), FakeService(), FakeAdmin(), guild_ready_timeout=0.05), 10
        )
    assert "Developer Portal" in str(err.value)


async def test_sigterm_finishes_answers_in_progress_then_exits(tmp_path: Path, fake: FakeDiscord) -> None:
    service = FakeService(delay=0.3)
    run = asyncio.create_task(arun_bot(make_settings(tmp_path), service, FakeAdmin(), guild_ready_timeout=0.05))
    await fake.wait_until(lambda: fake.sessions_ready)
    assert signal.getsignal(signal.SIGTERM) not in (
        signal.SIG_DFL,
        None,
    )  # our handler, or the kill ends pytest
    q = await fake.say(CHANNELS[0], "slow question", mention_bot=True)
    await fake.wait_until(lambda: service.calls)
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.sleep(0.05)
    await fake.say(CHANNELS[1], "too late", mention_bot=True)  # not taken once shutting down
    await asyncio.wait_for(run, 10)
    answered = [m for m in fake.bot_messages(int(q["id"])) if m["embeds"]]
    assert len(answered) == 1
    assert [c.question for c in service.calls] == ["slow question"]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handlers removed again
    assert (tmp_path / "feedback.sqlite3").exists()
