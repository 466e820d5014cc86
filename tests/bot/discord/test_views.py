"""Sources, 👍 and 👎 (with its modal) under an answer: responses, SQLite rows, survival across restarts."""

from __future__ import annotations

# First: imports discord with its import-time `audioop` DeprecationWarning silenced (warnings are errors).
import tests.fakes.discord_gateway  # noqa: F401

# isort: split

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from bot.feedback import FeedbackStore
from tests.fakes.discord_gateway import ALICE, CHANNELS, FakeDiscord, user
from tests.fakes.discord_harness import Env, FakeService, citation, env, make_answer, running_bot

__all__ = ["env"]
BOB = user(800000000000000002, "bob")


async def ask(env: Env, question: str = "how do we deploy?") -> dict[str, Any]:
    q = await env.fake.say(CHANNELS[0], question, mention_bot=True)
    [msg] = await env.fake.wait_until(lambda: [m for m in env.fake.bot_messages(int(q["id"])) if m["components"]])
    return msg


def button(msg: dict[str, Any], prefix: str) -> str:
    return next(
        c["custom_id"] for row in msg["components"] for c in row["components"] if c["custom_id"].startswith(prefix)
    )


def rows(store: FeedbackStore, sql: str) -> list[tuple]:
    with sqlite3.connect(store.path) as db:
        return db.execute(sql).fetchall()


async def test_each_answer_is_recorded(env: Env) -> None:
    msg = await ask(env)
    qid = int(button(msg, "footnote:src:").rsplit(":", 1)[1])
    assert rows(env.store, "SELECT id, question, answer, mode, refused, user_id, conversation_id FROM questions") == [
        (
            qid,
            "how do we deploy?",
            "Deploys go through CI [1].",
            "llm",
            0,
            int(ALICE["id"]),
            msg["channel_id"],
        )
    ]
    assert rows(env.store, "SELECT n, title, quote, kind FROM citations") == [
        (1, "Runbook 1", "Deploys go through CI.", "cited")
    ]


async def test_sources_button_shows_full_passages_privately(env: Env) -> None:
    msg = await ask(env)
    inter = await env.fake.click(msg, button(msg, "footnote:src:"), author=BOB)
    await env.fake.wait_until(lambda: inter.callbacks)
    [cb] = inter.callbacks
    assert cb["type"] == 4 and cb["data"]["flags"] == 64
    content = cb["data"]["content"]
    assert "**[1] Runbook 1**" in content and "<https://wiki.example.com/runbook/1>" in content
    assert "> Intro. **Deploys go through CI.** Rollbacks use the previous tag." in content
    assert cb["data"]["allowed_mentions"] == {"parse": []}


async def test_sources_for_many_long_passages_span_several_private_messages(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cits = [citation(i, context="lorem ipsum " * 200, quote="lorem ipsum") for i in range(1, 6)]
    service = FakeService(reply=lambda q: make_answer(q, citations=cits))
    async with running_bot(monkeypatch, tmp_path, service=service) as env:
        msg = await ask(env)
        inter = await env.fake.click(msg, button(msg, "footnote:src:"))
        await env.fake.wait_until(lambda: inter.callbacks and len(inter.followups) >= 2)
        parts = [inter.callbacks[0]["data"]["content"]] + [m["content"] for m in inter.followups]
        assert all(len(p) <= 2000 for p in parts)
        assert all(m["flags"] & 64 for m in inter.followups)
        assert all(f"[{i}]" in "".join(parts) for i in range(1, 6))


async def test_thumbs_up_is_stored(env: Env) -> None:
    msg = await ask(env)
    inter = await env.fake.click(msg, button(msg, "footnote:vote:up:"), author=BOB)
    await env.fake.wait_until(lambda: inter.callbacks)
    assert inter.callbacks[0]["data"]["flags"] == 64 and "Thanks" in inter.callbacks[0]["data"]["content"]
    assert rows(env.store, "SELECT user_id, vote, reason FROM feedback") == [(int(BOB["id"]), 1, None)]


async def test_thumbs_down_opens_a_modal_and_stores_the_reason(env: Env) -> None:
    msg = await ask(env)
    inter = await env.fake.click(msg, button(msg, "footnote:vote:down:"), author=BOB)
    await env.fake.wait_until(lambda: inter.callbacks)
    [cb] = inter.callbacks
    assert cb["type"] == 9 and cb["data"]["title"] == "What was wrong with this answer?"
    await env.fake.wait_until(lambda: rows(env.store, "SELECT vote FROM feedback") == [(-1,)])
    submit = await env.fake.submit_modal(inter, ["It cites the old runbook"], author=BOB)
    await env.fake.wait_until(lambda: submit.callbacks)
    assert submit.callbacks[0]["data"]["flags"] == 64
    assert rows(
        env.store,
        "SELECT q.question, q.answer, q.mode, q.refused, f.user_id, f.vote, f.reason "
        "FROM feedback f JOIN questions q ON q.id = f.question_id",
    ) == [
        (
            "how do we deploy?",
            "Deploys go through CI [1].",
            "llm",
            0,
            int(BOB["id"]),
            -1,
            "It cites the old runbook",
        )
    ]


async def test_buttons_keep_working_after_a_restart(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = FakeDiscord()
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    try:
        async with running_bot(monkeypatch, tmp_path, fake=fake, store=store) as env:
            msg = await ask(env)
        async with running_bot(monkeypatch, tmp_path, fake=fake, store=store) as env2:
            assert env2.bot is not env.bot
            inter = await fake.click(msg, button(msg, "footnote:vote:up:"))
            src = await fake.click(msg, button(msg, "footnote:src:"))
            await fake.wait_until(lambda: inter.callbacks and src.callbacks)
            assert "Runbook 1" in src.callbacks[0]["data"]["content"]
        assert rows(store, "SELECT vote FROM feedback") == [(1,)]
        assert len(fake.identifies) == 2  # a fresh process-like session, not a resume
    finally:
        await fake.close()
        store.close()


async def test_a_button_for_an_unknown_answer_says_so(env: Env) -> None:
    msg = await ask(env)
    forged = {
        **msg,
        "components": [
            {
                "type": 1,
                "components": [{"type": 2, "style": 2, "label": "Sources", "custom_id": "footnote:src:999999"}],
            }
        ],
    }
    inter = await env.fake.click(forged, "footnote:src:999999")
    await env.fake.wait_until(lambda: inter.callbacks)
    assert "no longer on record" in inter.callbacks[0]["data"]["content"]


async def test_refusal_sources_show_the_nearest_passages(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    service = FakeService(
        reply=lambda q: make_answer(
            q,
            text="I couldn't find this in the documents.",
            refused=True,
            citations=[],
            nearest_sources=[citation(3, title="VPN FAQ")],
        )
    )
    async with running_bot(monkeypatch, tmp_path, service=service) as env:
        msg = await ask(env, "vpn password?")
        assert msg["embeds"][0]["title"] == "Nearest sources"
        inter = await env.fake.click(msg, button(msg, "footnote:src:"))
        await env.fake.wait_until(lambda: inter.callbacks)
        assert "Nearest passages" in inter.callbacks[0]["data"]["content"]
        assert "VPN FAQ" in inter.callbacks[0]["data"]["content"]
