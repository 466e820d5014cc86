"""Issue 10's new ways of asking over the REAL read path (build_engine over examples/corpus, the real feedback
store) through the fake gateway: a forum post, a reply to an answer as a follow-up, the "Ask Footnote" context
menu, and the expert escalation whose payload may mention only the expert role."""

from __future__ import annotations

# First: imports discord with its import-time `audioop` DeprecationWarning silenced (warnings are errors).
import tests.fakes.discord_gateway  # noqa: F401

# isort: split

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.bot.discord.test_real_engine import (
    ANSWER_TIMEOUT,
    KYRGYZ_FOLLOW_UP,
    TAJIK_DOC,
    TAJIK_Q,
    CorpusIndex,
    answers,
    button,
    corpus_index,
    real_bot,
)
from tests.fakes.discord_gateway import ADMIN_ROLE_ID, CHANNELS, FORUM_ID, user

__all__ = ["corpus_index"]
BOB = user(800000000000000002, "bob")


async def test_forum_post_reply_follow_up_context_menu_and_escalation(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, corpus_index: CorpusIndex, embedder: Any
) -> None:
    async with real_bot(
        monkeypatch,
        tmp_path,
        corpus_index,
        embedder,
        discord_forums=[FORUM_ID],
        discord_expert_role="Footnote Admins",
        discord_threads=False,
    ) as real:
        fake = real.fake
        # 1. a forum post: title + body are the question, answered in the post with real footnotes
        post = await fake.forum_post("Casualties", TAJIK_Q)
        tid = int(post["id"])
        [answer] = await fake.wait_until(lambda: answers(fake, tid), ANSWER_TIMEOUT)
        assert "41" in answer["content"] and any(f["name"].endswith(TAJIK_DOC) for f in answer["embeds"][0]["fields"])

        # 2. a reply to an inline channel answer continues that answer's conversation in the engine's history
        await fake.say(CHANNELS[0], TAJIK_Q, mention_bot=True)
        [inline] = await fake.wait_until(lambda: answers(fake, CHANNELS[0]), ANSWER_TIMEOUT)
        await fake.say(CHANNELS[0], KYRGYZ_FOLLOW_UP, author=BOB, reply_to=inline)
        await fake.wait_until(lambda: len(answers(fake, CHANNELS[0])) == 2, ANSWER_TIMEOUT)
        assert real.engine.history is not None
        with sqlite3.connect(real.env.store.path) as db:
            rows = db.execute(
                "SELECT question, conversation_id FROM questions WHERE channel_id = ? ORDER BY id", (CHANNELS[0],)
            ).fetchall()
        assert [q for q, _ in rows] == [TAJIK_Q, KYRGYZ_FOLLOW_UP] and rows[0][1] == rows[1][1]
        history = await asyncio.to_thread(real.engine.history.history, rows[0][1])
        assert [t.question for t in history] == [TAJIK_Q, KYRGYZ_FOLLOW_UP]
        assert history[1].rewritten and "Kyrgyz" in history[1].rewritten

        # 3. right-click → Ask Footnote on someone's message: a private answer
        target = await fake.say(CHANNELS[1], TAJIK_Q, author=BOB)
        menu = await fake.message_command("Ask Footnote", target)
        await fake.wait_until(lambda: menu.followups, ANSWER_TIMEOUT)
        assert menu.followups[0]["flags"] & 64 and "41" in menu.followups[0]["content"]

        # 4. "Still need help?" under the forum answer pings the expert role, and only it
        help_click = await fake.click(answer, button(answer, "footnote:help:"), author=BOB)
        await fake.wait_until(lambda: help_click.followups, ANSWER_TIMEOUT)
        [ping] = [r for r in fake.find("POST", rf"/channels/{tid}/messages") if "still needs help" in r.json["content"]]
        assert ping.json["allowed_mentions"] == {"parse": [], "roles": [ADMIN_ROLE_ID]}
