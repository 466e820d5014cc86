"""Ways of asking added by issue 10, end to end through the fake gateway: forum posts, replies to an answer as
follow-ups, the "Ask Footnote" message context menu."""

from __future__ import annotations

# First: imports discord with its import-time `audioop` DeprecationWarning silenced (warnings are errors).
import tests.fakes.discord_gateway  # noqa: F401

# isort: split

from pathlib import Path
from typing import Any

import pytest

from tests.fakes.discord_gateway import ALICE, CHANNELS, FORUM_ID, user
from tests.fakes.discord_harness import Env, env, running_bot

__all__ = ["env"]
BOB = user(800000000000000002, "bob")


def answers(env: Env, channel_id: int | None = None) -> list[dict[str, Any]]:
    return [m for m in env.fake.bot_messages(channel_id) if m["embeds"]]


async def test_a_new_forum_post_is_answered_in_its_thread_and_follow_ups_continue(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async with running_bot(monkeypatch, tmp_path, discord_forums=[FORUM_ID]) as env:
        fake = env.fake
        post = await fake.forum_post("Deploy on Fridays?", "Is there a freeze before weekends?")
        tid = int(post["id"])
        [msg] = await fake.wait_until(lambda: answers(env, tid))
        assert msg["content"] == "Deploys go through CI [1]." and msg["components"]
        [call] = env.service.calls
        assert call.question == "Deploy on Fridays?\nIs there a freeze before weekends?"  # title + body
        assert call.conversation_id == str(tid)
        assert len(fake.threads) == 1  # answered in the post itself, no new thread
        await fake.say(tid, "and on holidays?", author=BOB)  # no mention needed in the post
        await fake.wait_until(lambda: len(answers(env, tid)) == 2)
        assert env.service.calls[1].history == [call.question]


async def test_forum_posts_outside_the_configured_forums_are_ignored(env: Env) -> None:
    await env.fake.forum_post("Unrelated", "chatter")
    await env.fake.say(CHANNELS[1], "ping", mention_bot=True)
    await env.fake.wait_until(lambda: answers(env))
    assert [c.question for c in env.service.calls] == ["ping"]


async def test_replying_to_an_inline_answer_continues_its_conversation(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async with running_bot(monkeypatch, tmp_path, discord_threads=False) as env:
        fake = env.fake
        q = await fake.say(CHANNELS[0], "how do we deploy?", mention_bot=True)
        [answer] = await fake.wait_until(lambda: answers(env, CHANNELS[0]))
        reply = await fake.say(CHANNELS[0], "and how do we roll back?", author=BOB, reply_to=answer)
        await fake.wait_until(lambda: len(answers(env, CHANNELS[0])) == 2)
        first, second = env.service.calls
        assert first.conversation_id == second.conversation_id == f"{CHANNELS[0]}:{q['id']}"
        assert second.history == ["how do we deploy?"]
        last = fake.find("POST", rf"/channels/{CHANNELS[0]}/messages")[-1].json
        assert last["message_reference"]["message_id"] == int(reply["id"]) and not fake.threads


async def test_replying_to_a_public_slash_answer_continues_it(env: Env) -> None:
    inter = await env.fake.slash("ask", {"question": "what is our SLA?"})
    [answer] = await env.fake.wait_until(lambda: inter.followups)
    await env.fake.say(CHANNELS[0], "and for enterprise?", reply_to=answer)
    await env.fake.wait_until(lambda: len(env.service.calls) == 2 and len(answers(env, CHANNELS[0])) == 2)
    assert env.service.calls[1].history == ["what is our SLA?"]
    assert not env.fake.threads  # a reply is answered where it was written


async def test_replying_to_other_messages_is_not_a_question(env: Env) -> None:
    chatter = await env.fake.say(CHANNELS[0], "lunch?")
    await env.fake.say(CHANNELS[0], "sure", author=BOB, reply_to=chatter)
    await env.fake.say(CHANNELS[1], "marker", mention_bot=True)
    await env.fake.wait_until(lambda: answers(env))
    assert [c.question for c in env.service.calls] == ["marker"]


async def test_ask_footnote_context_menu_answers_the_message_privately(env: Env) -> None:
    target = await env.fake.say(CHANNELS[0], "Does anyone know how we deploy?", author=BOB)
    inter = await env.fake.message_command("Ask Footnote", target, author=ALICE)
    await env.fake.wait_until(lambda: inter.followups)
    assert inter.callbacks[0] == {"type": 5, "data": {"flags": 64}}  # deferred, ephemeral
    [msg] = inter.followups
    assert msg["flags"] & 64 and msg["content"] == "Deploys go through CI [1]." and msg["embeds"]
    [call] = env.service.calls
    assert call.question == "Does anyone know how we deploy?" and call.conversation_id is None
    ids = [c["custom_id"] for row in msg["components"] for c in row["components"]]
    assert not [i for i in ids if i.startswith("footnote:help:")]  # never escalates a private answer


async def test_context_menu_respects_the_allowlist(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    async with running_bot(monkeypatch, tmp_path, discord_channel_allowlist=[CHANNELS[1]]) as env:
        target = await env.fake.say(CHANNELS[0], "how do we deploy?", author=BOB)
        inter = await env.fake.message_command("Ask Footnote", target)
        await env.fake.wait_until(lambda: inter.callbacks)
        assert inter.callbacks[0]["data"]["flags"] == 64
        assert "not enabled in this channel" in inter.callbacks[0]["data"]["content"]
        assert not env.service.calls
