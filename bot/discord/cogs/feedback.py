"""Feedback that arrives outside a button callback: the 👎 "why?" modal's submits, and expert escalation.

The modal is never kept in memory (see views.py), so every submit, before or after a restart, is answered here
from its custom_id alone. Escalation ("Still need help?") posts one message that pings the expert role set in
FOOTNOTE_DISCORD_EXPERT_ROLE: the only message the bot ever sends with a mention enabled, and it names that
one role explicitly.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands
from discord.utils import escape_markdown, escape_mentions

from bot.discord import texts
from bot.discord.delivery import send_private
from bot.discord.views import parse_reason_submit

if TYPE_CHECKING:
    from bot.discord.app import FootnoteBot

log = logging.getLogger(__name__)
THANKS_DOWN = "Thanks — this helps us fix the documents or the bot. 👎 noted."


class FeedbackCog(commands.Cog, name="feedback"):
    def __init__(self, bot: FootnoteBot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        if interaction.type is not discord.InteractionType.modal_submit:
            return
        submit = parse_reason_submit(interaction.data or {})
        if submit is None:
            return
        try:
            store = self.bot.feedback_store
            if not await asyncio.to_thread(store.exists, submit.qid):
                await send_private(interaction, texts.GONE)
                return
            await asyncio.to_thread(store.record_vote, submit.qid, interaction.user.id, -1, submit.reason)
            await interaction.response.send_message(THANKS_DOWN, ephemeral=True)
        except Exception as exc:
            await self.bot.report_interaction_error(interaction, exc)


async def escalate(bot: FootnoteBot, interaction: discord.Interaction[Any], qid: int) -> None:
    """Ask the expert role for help with answer `qid`, once per answer, in the channel the answer is in."""
    role = bot.expert_role(interaction.guild)
    channel = interaction.channel
    if role is None or channel is None or not isinstance(channel, discord.abc.Messageable):
        await send_private(interaction, "No expert role is set up for this server, so I can't call anyone.")
        return
    store = bot.feedback_store
    stored = await asyncio.to_thread(store.get_answer, qid)
    if stored is None:
        await send_private(interaction, texts.GONE)
        return
    if not await asyncio.to_thread(store.record_escalation, qid, interaction.user.id):
        await send_private(interaction, "The experts were already asked about this answer.")
        return
    question = escape_mentions(escape_markdown(" ".join(stored.question.split())))[:300]
    text = (
        f"{role.mention}: {interaction.user.mention} still needs help with “{question}” — "
        "the answer above didn't settle it."
    )
    # The one mention the bot ever allows: this role, nobody else (not the user, not @everyone).
    only_the_role = discord.AllowedMentions(everyone=False, users=False, roles=[role], replied_user=False)
    await interaction.response.defer(ephemeral=True, thinking=True)
    try:
        await channel.send(text, allowed_mentions=only_the_role)
    except discord.HTTPException as exc:
        log.warning("could not post the escalation in channel %s: %s", interaction.channel_id, exc)
        await asyncio.to_thread(store.cancel_escalation, qid)
        await send_private(interaction, texts.CANNOT_POST)
        return
    log.info("answer %s escalated to role %s by user %s", qid, role.id, interaction.user.id)
    await interaction.followup.send(f"I've asked the {escape_markdown(role.name)} to help here.", ephemeral=True)
