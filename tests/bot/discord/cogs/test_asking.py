"""The real discord.py bot against the loopback fake: asking by mention, DM, /ask, threads, scoping, limits,
streaming, splitting, mention safety, REST errors and gateway reconnects."""

from __future__ import annotations

# First: imports discord with its import-time `audioop` DeprecationWarning silenced (warnings are errors).
import tests.fakes.discord_gateway  # noqa: F401

# isort: split

import asyncio
import inspect
import logging
from itertools import pairwise
from pathlib import Path

import discord
import pytest

from bot.discord.app import NO_MENTIONS
from index.errors import QuestionError
from tests.fakes.discord_gateway import ALICE, BOT_ID, CHANNELS, TOKEN, FakeDiscord, user
from tests.fakes.discord_harness import AllLogs, Env, FakeService, citation, env, make_answer, running_bot

__all__ = ["env"]  # the fixture, imported for pytest
BOB = user(800000000000000002, "bob")
DM_CHANNEL = 700000000000000001


def answers(env: Env, channel_id: int | None = None) -> list[dict]:
    """Bot messages that carry an answer's footnote embed."""
    return [m for m in env.fake.bot_messages(channel_id) if m["embeds"]]


def test_canary_discord_internals_the_fake_relies_on() -> None:
    assert discord.__version__ == "2.7.1"
    assert discord.http.Route.BASE.startswith("https://discord.com/api/v10")
    assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY).startswith("wss://gateway.discord.gg")
    adapter = discord.webhook.async_.AsyncWebhookAdapter.create_interaction_response
    assert "with_response" in inspect.getsource(adapter)


async def test_identify_asks_for_message_content_and_client_silences_mentions(env: Env) -> None:
    intents = discord.Intents._from_value(int(env.fake.identifies[0]["intents"]))
    assert intents.message_content and intents.guilds and intents.dm_messages and not intents.members
    assert env.bot.allowed_mentions is not None
    assert env.bot.allowed_mentions.to_dict() == NO_MENTIONS.to_dict() == {"parse": []}


async def test_mention_opens_a_thread_and_answers_there(env: Env) -> None:
    fake = env.fake
    question = await fake.say(CHANNELS[0], "how do we deploy?", mention_bot=True)
    [msg] = await fake.wait_until(lambda: answers(env))
    thread_id = int(question["id"])
    assert int(msg["channel_id"]) == thread_id  # in the thread started from the question
    assert fake.threads[thread_id]["name"] == "how do we deploy?"
    assert msg["content"] == "Deploys go through CI [1]."
    assert msg["embeds"][0]["fields"][0]["name"] == "[1] Runbook 1"
    ids = [c["custom_id"] for row in msg["components"] for c in row["components"]]
    assert ids[0].startswith("footnote:src:") and ids[1].startswith("footnote:vote:up:")
    assert fake.find("POST", rf"/channels/{thread_id}/typing")
    [call] = env.service.calls
    assert (call.question, call.conversation_id, call.collection) == (
        "how do we deploy?",
        str(thread_id),
        None,
    )


async def test_follow_up_in_the_thread_needs_no_mention_and_keeps_history(env: Env) -> None:
    fake = env.fake
    question = await fake.say(CHANNELS[0], "how do we deploy?", mention_bot=True)
    thread_id = int(question["id"])
    await fake.wait_until(lambda: answers(env, thread_id))
    follow = await fake.say(thread_id, "and how do we roll back?", author=BOB)
    await fake.wait_until(lambda: len(answers(env, thread_id)) == 2)
    first, second = env.service.calls
    assert second.conversation_id == first.conversation_id == str(thread_id)
    assert second.history == ["how do we deploy?"]
    reply = answers(env, thread_id)[1]
    assert reply["type"] == 19  # a reply to the follow-up question
    assert fake.find("POST", rf"/channels/{thread_id}/messages")[-1].json["message_reference"]["message_id"] == int(
        follow["id"]
    )
    assert len(fake.threads) == 1  # no new thread for a follow-up


async def test_plain_messages_and_everyone_pings_are_ignored(env: Env) -> None:
    fake = env.fake
    await fake.say(CHANNELS[0], "lunch anyone?")
    await fake.say(CHANNELS[0], "@everyone standup in 5")
    await fake.say(CHANNELS[0], "who mentions the bot?", mention_bot=True)
    await fake.wait_until(lambda: answers(env))
    assert [c.question for c in env.service.calls] == ["who mentions the bot?"]


