"""Discord passes the question's own day to the engine: "this week" and "latest" mean the week of the message."""

from __future__ import annotations

# First: imports discord with its import-time `audioop` DeprecationWarning silenced (warnings are errors).
import tests.fakes.discord_gateway  # noqa: F401

# isort: split

from datetime import UTC, datetime
from pathlib import Path

import discord
import pytest

from tests.fakes.discord_gateway import CHANNELS
from tests.fakes.discord_harness import FakeService, running_bot


@pytest.mark.parametrize("streams", [False, True])
async def test_a_mention_is_answered_as_of_the_message_day(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, streams: bool,
) -> None:
    service = FakeService(streams=streams)
    async with running_bot(monkeypatch, tmp_path, service=service) as env:
        q = await env.fake.say(CHANNELS[0], "what changed this week?", mention_bot=True)
        await env.fake.wait_until(lambda: service.calls)
        [call] = service.calls
        sent = discord.utils.snowflake_time(int(q["id"]))  # what discord.py reports as the message's created_at
        assert call.as_of == sent.astimezone(UTC).date()
        assert abs((datetime.now(UTC) - sent).total_seconds()) < 600  # the fake's ids carry the real time


async def test_slash_ask_is_answered_as_of_the_interaction_day(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    service = FakeService()
    async with running_bot(monkeypatch, tmp_path, service=service) as env:
        await env.fake.slash("ask", {"question": "what is the latest release?"})
        await env.fake.wait_until(lambda: service.calls)
        [call] = service.calls
        assert call.as_of is not None and abs((datetime.now(UTC).date() - call.as_of).days) <= 1
