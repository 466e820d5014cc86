"""Buttons under an answer (Sources, 👍, 👎) and the "why?" modal.

The buttons are `DynamicItem`s whose custom_id carries the answer's row id in the feedback store, so they
keep working after a restart (register them with `Client.add_dynamic_items(*PERSISTENT_ITEMS)`); everything
they show comes from SQLite, nothing from memory.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any, Literal, Protocol, cast

import discord
from discord import ui

from bot.discord_render import render_sources
from bot.feedback import FeedbackStore, StoredAnswer

log = logging.getLogger(__name__)
NO_MENTIONS = discord.AllowedMentions.none()
_GONE = "This answer is no longer on record, so its sources and feedback are unavailable."


class ViewHost(Protocol):
    """What the buttons need from the bot (implemented by `bot.discord_app.FootnoteBot`)."""

    feedback_store: FeedbackStore

    async def report_interaction_error(self, interaction: discord.Interaction[Any], exc: BaseException) -> None: ...


def _host(interaction: discord.Interaction[Any]) -> ViewHost:
    return cast(ViewHost, interaction.client)


async def _deny(interaction: discord.Interaction[Any], text: str) -> bool:
    # interaction_check returning False sends nothing: answer here or the user sees "interaction failed".
    await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
    return False


class SourcesButton(ui.DynamicItem[ui.Button[Any]], template=r"footnote:src:(?P<qid>[0-9]+)"):
    def __init__(self, qid: int) -> None:
        super().__init__(
            ui.Button(
                label="Sources",
                emoji="📚",
                style=discord.ButtonStyle.secondary,
                custom_id=f"footnote:src:{qid}",
            )
        )
        self.qid = qid
        self._stored: StoredAnswer | None = None

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: ui.Item[Any], match: re.Match[str], /
    ) -> SourcesButton:
        return cls(int(match["qid"]))

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        self._stored = await asyncio.to_thread(_host(interaction).feedback_store.get_answer, self.qid)
        return True if self._stored is not None else await _deny(interaction, _GONE)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            assert self._stored is not None  # set by interaction_check
            first, *rest = render_sources(self._stored)
            await interaction.response.send_message(first, ephemeral=True, allowed_mentions=NO_MENTIONS)
            for part in rest:
                await interaction.followup.send(part, ephemeral=True, allowed_mentions=NO_MENTIONS)
        except Exception as exc:
            await _host(interaction).report_interaction_error(interaction, exc)


class VoteButton(ui.DynamicItem[ui.Button[Any]], template=r"footnote:vote:(?P<vote>up|down):(?P<qid>[0-9]+)"):
    def __init__(self, qid: int, vote: Literal["up", "down"]) -> None:
        super().__init__(
            ui.Button(
                emoji="👍" if vote == "up" else "👎",
                style=discord.ButtonStyle.secondary,
                custom_id=f"footnote:vote:{vote}:{qid}",
            )
        )
        self.qid = qid
        self.vote: Literal["up", "down"] = vote

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: ui.Item[Any], match: re.Match[str], /
    ) -> VoteButton:
        return cls(int(match["qid"]), cast(Literal["up", "down"], match["vote"]))

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if await asyncio.to_thread(_host(interaction).feedback_store.exists, self.qid):
            return True
        return await _deny(interaction, _GONE)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        store = _host(interaction).feedback_store
        try:
            if self.vote == "down":
                # The modal must be the response (3 s budget), so open it first and record the vote after;
                # a user who dismisses the modal still leaves their 👎.
                await interaction.response.send_modal(FeedbackModal(self.qid))
                await asyncio.to_thread(store.record_vote, self.qid, interaction.user.id, -1)
            else:
                await asyncio.to_thread(store.record_vote, self.qid, interaction.user.id, 1)
                await interaction.response.send_message(
                    "Thanks for the feedback! 👍", ephemeral=True, allowed_mentions=NO_MENTIONS
                )
        except Exception as exc:
            await _host(interaction).report_interaction_error(interaction, exc)


class FeedbackModal(ui.Modal, title="What was wrong with this answer?"):
    def __init__(self, qid: int) -> None:
        super().__init__(custom_id=f"footnote:why:{qid}", timeout=900)
        self.qid = qid
        self.reason: ui.TextInput[FeedbackModal] = ui.TextInput(
            style=discord.TextStyle.paragraph,
            required=False,
            max_length=1000,
            placeholder="e.g. wrong document, out of date, did not answer the question",
        )
        self.add_item(ui.Label(text="Why? (optional)", component=self.reason))

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        store = _host(interaction).feedback_store
        reason = (self.reason.value or "").strip() or None
        await asyncio.to_thread(store.record_vote, self.qid, interaction.user.id, -1, reason)
        await interaction.response.send_message(
            "Thanks — this helps us fix the documents or the bot. 👎 noted.",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    async def on_error(  # type: ignore[override]  # Modal's signature, narrower than BaseView's
        self, interaction: discord.Interaction[Any], error: Exception, /
    ) -> None:
        await _host(interaction).report_interaction_error(interaction, error)


PERSISTENT_ITEMS = (SourcesButton, VoteButton)


def answer_view(qid: int) -> ui.View:
    """The buttons under an answer whose record has id `qid`."""
    view = ui.View(timeout=None)
    view.add_item(SourcesButton(qid))
    view.add_item(VoteButton(qid, "up"))
    view.add_item(VoteButton(qid, "down"))
    return view
