"""Every way of asking: @mention (answered in a new thread), follow-ups in that thread, DMs, replies to an
answer anywhere, new posts in the forums set in FOOTNOTE_DISCORD_FORUMS, /ask, and the "Ask Footnote" message
context menu. Each goes through the same admission (admission.py) and the same delivery (delivery.py).

Conversations: a thread (the bot's, or a forum post) is one conversation; so is a DM channel. An answer given
inline in a channel (threads off, or not allowed) or to a public /ask starts its own conversation, keyed by the
question, so that replying to the answer continues it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import TYPE_CHECKING, Any, cast

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord import texts
from bot.discord.admission import Refusal, Where
from bot.discord.delivery import AskRequest, ChannelSink, FollowupSink, Outcome, send_private, typing

if TYPE_CHECKING:
    from bot.discord.app import FootnoteBot

log = logging.getLogger(__name__)


class AskingCog(commands.Cog, name="asking"):
    def __init__(self, bot: FootnoteBot) -> None:
        self.bot = bot
        self._my_threads: set[int] = set()
        self._forums = set(bot.settings.discord_forums)
        self.context_menu = app_commands.ContextMenu(name="Ask Footnote", callback=self.ask_about_message)

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.context_menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.context_menu.name, type=self.context_menu.type)

    # --- messages ----------------------------------------------------------------------------------------
    def _mentions_me(self, message: discord.Message) -> bool:
        # Not ClientUser.mentioned_in: that is also true for @everyone, which must not summon the bot.
        role = message.guild.self_role if message.guild else None  # "@Footnote" may resolve to the bot's role
        me = self.bot.user.id if self.bot.user else 0
        return any(u.id == me for u in message.mentions) or (role is not None and role in message.role_mentions)

    def _strip_mentions(self, message: discord.Message) -> str:
        text = re.sub(rf"<@!?{self.bot.user.id if self.bot.user else 0}>", " ", message.content)
        role = message.guild.self_role if message.guild else None
        return (text.replace(role.mention, " ") if role else text).strip()

    def _is_my_thread(self, channel: object) -> bool:
        if not isinstance(channel, discord.Thread):
            return False
        me = self.bot.user
        return channel.id in self._my_threads or (me is not None and channel.owner_id == me.id)

    async def _maybe_mine(self, channel_id: int) -> bool:
        """A thread the bot answered in, even before a restart (the store remembers conversations)."""
        if channel_id in self._my_threads:
            return True
        if await asyncio.to_thread(self.bot.feedback_store.has_conversation, str(channel_id)):
            self._my_threads.add(channel_id)
            return True
        return False

    async def _replied_conversation(self, message: discord.Message) -> str | None:
        """The conversation of the Footnote answer this message replies to, if it is a reply to one."""
        ref = message.reference
        if message.type is not discord.MessageType.reply or ref is None or ref.message_id is None:
            return None
        return await asyncio.to_thread(self.bot.feedback_store.conversation_of_message, ref.message_id)

    def _is_forum_post(self, message: discord.Message, channel: object) -> bool:
        # A forum post is a thread whose first message has the thread's id.
        return isinstance(channel, discord.Thread) and channel.parent_id in self._forums and message.id == channel.id

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or self.bot.closing:
            return
        if message.type not in (discord.MessageType.default, discord.MessageType.reply):
            return
        channel: Any = message.channel
        if message.guild is None:
            conversation = await self._replied_conversation(message) or str(channel.id)
            await self._ask_in(message, channel, Where(None, dm=True), conversation, addressed=True)
            return
        mentioned = self._mentions_me(message)
        replied = await self._replied_conversation(message)
        starter = message.id == channel.id  # maybe a forum post's first message
        if isinstance(channel, discord.PartialMessageable) and (
            mentioned or replied or starter or await self._maybe_mine(channel.id)
        ):
            try:  # not cached (e.g. a thread archived before a restart): look it up to learn its parent
                channel = await self.bot.fetch_channel(channel.id)
            except discord.HTTPException as exc:
                log.warning("cannot resolve channel %s: %s", channel.id, exc)
                return
        where = Where(channel.parent_id if isinstance(channel, discord.Thread) else channel.id, dm=False)
        if not self.bot.admission.allowed(where):
            return  # never speak in a channel the bot is not enabled in
        if self._is_forum_post(message, channel):
            self._my_threads.add(channel.id)
            question = f"{channel.name}\n{self._strip_mentions(message)}".strip()
            await self._ask_in(message, channel, where, str(channel.id), addressed=True, question=question)
        elif self._is_my_thread(channel):
            await self._ask_in(message, channel, where, str(channel.id), addressed=mentioned)
        elif replied:
            await self._ask_in(message, channel, where, replied, addressed=True)
        elif mentioned:
            if isinstance(channel, discord.Thread):  # someone else's thread: answer there, as one conversation
                await self._ask_in(message, channel, where, str(channel.id), addressed=True)
            else:
                await self._ask_in(message, channel, where, None, addressed=True, open_thread=True)

    async def _ask_in(
        self,
        message: discord.Message,
        channel: Any,
        where: Where,
        conversation: str | None,
        *,
        addressed: bool,
        question: str | None = None,
        open_thread: bool = False,
    ) -> None:
        """Admit and answer `message` in `channel`; `conversation` None: open a thread (or answer inline)."""
        question = self._strip_mentions(message) if question is None else question
        refusal = self.bot.admission.check(message.author.id, where, question)
        if refusal is not None:
            # Checked before a thread is opened: a refused question leaves no empty thread behind.
            if addressed or question.strip():
                await self._notify(ChannelSink(channel, message), message.author.id, refusal)
            return
        target, reference = channel, cast(discord.Message | None, message)
        thread: discord.Thread | None = None
        if open_thread and self.bot.settings.discord_threads and isinstance(channel, discord.TextChannel):
            try:
                thread = await message.create_thread(name=texts.thread_name(question), auto_archive_duration=1440)
                self._my_threads.add(thread.id)
                target, reference, conversation = thread, None, str(thread.id)
            except discord.HTTPException as exc:  # e.g. no Create Public Threads permission: answer inline
                log.warning("could not open a thread in channel %s (%s); answering in the channel", channel.id, exc)
        if conversation is None:  # inline in a channel: its own conversation, continued by replying to it
            conversation = f"{channel.id}:{message.id}"
        guild_id = message.guild.id if message.guild else None
        ask = AskRequest(
            question,
            message.author.id,
            guild_id,
            target.id,
            conversation,
            self.bot.admission.collection(where),
            escalate=self._escalates(message.guild),
            as_of=message.created_at.date(),  # "this week" means the week of the message
        )
        async with typing(target):
            outcome = await self.bot.answerer.run(ask, ChannelSink(target, reference))
        if outcome is Outcome.FORBIDDEN and thread is not None:
            await self._explain_empty_thread(message, thread)

    async def _explain_empty_thread(self, message: discord.Message, thread: discord.Thread) -> None:
        """Discord let us open the thread but not post in it: say so where the question was, drop the thread."""
        log.warning("no permission to post in thread %s of channel %s", thread.id, message.channel.id)
        try:
            await message.reply(texts.CANNOT_POST)
        except discord.HTTPException as exc:
            log.warning("could not explain the missing permission in channel %s: %s", message.channel.id, exc)
        with contextlib.suppress(discord.HTTPException):
            await thread.delete()

    async def _notify(self, sink: ChannelSink, user_id: int, refusal: Refusal) -> None:
        """A refusal in a channel. Rate-limit notices: one per user per window, removed after a while."""
        extra: dict[str, Any] = {}
        if refusal.rate_limited:
            if not self.bot.rate_limiter.should_notify(user_id):
                return
            extra["delete_after"] = self.bot.notice_ttl
        with contextlib.suppress(discord.HTTPException):
            await sink.post(refusal.text, **extra)

    def _escalates(self, guild: discord.Guild | None) -> bool:
        return self.bot.expert_role(guild) is not None

    # --- /ask and the context menu -----------------------------------------------------------------------
    def _where(self, interaction: discord.Interaction[Any]) -> Where:
        channel = interaction.channel
        if interaction.guild_id is None:
            return Where(None, dm=True)
        if isinstance(channel, discord.Thread):
            return Where(channel.parent_id, dm=False)
        return Where(interaction.channel_id, dm=False)

    @app_commands.command(name="ask", description="Ask a question about the team's documents")
    @app_commands.describe(question="Your question, in plain language", private="Only you see the answer")
    async def ask(self, interaction: discord.Interaction[Any], question: str, private: bool = False) -> None:
        await self._answer_interaction(interaction, question.strip(), private=private)

    async def ask_about_message(self, interaction: discord.Interaction[Any], message: discord.Message) -> None:
        """Right-click a message → Apps → "Ask Footnote": answers that message's text, privately."""
        question = message.clean_content.strip()
        if message.embeds and not question:  # e.g. a bot's message: ask about its embed's text
            embed = message.embeds[0]
            question = " ".join(p for p in (embed.title, embed.description) if p).strip()
        await self._answer_interaction(interaction, question, private=True)

    async def _answer_interaction(self, interaction: discord.Interaction[Any], question: str, *, private: bool) -> None:
        where = self._where(interaction)
        refusal = self.bot.admission.check(interaction.user.id, where, question)
        if refusal is not None:
            await send_private(interaction, refusal.text)  # slash notices are ephemeral: nobody else sees them
            return
        await interaction.response.defer(ephemeral=private, thinking=True)
        channel_id = interaction.channel_id
        if private:
            conversation = None  # nobody can reply to a message only its asker sees
        elif where.dm or self._is_my_thread(interaction.channel):
            conversation = str(channel_id)
        else:
            conversation = f"{channel_id}:{interaction.id}"
        ask = AskRequest(
            question,
            interaction.user.id,
            interaction.guild_id,
            channel_id,
            conversation,
            self.bot.admission.collection(where),
            escalate=not private and self._escalates(interaction.guild),
            as_of=interaction.created_at.date(),
        )
        await self.bot.answerer.run(ask, FollowupSink(interaction, private))
