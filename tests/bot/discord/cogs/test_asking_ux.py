"""What a Discord user would notice (issue 10): operator errors without paths, readable thread names, no empty
threads, rate-limit notices that don't spam, explanations instead of silence."""

from __future__ import annotations

# First: imports discord with its import-time `audioop` DeprecationWarning silenced (warnings are errors).
import tests.fakes.discord_gateway  # noqa: F401

# isort: split

import logging
from pathlib import Path
from typing import Any

import pytest

from index.errors import IndexEmptyError
from tests.fakes.discord_gateway import CHANNELS, user
from tests.fakes.discord_harness import Env, FakeService, env, running_bot

__all__ = ["env"]
BOB = user(800000000000000002, "bob")
DM_CHANNEL = 700000000000000001


def answers(env: Env, channel_id: int | None = None) -> list[dict[str, Any]]:
    return [m for m in env.fake.bot_messages(channel_id) if m["embeds"]]


async def test_a_missing_index_is_told_without_paths_and_logged_for_the_operator(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 10 bug 5: "No index found at collection 'legal' (/srv/...)" was posted publicly."""

    def reply(q: str) -> Any:
        raise IndexEmptyError("collection 'legal' (/srv/footnote/data)")

    async with running_bot(monkeypatch, tmp_path, service=FakeService(reply=reply)) as env:
        await env.fake.say(CHANNELS[0], "contract terms?", mention_bot=True)
        inter = await env.fake.slash("ask", {"question": "renewals?"})
        texts = await env.fake.wait_until(
            lambda: len(env.fake.bot_messages()) >= 2 and [m["content"] for m in env.fake.bot_messages()]
        )
    told = "This channel's documents aren't indexed yet — an admin has been told."
    assert told in texts and inter.followups[0]["content"] == told and inter.followups[0]["flags"] & 64
    assert not [r for r in env.fake.payloads_with_text() if "/srv/" in str(r.json)]
    logged = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("/srv/footnote/data" in line and "operator" in line for line in logged)


async def test_thread_names_are_readable_plain_text(env: Env) -> None:
    raw = (
        "```py\nprint('x')\n``` @everyone <@&123> why is ||the secret|| "
        "**[deploy](https://wiki.example.com/a_b)** slow?"
    )
    q = await env.fake.say(CHANNELS[0], raw, mention_bot=True)
    await env.fake.wait_until(lambda: answers(env, int(q["id"])))
    assert env.fake.threads[int(q["id"])]["name"] == "print('x') why is the secret deploy slow?"


@pytest.mark.parametrize("question", ["", "x" * 2001])
async def test_no_thread_for_a_question_refused_before_answering(env: Env, question: str) -> None:
    await env.fake.say(CHANNELS[0], question, mention_bot=True)
    [notice] = await env.fake.wait_until(lambda: env.fake.bot_messages(CHANNELS[0]))
    assert not env.fake.threads and not env.service.calls
    assert ("Ask me a question" if not question else "too long (2,001 characters; the limit is 2,000)") in notice[
        "content"
    ]


async def test_rate_limit_notice_once_per_window_and_deleted_later(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async with running_bot(monkeypatch, tmp_path, discord_rate_per_minute=1, notice_ttl=0.2) as env:
        fake = env.fake
        for i in range(4):
            await fake.say(CHANNELS[0], f"question {i}", mention_bot=True)
        await fake.wait_until(lambda: answers(env))
        await fake.wait_until(lambda: fake.deleted_messages)
        posted = [r.json["content"] for r in fake.find("POST", rf"/channels/{CHANNELS[0]}/messages")]
        assert len([p for p in posted if "faster than I can keep up" in p]) == 1  # one notice for three refusals
        assert not [m for m in fake.bot_messages(CHANNELS[0]) if "faster" in m["content"]]  # and it was removed
        inter = await fake.slash("ask", {"question": "again"})  # slash notices: ephemeral, every time
        await fake.wait_until(lambda: inter.callbacks)
        assert inter.callbacks[0]["data"]["flags"] == 64 and "faster" in inter.callbacks[0]["data"]["content"]


async def test_slash_ask_in_a_dm_with_an_allowlist_says_where_to_ask(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async with running_bot(monkeypatch, tmp_path, discord_channel_allowlist=[CHANNELS[1]]) as env:
        inter = await env.fake.slash("ask", {"question": "dm?"}, dm=True, channel_id=DM_CHANNEL)
        await env.fake.wait_until(lambda: inter.callbacks)
        data = inter.callbacks[0]["data"]
        assert (
            data["flags"] == 64
            and data["content"] == f"I only answer in the team's channels here: ask me in <#{CHANNELS[1]}>."
        )


async def test_no_permission_to_post_in_the_new_thread_is_explained_in_the_channel(env: Env) -> None:
    env.fake.fail("POST", r"/channels/\d+/messages", 403, times=1)  # the first post: in the new thread
    q = await env.fake.say(CHANNELS[0], "how do we deploy?", mention_bot=True)
    [note] = await env.fake.wait_until(lambda: env.fake.bot_messages(CHANNELS[0]))
    assert note["content"] == "I can't post answers in this channel (missing permission) — an admin has been told."
    assert note["type"] == 19  # a reply to the question
    await env.fake.wait_until(lambda: env.fake.deleted_channels)
    assert env.fake.deleted_channels == [int(q["id"])]  # the empty thread is removed
