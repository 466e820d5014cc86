"""👎 reasons from several users and across restarts; "Still need help?" escalation to the expert role."""

from __future__ import annotations

# First: imports discord with its import-time `audioop` DeprecationWarning silenced (warnings are errors).
import tests.fakes.discord_gateway  # noqa: F401

# isort: split

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from bot.feedback import FeedbackStore
from tests.fakes.discord_gateway import ADMIN_ROLE_ID, ALICE, CHANNELS, FakeDiscord, user
from tests.fakes.discord_harness import Env, env, running_bot

__all__ = ["env"]
BOB = user(800000000000000002, "bob")
MANAGE_GUILD = str(1 << 5)


async def ask(env: Env, question: str = "how do we deploy?") -> dict[str, Any]:
    q = await env.fake.say(CHANNELS[0], question, mention_bot=True)
    [msg] = await env.fake.wait_until(lambda: [m for m in env.fake.bot_messages(int(q["id"])) if m["components"]])
    return msg


def button(msg: dict[str, Any], prefix: str) -> str:
    return next(
        c["custom_id"] for row in msg["components"] for c in row["components"] if c["custom_id"].startswith(prefix)
    )


def ids(msg: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for row in msg["components"] for c in row["components"]]


def reasons(store: FeedbackStore) -> list[tuple[int, int, str | None]]:
    with sqlite3.connect(store.path) as db:
        return db.execute("SELECT user_id, vote, reason FROM feedback ORDER BY user_id").fetchall()


async def test_two_users_reasons_on_the_same_answer_are_both_stored(env: Env) -> None:
    """Issue 10 bug 1: both modals were `footnote:why:{qid}` (discord.py keys modals by custom_id alone)."""
    msg = await ask(env)
    down = button(msg, "footnote:vote:down:")
    a = await env.fake.click(msg, down, author=ALICE)
    b = await env.fake.click(msg, down, author=BOB)
    await env.fake.wait_until(lambda: a.callbacks and b.callbacks)
    modal_a, modal_b = a.callbacks[0]["data"], b.callbacks[0]["data"]
    assert modal_a["custom_id"] != modal_b["custom_id"]  # unique per user ...
    input_ids = {m["components"][0]["component"]["custom_id"] for m in (modal_a, modal_b)}
    assert input_ids == {"footnote:why:reason"}  # ... inputs fixed
    sa = await env.fake.submit_modal(a, ["cites the old runbook"], author=ALICE)
    sb = await env.fake.submit_modal(b, ["did not answer"], author=BOB)
    await env.fake.wait_until(lambda: sa.callbacks and sb.callbacks)
    for s in (sa, sb):
        assert s.callbacks[0]["type"] == 4 and s.callbacks[0]["data"]["flags"] == 64
        assert "👎 noted" in s.callbacks[0]["data"]["content"]
    assert reasons(env.store) == [
        (int(ALICE["id"]), -1, "cites the old runbook"),
        (int(BOB["id"]), -1, "did not answer"),
    ]


async def test_a_reason_modal_open_across_a_restart_is_still_stored(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Issue 10 bug 2: the modal lived only in the old process's memory; the submit went unanswered."""
    fake = FakeDiscord()
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    try:
        async with running_bot(monkeypatch, tmp_path, fake=fake, store=store) as env:
            msg = await ask(env)
            opened = await fake.click(msg, button(msg, "footnote:vote:down:"), author=BOB)
            await fake.wait_until(lambda: opened.callbacks)
        async with running_bot(monkeypatch, tmp_path, fake=fake, store=store):
            submit = await fake.submit_modal(opened, ["stale numbers"], author=BOB)
            await fake.wait_until(lambda: submit.callbacks)
            assert "👎 noted" in submit.callbacks[0]["data"]["content"]
        assert reasons(store) == [(int(BOB["id"]), -1, "stale numbers")]
    finally:
        await fake.close()
        store.close()


async def test_a_modal_from_before_the_fix_is_handled_too(env: Env) -> None:
    # Modals opened by the previous release: `footnote:why:{qid}`, one input with a random id.
    msg = await ask(env)
    qid = int(button(msg, "footnote:src:").rsplit(":", 1)[1])
    opened = await env.fake.click(msg, button(msg, "footnote:vote:up:"), author=BOB)
    await env.fake.wait_until(lambda: opened.callbacks)
    opened.callbacks.append(
        {
            "type": 9,
            "data": {
                "custom_id": f"footnote:why:{qid}",
                "components": [{"type": 18, "component": {"type": 4, "custom_id": "5f0c2a9e"}}],
            },
        }
    )
    submit = await env.fake.submit_modal(opened, ["old modal reason"], author=BOB)
    await env.fake.wait_until(lambda: submit.callbacks)
    assert reasons(env.store) == [(int(BOB["id"]), -1, "old modal reason")]


async def test_no_escalation_button_without_an_expert_role(env: Env) -> None:
    msg = await ask(env)
    assert not [i for i in ids(msg) if i.startswith("footnote:help:")]


async def test_escalation_pings_only_the_expert_role_once_and_counts_in_stats(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async with running_bot(monkeypatch, tmp_path, discord_expert_role=str(ADMIN_ROLE_ID)) as env:
        fake = env.fake
        msg = await ask(env, "who approves @everyone <@&123> deploys?")
        help_id = button(msg, "footnote:help:")
        inter = await fake.click(msg, help_id, author=BOB)
        await fake.wait_until(lambda: inter.followups)
        thread_id = int(msg["channel_id"])
        [call] = [m for m in fake.bot_messages(thread_id) if f"<@&{ADMIN_ROLE_ID}>" in m["content"]]
        [post] = [
            r for r in fake.find("POST", rf"/channels/{thread_id}/messages") if r.json["content"] == call["content"]
        ]
        # The only mention the bot ever enables: exactly this role, no users, no @everyone, no parsing.
        assert post.json["allowed_mentions"] == {"parse": [], "roles": [ADMIN_ROLE_ID]}
        assert call["content"].startswith(f"<@&{ADMIN_ROLE_ID}>: <@{BOB['id']}> still needs help with")
        assert "@\u200beveryone" in call["content"] or "@everyone" not in call["content"]
        assert inter.followups[0]["flags"] & 64 and "Footnote Admins" in inter.followups[0]["content"]

        again = await fake.click(msg, help_id, author=ALICE)
        await fake.wait_until(lambda: again.callbacks)
        assert "already asked" in again.callbacks[0]["data"]["content"]
        assert len([m for m in fake.bot_messages(thread_id) if "still needs help" in m["content"]]) == 1

        stats = await fake.slash("stats", permissions=MANAGE_GUILD)
        await fake.wait_until(lambda: stats.followups)
        fields = {f["name"]: f["value"] for f in stats.followups[0]["embeds"][0]["fields"]}
        assert fields["Escalations"] == "1 (100%)"
        with sqlite3.connect(env.store.path) as db:
            assert db.execute("SELECT user_id FROM escalations").fetchall() == [(int(BOB["id"]),)]
