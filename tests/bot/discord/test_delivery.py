"""Delivery when Discord misbehaves: a placeholder that can no longer be edited must not hide the answer."""

from __future__ import annotations

# First: imports discord with its import-time `audioop` DeprecationWarning silenced (warnings are errors).
import tests.fakes.discord_gateway  # noqa: F401

# isort: split

from pathlib import Path

import pytest

from bot.discord.render import PLACEHOLDER
from tests.fakes.discord_gateway import CHANNELS
from tests.fakes.discord_harness import FakeService, running_bot


async def test_answer_is_posted_anew_when_every_edit_of_the_placeholder_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Issue 10 bug 3: with Discord answering 5xx to every PATCH, "🔎 Searching…" stayed forever. (503: discord.py
    raises it at once; a 500 is retried 5 times over ~25 s first and then raises the same DiscordServerError.)"""
    service = FakeService(streams=True, delta_gap=0.01)
    async with running_bot(monkeypatch, tmp_path, service=service) as env:
        fake = env.fake
        fake.fail("PATCH", r"/channels/\d+/messages/\d+", 503, times=1000, body={"message": "upstream down"})
        q = await fake.say(CHANNELS[0], "how do we deploy?", mention_bot=True)
        thread_id = int(q["id"])
        [answer] = await fake.wait_until(lambda: [m for m in fake.bot_messages(thread_id) if m["embeds"]])
        assert answer["content"] == "Deploys go through CI [1]." and answer["components"]
        [placeholder] = [
            r for r in fake.find("POST", rf"/channels/{thread_id}/messages") if r.json["content"] == PLACEHOLDER
        ]
        await fake.wait_until(lambda: fake.deleted_messages)
        assert [m["content"] for m in fake.bot_messages(thread_id)] == [answer["content"]]  # placeholder gone
        assert fake.find("PATCH", rf"/channels/{thread_id}/messages/\d+")  # the edits were tried first
        assert placeholder.status == 200