async def test_direct_message(env: Env) -> None:
    fake = env.fake
    await fake.say(DM_CHANNEL, "what is our SLA?", dm=True)
    [msg] = await fake.wait_until(lambda: answers(env, DM_CHANNEL))
    assert "guild_id" not in msg and not fake.threads
    await fake.say(DM_CHANNEL, "and for enterprise?", dm=True)
    await fake.wait_until(lambda: len(answers(env, DM_CHANNEL)) == 2)
    assert [c.conversation_id for c in env.service.calls] == [str(DM_CHANNEL)] * 2
    assert env.service.calls[1].history == ["what is our SLA?"]


@pytest.mark.parametrize("private", [False, True])
async def test_slash_ask(env: Env, private: bool) -> None:
    fake = env.fake
    inter = await fake.slash("ask", {"question": "how do we deploy?", "private": private})
    await fake.wait_until(lambda: inter.followups)
    defer = inter.callbacks[0]
    assert defer["type"] == 5  # deferred first: answering may take longer than Discord's 3 s
    assert bool((defer.get("data") or {}).get("flags", 0) & 64) is private
    [msg] = inter.followups
    assert bool(msg["flags"] & 64) is private
    assert msg["content"] == "Deploys go through CI [1]." and msg["embeds"] and msg["components"]
    # a public answer starts its own conversation (a reply to it continues it); nobody can reply to a private one
    expected = None if private else f"{CHANNELS[0]}:{inter.id}"
    assert env.service.calls[0].conversation_id == expected


async def test_threads_disabled_answers_inline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    async with running_bot(monkeypatch, tmp_path, discord_threads=False) as env:
        q = await env.fake.say(CHANNELS[0], "how do we deploy?", mention_bot=True)
        [msg] = await env.fake.wait_until(lambda: answers(env, CHANNELS[0]))
        assert msg["type"] == 19 and not env.fake.threads
        assert env.fake.find("POST", rf"/channels/{CHANNELS[0]}/messages")[0].json["message_reference"][
            "message_id"
        ] == int(q["id"])
        assert env.service.calls[0].conversation_id == f"{CHANNELS[0]}:{q['id']}"  # continued by replying


