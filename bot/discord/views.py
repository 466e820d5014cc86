"""Buttons under an answer (Sources, 👍, 👎, Export, "Still need help?") and the "why?" modal.

The buttons are `DynamicItem`s whose custom_id carries the answer's row id in the feedback store, so they
keep working after a restart (register them with `Client.add_dynamic_items(*PERSISTENT_ITEMS)`); everything
they show comes from SQLite, nothing from memory.

The modal is stateless too: discord.py keys live modals by custom_id alone, in memory, so two users' modals
for one answer would collide and a modal open across a restart would be lost. Instead its custom_id names the
answer and the user (`footnote:why:{qid}:{user}`), its input has a fixed id, it is never registered, and
`cogs/feedback.py` answers every submit from the custom_id alone (`parse_reason_submit`).
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Protocol, Self, cast

import discord
from discord import ui

from bot.answer import Answer, AnswerMode
from bot.discord.render import render_sources
from bot.discord.texts import GONE
from bot.feedback import FeedbackStore, StoredAnswer

log = logging.getLogger(__name__)
REASON_INPUT_ID = "footnote:why:reason"
_WHY_RE = re.compile(r"footnote:why:(?P<qid>[0-9]+)(?::(?P<user>[0-9]+))?$")


class ViewHost(Protocol):
    """What the buttons need from the bot (implemented by `bot.discord.app.FootnoteBot`)."""

    feedback_store: FeedbackStore

    async def report_interaction_error(self, interaction: discord.Interaction[Any], exc: BaseException) -> None: ...

    async def escalate(self, interaction: discord.Interaction[Any], qid: int) -> None: ...


def _host(interaction: discord.Interaction[Any]) -> ViewHost:
    return cast(ViewHost, interaction.client)


async def _deny(interaction: discord.Interaction[Any], text: str) -> bool:
    # interaction_check returning False sends nothing: answer here or the user sees "interaction failed".
    await interaction.response.send_message(text, ephemeral=True)
    return False


class _StoredAnswerButton(ui.DynamicItem[ui.Button[Any]], template=r"footnote:stored:(?P<qid>[0-9]+)"):
    """A button that shows something of one stored answer: the answer is loaded in `interaction_check` (the store
    call off the event loop), a user pressing it on a forgotten answer is told so, and `respond` does the rest.
    Subclasses set their own template, `prefix`, `label` and `emoji`; this base is never registered."""

    prefix: ClassVar[str]
    label: ClassVar[str]
    emoji: ClassVar[str]

    def __init__(self, qid: int) -> None:
        super().__init__(
            ui.Button(
                label=self.label,
                emoji=self.emoji,
                style=discord.ButtonStyle.secondary,
                custom_id=f"footnote:{self.prefix}:{qid}",
            )
        )
        self.qid = qid
        self._stored: StoredAnswer | None = None

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: ui.Item[Any], match: re.Match[str], /
    ) -> Self:
        return cls(int(match["qid"]))

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        self._stored = await asyncio.to_thread(_host(interaction).feedback_store.get_answer, self.qid)
        return True if self._stored is not None else await _deny(interaction, GONE)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            assert self._stored is not None  # set by interaction_check
            await self.respond(interaction, self._stored)
        except Exception as exc:
            await _host(interaction).report_interaction_error(interaction, exc)

    async def respond(self, interaction: discord.Interaction[Any], stored: StoredAnswer) -> None:
        raise NotImplementedError


class SourcesButton(_StoredAnswerButton, template=r"footnote:src:(?P<qid>[0-9]+)"):
    prefix, label, emoji = "src", "Sources", "📚"

    async def respond(self, interaction: discord.Interaction[Any], stored: StoredAnswer) -> None:
        first, *rest = render_sources(stored)
        await interaction.response.send_message(first, ephemeral=True)
        for part in rest:
            await interaction.followup.send(part, ephemeral=True)


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
        return await _deny(interaction, GONE)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        store = _host(interaction).feedback_store
        try:
            if self.vote == "down":
                # The modal must be the response (3 s budget), so open it first and record the vote after;
                # a user who dismisses the modal still leaves their 👎.
                await interaction.response.send_modal(reason_modal(self.qid, interaction.user.id))
                await asyncio.to_thread(store.record_vote, self.qid, interaction.user.id, -1)
            else:
                await asyncio.to_thread(store.record_vote, self.qid, interaction.user.id, 1)
                await interaction.response.send_message("Thanks for the feedback! 👍", ephemeral=True)
        except Exception as exc:
            await _host(interaction).report_interaction_error(interaction, exc)


class EscalateButton(ui.DynamicItem[ui.Button[Any]], template=r"footnote:help:(?P<qid>[0-9]+)"):
    """"Still need help?": asks the expert role in the answer's channel (see `FootnoteBot.escalate`)."""

    def __init__(self, qid: int) -> None:
        super().__init__(
            ui.Button(
                label="Still need help?",
                emoji="🙋",
                style=discord.ButtonStyle.secondary,
                custom_id=f"footnote:help:{qid}",
            )
        )
        self.qid = qid

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: ui.Item[Any], match: re.Match[str], /
    ) -> EscalateButton:
        return cls(int(match["qid"]))

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if await asyncio.to_thread(_host(interaction).feedback_store.exists, self.qid):
            return True
        return await _deny(interaction, GONE)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await _host(interaction).escalate(interaction, self.qid)
        except Exception as exc:
            await _host(interaction).report_interaction_error(interaction, exc)


