"""`footnote discord` startup and shutdown: clear errors for token/intent problems, graceful SIGTERM."""

from __future__ import annotations

# First: imports discord with its import-time `audioop` DeprecationWarning silenced (warnings are errors).
import tests.fakes.discord_gateway  # noqa: F401

# isort: split

import asyncio
import logging
import os
import signal
from pathlib import Path

import discord
import pytest

from bot.discord.launch import DiscordUnavailableError, arun_bot, run_bot
from index.errors import ConfigError, FootnoteError
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


async def test_discord_unreachable_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 10 bug 4: ClientConnectorError came out as ~60 lines of traceback."""
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(discord.http.Route, "BASE", f"http://127.0.0.1:{port}/api/v10")
    with pytest.raises(DiscordUnavailableError, match=r"^Cannot reach Discord \(ClientConnectorError") as err:
        await asyncio.wait_for(
            arun_bot(make_settings(tmp_path), FakeService(), FakeAdmin(), guild_ready_timeout=0.05), 10
        )
    assert "\n" not in str(err.value) and "network" in str(err.value)


@pytest.mark.parametrize(
    ("code", "expected"),
    [(4004, "rejected DISCORD_TOKEN"), (4011, "requires sharding"), (4013, "invalid gateway intents")],
)
async def test_gateway_close_at_startup_is_one_clear_error(
    tmp_path: Path, fake: FakeDiscord, code: int, expected: str
) -> None:
    """Issue 10 bug 4: a gateway close (4004 …) came out as a ConnectionClosed traceback."""
    fake.identify_close = (code, "nope")
    with pytest.raises(FootnoteError, match=expected) as err:
        await asyncio.wait_for(
            arun_bot(make_settings(tmp_path), FakeService(), FakeAdmin(), guild_ready_timeout=0.05), 10
        )
    assert "\n" not in str(err.value)


async def test_startup_warns_about_mapped_collections_that_are_missing_and_says_hello(
    tmp_path: Path, fake: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 10 bug 5 (operator side) and "startup prints nothing without -v"."""
    caplog.set_level(logging.INFO, logger="bot.discord")
    settings = make_settings(tmp_path, discord_channel_collections={CHANNELS[0]: "legal", CHANNELS[1]: "hr"})
    run = asyncio.create_task(arun_bot(settings, FakeService(), FakeAdmin(), guild_ready_timeout=0.05))
    await fake.wait_until(lambda: fake.sessions_ready)
    await fake.wait_until(lambda: any("Footnote connected" in r.getMessage() for r in caplog.records))
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(run, 10)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert [w for w in warnings if "'hr'" in w] and not [w for w in warnings if "'legal'" in w]
    assert any(f"channel {CHANNELS[1]} is mapped to collection 'hr', which has nothing indexed" in w for w in warnings)
    [hello] = [r.getMessage() for r in caplog.records if "Footnote connected" in r.getMessage()]
    assert hello == "Footnote connected as Footnote to 1 server; 12 documents, 340 chunks"


def test_run_bot_shows_info_without_verbose_and_hides_voice_notices(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[object] = []

    def fake_run(coro: object) -> None:
        seen.append(coro)
        coro.close()  # type: ignore[attr-defined]

    monkeypatch.setattr(asyncio, "run", fake_run)
    monkeypatch.setattr(discord.VoiceClient, "warn_nacl", True)
    monkeypatch.setattr(discord.VoiceClient, "warn_dave", True)
    bot_log = logging.getLogger("bot.discord")
    monkeypatch.setattr(bot_log, "level", logging.NOTSET)
    run_bot(make_settings(Path("/tmp")), FakeService(), FakeAdmin())
    assert seen and bot_log.getEffectiveLevel() <= logging.INFO
    assert not discord.VoiceClient.warn_nacl and not discord.VoiceClient.warn_dave