async def test_allowlist(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    async with running_bot(monkeypatch, tmp_path, discord_channel_allowlist=[CHANNELS[1]]) as env:
        fake = env.fake
        await fake.say(CHANNELS[0], "outside?", mention_bot=True)
        await fake.say(DM_CHANNEL, "dm?", dm=True)
        inter = await fake.slash("ask", {"question": "outside slash?"}, channel_id=CHANNELS[0])
        await fake.wait_until(lambda: inter.callbacks)
        assert inter.callbacks[0]["type"] == 4 and inter.callbacks[0]["data"]["flags"] == 64
        assert "not enabled in this channel" in inter.callbacks[0]["data"]["content"]
        q = await fake.say(CHANNELS[1], "inside?", mention_bot=True)
        await fake.wait_until(lambda: answers(env, int(q["id"])))
        await fake.say(int(q["id"]), "follow-up in the allowed channel's thread")
        await fake.wait_until(lambda: len(answers(env, int(q["id"]))) == 2)
        assert [c.question for c in env.service.calls] == [
            "inside?",
            "follow-up in the allowed channel's thread",
        ]
        assert not fake.find("POST", rf"/channels/{CHANNELS[0]}/.*")  # silent in a channel it is not enabled in
        # a DM is always addressed to the bot: it says where it does answer (a channel link, which never pings)
        [dm_reply] = fake.find("POST", rf"/channels/{DM_CHANNEL}/messages")
        assert dm_reply.json["content"] == f"I only answer in the team's channels here: ask me in <#{CHANNELS[1]}>."


async def test_channel_collection_scoping(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    async with running_bot(monkeypatch, tmp_path, discord_channel_collections={CHANNELS[0]: "legal"}) as env:
        fake = env.fake
        q = await fake.say(CHANNELS[0], "contract terms?", mention_bot=True)
        await fake.wait_until(lambda: answers(env))
        await fake.say(int(q["id"]), "and renewals?")  # the thread inherits its parent's collection
        await fake.slash("ask", {"question": "slash in legal"}, channel_id=CHANNELS[0])
        await fake.say(CHANNELS[1], "general question", mention_bot=True)
        await fake.wait_until(lambda: len([m for m in fake.messages.values() if m["embeds"]]) == 4)
        got = {c.question: c.collection for c in env.service.calls}
        assert got == {
            "contract terms?": "legal",
            "and renewals?": "legal",
            "slash in legal": "legal",
            "general question": None,
        }


async def test_rate_limit_is_polite_and_loses_nothing_silently(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    async with running_bot(monkeypatch, tmp_path, discord_rate_per_minute=2) as env:
        fake = env.fake
        for i in range(3):
            await fake.say(CHANNELS[0], f"question {i}", mention_bot=True)
        notice = await fake.wait_until(
            lambda: [m for m in fake.bot_messages(CHANNELS[0]) if "faster than I can keep up" in m["content"]]
        )
        assert "2 questions a minute" in notice[0]["content"] and "not answered" in notice[0]["content"]
        await fake.wait_until(lambda: len(answers(env)) == 2)
        inter = await fake.slash("ask", {"question": "one more"})
        await fake.wait_until(lambda: inter.callbacks)
        assert inter.callbacks[0]["data"]["flags"] == 64 and "ask again" in inter.callbacks[0]["data"]["content"]
        other = await fake.slash("ask", {"question": "bob is fine"}, author=BOB)
        await fake.wait_until(lambda: other.followups)
        assert len(env.service.calls) == 3


async def test_no_message_can_ping_anyone(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    evil = "@everyone @here <@&123> <@456> look"

    def reply(q: str):
        return make_answer(q, text=f"{evil} [1].", citations=[citation(1, quote=evil, title="@everyone")])

    service = FakeService(streams=True, reply=reply, deltas=[evil, " more"], delta_gap=0.02)
    async with running_bot(monkeypatch, tmp_path, service=service) as env:
        fake = env.fake
        await fake.say(CHANNELS[0], "ping?", mention_bot=True)
        await fake.say(CHANNELS[0], "", mention_bot=True)  # empty question: help text
        await fake.say(DM_CHANNEL, "dm ping?", dm=True)
        inter = await fake.slash("ask", {"question": "slash ping?"})
        await fake.wait_until(lambda: len([m for m in fake.messages.values() if m["embeds"]]) == 3)
        await fake.wait_until(
            lambda: (
                (inter.followups and inter.followups[0]["embeds"])
                or any(e[1].get("embeds") for e in fake.edits.get(int(inter.followups[0]["id"]), []))
            )
        )
        sent = fake.payloads_with_text()
        assert len(sent) >= 8
        for r in sent:
            body = r.json["data"] if r.path.endswith("/callback") else r.json
            assert body.get("allowed_mentions") == {"parse": []}, (r.method, r.path, body)
        assert any(evil in (r.json.get("content") or "") for r in sent if not r.path.endswith("/callback"))


async def test_thread_creation_forbidden_falls_back_to_a_reply(env: Env) -> None:
    env.fake.fail("POST", r"/channels/\d+/messages/\d+/threads", 403)
    q = await env.fake.say(CHANNELS[0], "how do we deploy?", mention_bot=True)
    [msg] = await env.fake.wait_until(lambda: answers(env, CHANNELS[0]))
    assert msg["type"] == 19 and not env.fake.threads
    assert env.service.calls[0].conversation_id == f"{CHANNELS[0]}:{q['id']}"
    assert env.fake.find("POST", rf"/channels/{CHANNELS[0]}/messages")[0].json["message_reference"][
        "message_id"
    ] == int(q["id"])


async def test_send_forbidden_is_logged_and_the_bot_carries_on(env: Env, caplog: pytest.LogCaptureFixture) -> None:
    env.fake.fail("POST", r"/channels/\d+/messages", 403)
    await env.fake.say(CHANNELS[0], "first", mention_bot=True)
    await env.fake.wait_until(lambda: any(r.status == 403 for r in env.fake.requests))
    await env.fake.say(CHANNELS[1], "second", mention_bot=True)
    [msg] = await env.fake.wait_until(lambda: answers(env))
    assert msg["content"] == "Deploys go through CI [1]."
    assert any("cannot answer in channel" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)


async def test_rate_limited_rest_call_is_retried(env: Env) -> None:
    env.fake.fail("POST", r"/channels/\d+/messages", 429, retry_after=0.05)
    await env.fake.say(CHANNELS[0], "how do we deploy?", mention_bot=True)
    [msg] = await env.fake.wait_until(lambda: answers(env))
    posts = env.fake.find("POST", rf"/channels/{msg['channel_id']}/messages")
    assert [p.status for p in posts] == [429, 200]
    assert posts[1].at - posts[0].at >= 0.045
    assert posts[0].json == posts[1].json


async def test_reconnect_resumes_the_session(env: Env) -> None:
    fake = env.fake
    await fake.say(CHANNELS[0], "before", mention_bot=True)
    await fake.wait_until(lambda: answers(env))
    await fake.reconnect()
    [resume] = fake.resumes
    assert resume["session_id"] == "session-1" and resume["seq"] >= 3 and resume["token"] == TOKEN
    assert len(fake.identifies) == 1  # resumed, not re-identified
    await fake.say(CHANNELS[1], "after", mention_bot=True)
    await fake.wait_until(lambda: len(answers(env)) == 2)


async def test_streaming_edits_are_throttled_and_end_with_the_verified_answer(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    deltas = [f"w{i} " for i in range(60)]  # ~0.6 s of streaming
    service = FakeService(
        streams=True,
        deltas=deltas,
        delta_gap=0.01,
        reply=lambda q: make_answer(q, text="Verified: deploys go through CI [1]."),
    )
    async with running_bot(monkeypatch, tmp_path, service=service, edit_interval=0.1) as env:
        fake = env.fake
        q = await fake.say(CHANNELS[0], "stream it", mention_bot=True)
        [msg] = await fake.wait_until(lambda: answers(env, int(q["id"])))
        [placeholder] = fake.find("POST", rf"/channels/{q['id']}/messages")
        assert "Searching" in placeholder.json["content"]
        edits = fake.edits[int(msg["id"])]
        times = [t for t, _ in edits]
        span = times[-1] - placeholder.at
        assert 3 <= len(edits) <= span / 0.1 + 2, (len(edits), span)
        assert min(b - a for a, b in pairwise(times)) >= 0.09  # ≤ 1 edit per interval
        assert all("writing" in body["content"] for _, body in edits[:-1])
        final = edits[-1][1]
        assert final["content"] == "Verified: deploys go through CI [1]." and final["embeds"] and final["components"]
        assert msg["content"] == final["content"]


async def test_streamed_slash_answer_edits_the_follow_up(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    service = FakeService(streams=True, delta_gap=0.02)
    async with running_bot(monkeypatch, tmp_path, service=service) as env:
        inter = await env.fake.slash("ask", {"question": "stream?", "private": True})
        await env.fake.wait_until(lambda: inter.followups and inter.followups[0]["embeds"])
        [msg] = inter.followups
        assert msg["flags"] & 64 and msg["content"] == "Deploys go through CI [1]."
        assert env.fake.find("PATCH", rf"/webhooks/\d+/{inter.token}/messages/{msg['id']}")


async def test_long_answers_are_split_with_footnotes_on_the_last_part(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    long_text = ("Deploys go through CI [1]. " * 60 + "\n\n```sh\n" + "make deploy\n" * 200 + "```\n") * 2
    service = FakeService(reply=lambda q: make_answer(q, text=long_text))
    async with running_bot(monkeypatch, tmp_path, service=service) as env:
        q = await env.fake.say(CHANNELS[0], "long one", mention_bot=True)
        await env.fake.wait_until(lambda: answers(env, int(q["id"])))
        msgs = env.fake.bot_messages(int(q["id"]))
        assert len(msgs) >= 3
        assert all(len(m["content"]) <= 2000 and m["content"].count("```") % 2 == 0 for m in msgs)
        assert [bool(m["embeds"]) for m in msgs] == [False] * (len(msgs) - 1) + [True]
        assert [bool(m["components"]) for m in msgs] == [False] * (len(msgs) - 1) + [True]


async def test_footnote_errors_are_friendly_and_unexpected_ones_get_an_id(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def reply(q: str):
        if q == "too long":
            raise QuestionError("That question is too long (max 2000 characters).")
        raise RuntimeError("engine exploded")

    async with running_bot(monkeypatch, tmp_path, service=FakeService(reply=reply)) as env:
        env.expected_errors.append("engine exploded")
        await env.fake.say(CHANNELS[0], "too long", mention_bot=True)
        await env.fake.say(CHANNELS[1], "boom", mention_bot=True)
        inter = await env.fake.slash("ask", {"question": "boom again"})
        texts = await env.fake.wait_until(
            lambda: len(env.fake.bot_messages()) >= 3 and [m["content"] for m in env.fake.bot_messages()]
        )
        assert any("⚠️ That question is too long" in t for t in texts)
        assert any("something went wrong (error id `" in t for t in texts)
        assert inter.deleted_original and inter.followups[0]["flags"] & 64
        assert "error id" in inter.followups[0]["content"]


async def test_the_token_never_reaches_the_logs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    logs = AllLogs()
    root = logging.getLogger()
    old = root.level
    root.addHandler(logs)
    root.setLevel(logging.DEBUG)
    try:
        async with running_bot(monkeypatch, tmp_path) as env:
            await env.fake.say(CHANNELS[0], "q", mention_bot=True)
            await env.fake.wait_until(lambda: answers(env))
    finally:
        root.removeHandler(logs)
        root.setLevel(old)
    assert len(logs.lines) > 20
    assert not [line for line in logs.lines if TOKEN in line]


async def test_bot_and_own_messages_are_ignored(env: Env) -> None:
    await env.fake.say(
        CHANNELS[0], f"<@{BOT_ID}> from another bot", author=user(1, "otherbot", bot=True), mention_bot=False
    )
    await env.fake.say(CHANNELS[0], "real", author=ALICE, mention_bot=True)
    await env.fake.wait_until(lambda: answers(env))
    assert [c.question for c in env.service.calls] == ["real"]


def test_fake_discord_defaults() -> None:
    assert FakeDiscord().allow_message_content


async def test_slash_ask_inside_a_bot_thread_continues_its_conversation(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async with running_bot(monkeypatch, tmp_path, discord_channel_collections={CHANNELS[0]: "legal"}) as env:
        q = await env.fake.say(CHANNELS[0], "contract terms?", mention_bot=True)
        thread_id = int(q["id"])
        await env.fake.wait_until(lambda: answers(env, thread_id))
        inter = await env.fake.slash("ask", {"question": "and renewals?"}, channel_id=thread_id)
        await env.fake.wait_until(lambda: inter.followups)
        second = env.service.calls[1]
        assert (second.conversation_id, second.collection, second.history) == (
            str(thread_id),
            "legal",
            ["contract terms?"],
        )


async def test_follow_up_in_a_thread_archived_before_a_restart(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from bot.feedback import FeedbackStore

    fake = FakeDiscord()
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    try:
        async with running_bot(monkeypatch, tmp_path, fake=fake, store=store) as env:
            q = await fake.say(CHANNELS[0], "how do we deploy?", mention_bot=True)
            thread_id = int(q["id"])
            await fake.wait_until(lambda: answers(env, thread_id))
        fake.archived.add(thread_id)  # not in the next GUILD_CREATE, so the new process has it uncached
        async with running_bot(monkeypatch, tmp_path, fake=fake, store=store) as env2:
            await fake.say(thread_id, "still there?")
            await fake.wait_until(lambda: len(answers(env2, thread_id)) == 2)
            assert fake.find("GET", rf"/channels/{thread_id}")
            assert env2.service.calls[0].conversation_id == str(thread_id)
            await fake.say(CHANNELS[1], "chatter in an unrelated channel")
            await fake.say(900000000000000999, "chatter in an unknown channel")
            await asyncio.sleep(0.1)
            assert len(env2.service.calls) == 1
    finally:
        await fake.close()
        store.close()


async def test_empty_messages_get_help_only_when_addressed(env: Env) -> None:
    q = await env.fake.say(CHANNELS[0], "how do we deploy?", mention_bot=True)
    thread_id = int(q["id"])
    await env.fake.wait_until(lambda: answers(env, thread_id))
    await env.fake.say(thread_id, "   ")  # e.g. an image alone in the bot's thread: ignored
    await env.fake.say(CHANNELS[1], "", mention_bot=True)
    [help_msg] = await env.fake.wait_until(lambda: env.fake.bot_messages(CHANNELS[1]))
    assert "Ask me a question" in help_msg["content"]
    assert len(env.fake.bot_messages(thread_id)) == 1 and len(env.service.calls) == 1