class ExportButton(_StoredAnswerButton, template=r"footnote:md:(?P<qid>[0-9]+)"):
    """"Export": the answer as a Markdown document (footnotes, dates, full quotes) in a private `.md` file, the
    same document as `footnote ask --format markdown`, rebuilt from the feedback store."""

    prefix, label, emoji = "md", "Export", "📄"

    async def respond(self, interaction: discord.Interaction[Any], stored: StoredAnswer) -> None:
        document = export_markdown(stored)
        file = discord.File(io.BytesIO(document.encode("utf-8")), filename=f"footnote-answer-{self.qid}.md")
        await interaction.response.send_message(EXPORT_NOTE, file=file, ephemeral=True)


EXPORT_NOTE = "📄 This answer as Markdown, with every footnote's source, date and full quote."


def export_markdown(stored: StoredAnswer) -> str:
    """The stored answer as the Markdown document `footnote ask --format markdown` writes."""
    from bot.answering.markdown_export import to_markdown  # the frontend loads the core's exporter on use

    answer = Answer(
        question=stored.question,
        text=stored.answer,
        citations=stored.citations,
        mode=cast(AnswerMode, stored.mode),
        refused=stored.refused,
        nearest_sources=stored.nearest_sources,
    )
    return to_markdown(answer)


def reason_modal(qid: int, user_id: int) -> ui.Modal:
    """The "why?" modal for one user's 👎 on answer `qid`: rendered only, never registered (module docstring)."""
    modal = ui.Modal(title="What was wrong with this answer?", custom_id=f"footnote:why:{qid}:{user_id}", timeout=None)
    reason: ui.TextInput[ui.Modal] = ui.TextInput(
        custom_id=REASON_INPUT_ID,
        style=discord.TextStyle.paragraph,
        required=False,
        max_length=1000,
        placeholder="e.g. wrong document, out of date, did not answer the question",
    )
    modal.add_item(ui.Label(text="Why? (optional)", component=reason))
    modal.stop()  # finished: `send_modal` does not keep it in memory; cogs/feedback.py answers the submit
    return modal


@dataclass(frozen=True)
class ReasonSubmit:
    qid: int
    reason: str | None


def parse_reason_submit(data: Mapping[str, Any]) -> ReasonSubmit | None:
    """A submitted "why?" modal from its interaction data (also the older `footnote:why:{qid}` modals, whose
    input had a random id: then its only input is the reason). None for any other modal."""
    m = _WHY_RE.match(str(data.get("custom_id", "")))
    if m is None:
        return None
    values: dict[str, str] = {}

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            if node.get("type") == 4 and "custom_id" in node:
                values[str(node["custom_id"])] = str(node.get("value") or "")
            for key in ("component", "components"):
                walk(node.get(key))
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(data.get("components"))
    text = values.get(REASON_INPUT_ID, next(iter(values.values()), "") if len(values) == 1 else "")
    return ReasonSubmit(int(m["qid"]), text.strip() or None)


PERSISTENT_ITEMS = (SourcesButton, VoteButton, EscalateButton, ExportButton)


def answer_view(qid: int, *, escalate: bool = False, export: bool = False) -> ui.View:
    """The buttons under an answer whose record has id `qid`; `escalate` adds "Still need help?", `export`
    the Markdown "Export"."""
    view = ui.View(timeout=None)
    view.add_item(SourcesButton(qid))
    view.add_item(VoteButton(qid, "up"))
    view.add_item(VoteButton(qid, "down"))
    if export:
        view.add_item(ExportButton(qid))
    if escalate:
        view.add_item(EscalateButton(qid))
    return view
