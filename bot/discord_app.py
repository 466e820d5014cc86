"""The Discord frontend: routes Discord events to an `AnswerService`. No retrieval logic here.

Entry points: `build_bot(...)` (tests, embedding) and `run_bot(settings, service, admin)` for
`footnote discord`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import math
import re
import signal
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any, Protocol, cast

import discord
from discord import app_commands

from bot.answer import AnswerService
from bot.discord_answering import (
    NO_MENTIONS,
    Answerer,
    AskRequest,
    ChannelSink,
    FollowupSink,
    send_private,
    typing,
)
from bot.discord_render import reindex_summary, stats_embed, status_embed
from bot.discord_views import PERSISTENT_ITEMS
from bot.feedback import FeedbackStore
from bot.rate_limit import EditThrottle, RateLimiter
from index.errors import ConfigError, FootnoteError
from index.settings import Settings

log = logging.getLogger(__name__)
_HELP = "Ask me a question about the team's documents, e.g. `@Footnote how do we deploy?`"


class AdminOps(Protocol):
    """Admin operations behind /status and /reindex (implemented over the ingest code by the CLI)."""

    def status(self) -> dict[str, Any]:
        """documents, chunks, embedding model, last ingest, data dir."""
        ...

    def reindex(self, progress: Callable[[str], None]) -> dict[str, Any]:
        """Re-ingest the corpus, calling `progress(line)` from its worker thread; returns summary counts."""
        ...


class _Tree(app_commands.CommandTree[Any]):
    async def on_error(self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError) -> None:
        bot = interaction.client
        assert isinstance(bot, FootnoteBot)
        exc = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        await bot.report_interaction_error(interaction, exc)


class FootnoteBot(discord.Client):
    def __init__(
        self,
        settings: Settings,
        service: AnswerService,
        admin: AdminOps,
        feedback_store: FeedbackStore,
        *,
        guild_ready_timeout: float = 2.0,
        edit_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sync_commands: bool = True,
    ) -> None:
        intents = discord.Intents.default()
        intents.message_content = True  # privileged: needed to read @mention questions and thread follow-ups
        super().__init__(intents=intents, allowed_mentions=NO_MENTIONS, guild_ready_timeout=guild_ready_timeout)
        self.settings, self.service, self.admin, self.feedback_store = (
            settings,
            service,
            admin,
            feedback_store,
        )
        self.edit_interval, self.clock, self.sync_commands = edit_interval, clock, sync_commands
        self.answerer = Answerer(service, feedback_store, self.describe_error, edit_interval=edit_interval, clock=clock)
        self.rate_limiter = RateLimiter(settings.discord_rate_per_minute, clock=clock)
        self.tree = _Tree(self)
        self.closing = False
        self._my_threads: set[int] = set()
        self._reindex_lock = asyncio.Lock()
        self._register_commands()

    def _register_commands(self) -> None:
        @app_commands.command(name="ask", description="Ask a question about the team's documents")
        @app_commands.describe(question="Your question, in plain language", private="Only you see the answer")
        async def ask(interaction: discord.Interaction[Any], question: str, private: bool = False) -> None:
            await self.ask_command(interaction, question, private)

        @app_commands.command(name="status", description="Index status (admins)")
        async def status(interaction: discord.Interaction[Any]) -> None:
            if await self._admin_gate(interaction):
                info = await asyncio.to_thread(self.admin.status)
                await interaction.followup.send(embed=status_embed(info), ephemeral=True, allowed_mentions=NO_MENTIONS)

        @app_commands.command(name="stats", description="Questions, refusals and feedback (admins)")
        async def stats(interaction: discord.Interaction[Any]) -> None:
            if await self._admin_gate(interaction):
                data = await asyncio.to_thread(self.feedback_store.stats)
                await interaction.followup.send(embed=stats_embed(data), ephemeral=True, allowed_mentions=NO_MENTIONS)

        @app_commands.command(name="reindex", description="Re-ingest the document corpus (admins)")
        async def reindex(interaction: discord.Interaction[Any]) -> None:
            if await self._admin_gate(interaction):
                await self._reindex(interaction)

        self.tree.add_command(ask)
        # Hidden from non-managers by default; not when a role grants admin (its members could not see them).
        perms = None if self.settings.discord_admin_role else discord.Permissions(manage_guild=True)
        admin_commands: tuple[app_commands.Command[Any, ..., None], ...] = (status, stats, reindex)
        for cmd in admin_commands:
            cmd.default_permissions = perms
            cmd.guild_only = True
            cmd.allowed_contexts = app_commands.AppCommandContext(guild=True)
            self.tree.add_command(cmd)

    async def setup_hook(self) -> None:
        self.add_dynamic_items(*PERSISTENT_ITEMS)  # answer buttons keep working after a restart
        if self.sync_commands:
            try:
                await self.tree.sync()
            except discord.HTTPException as exc:
                log.warning("could not register slash commands (%s); @mentions and DMs still work", exc)

    async def on_ready(self) -> None:
        log.info("connected as %s to %d server(s)", self.user, len(self.guilds))

    # --- errors: the one place that turns exceptions into user text ------------------------------------
    def describe_error(self, exc: BaseException, **context: object) -> str:
        """User text for `exc`: Footnote's own errors are written for users; others get an id to quote."""
        if isinstance(exc, FootnoteError):
            return f"⚠️ {exc}"
        error_id = uuid.uuid4().hex[:8]
        log.error("unexpected error [%s] %s", error_id, context, exc_info=(type(exc), exc, exc.__traceback__))
        return f"Sorry, something went wrong (error id `{error_id}`). An admin can find it in the bot's log."

    async def report_interaction_error(self, interaction: discord.Interaction[Any], exc: BaseException) -> None:
        if isinstance(exc, app_commands.CheckFailure):
            text = "You can't use this command here."
        else:
            data: dict[str, Any] = dict(interaction.data or {})
            what = interaction.command.name if interaction.command else data.get("custom_id")
            text = self.describe_error(exc, interaction=what, user=interaction.user.id, channel=interaction.channel_id)
        await send_private(interaction, text)

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        exc = sys.exc_info()[1]
        if exc is not None:
            self.describe_error(exc, event=event_method)

    # --- routing ---------------------------------------------------------------------------------------
    def _allowed(self, home_channel_id: int | None) -> bool:
        allow = self.settings.discord_channel_allowlist
        return not allow or home_channel_id in allow  # DMs (None) only when there is no allowlist

    def _collection(self, home_channel_id: int | None) -> str | None:
        return self.settings.discord_channel_collections.get(home_channel_id) if home_channel_id else None

    def _mentions_me(self, message: discord.Message) -> bool:
        # Not ClientUser.mentioned_in: that is also true for @everyone, which must not summon the bot.
        role = message.guild.self_role if message.guild else None  # "@Footnote" may resolve to the bot's role
        me = self.user.id if self.user else 0
        return any(u.id == me for u in message.mentions) or (role is not None and role in message.role_mentions)

    def _strip_mentions(self, message: discord.Message) -> str:
        text = re.sub(rf"<@!?{self.user.id if self.user else 0}>", " ", message.content)
        role = message.guild.self_role if message.guild else None
        return (text.replace(role.mention, " ") if role else text).strip()

    def _is_my_thread(self, channel: object) -> bool:
        if not isinstance(channel, discord.Thread):
            return False
        return channel.id in self._my_threads or (self.user is not None and channel.owner_id == self.user.id)

    async def _maybe_mine(self, channel_id: int) -> bool:
        """A thread the bot answered in, even before a restart (the store remembers conversations)."""
        if channel_id in self._my_threads:
            return True
        if await asyncio.to_thread(self.feedback_store.has_conversation, str(channel_id)):
            self._my_threads.add(channel_id)
            return True
        return False

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or self.closing:
            return
        if message.type not in (discord.MessageType.default, discord.MessageType.reply):
            return
        channel: Any = message.channel
        home: int | None = None
        mentioned = True  # a DM is always addressed to the bot
        if message.guild is not None:
            mentioned = self._mentions_me(message)
            if isinstance(channel, discord.PartialMessageable) and (mentioned or await self._maybe_mine(channel.id)):
                try:  # not cached (e.g. a thread archived before a restart): look it up to learn its parent
                    channel = await self.fetch_channel(channel.id)
                except discord.HTTPException as exc:
                    log.warning("cannot resolve channel %s: %s", channel.id, exc)
                    return
            home = channel.parent_id if isinstance(channel, discord.Thread) else channel.id
            if not (mentioned or self._is_my_thread(channel)) or not self._allowed(home):
                return
        elif not self._allowed(None):
            return
        question = self._strip_mentions(message)
        if not question:  # e.g. only an attachment: explain when addressed, stay quiet in a thread
            notice = _HELP if mentioned else ""
        else:
            wait = self.rate_limiter.hit(message.author.id)
            notice = self._slow_down(wait) if wait else ""
        if notice or not question:
            with contextlib.suppress(discord.HTTPException):
                if notice:
                    await ChannelSink(channel, message).post(notice)
            return
        target, reference = channel, cast(discord.Message | None, message)
        conversation = str(channel.id) if home is None or isinstance(channel, discord.Thread) else None
        if conversation is None and self.settings.discord_threads and isinstance(channel, discord.TextChannel):
            try:
                target = await message.create_thread(name=_thread_name(question), auto_archive_duration=1440)
                self._my_threads.add(target.id)
                reference, conversation = None, str(target.id)
            except discord.HTTPException as exc:  # e.g. no Create Public Threads permission: answer inline
                log.warning("could not open a thread in channel %s (%s); answering in the channel", channel.id, exc)
        guild_id = message.guild.id if message.guild else None
        ask = AskRequest(question, message.author.id, guild_id, target.id, conversation, self._collection(home))
        async with typing(target):
            await self.answerer.run(ask, ChannelSink(target, reference))

    def _slow_down(self, wait: float) -> str:
        per = self.settings.discord_rate_per_minute
        return (
            f"⏳ You're asking faster than I can keep up ({per} question{'s' if per != 1 else ''} a minute). "
            f"Please ask again in {math.ceil(wait)} s — this one was not answered."
        )

    async def ask_command(self, interaction: discord.Interaction[Any], question: str, private: bool) -> None:
        channel = interaction.channel
        home = interaction.channel_id if interaction.guild_id else None
        if isinstance(channel, discord.Thread):
            home = channel.parent_id
        if not self._allowed(home):
            notice = "I'm not enabled in this channel."
        elif self.closing:
            notice = "I'm restarting; please ask again in a minute."
        elif not question.strip():
            notice = _HELP
        else:
            wait = self.rate_limiter.hit(interaction.user.id)
            notice = self._slow_down(wait) if wait else ""
        if notice:
            await send_private(interaction, notice)
            return
        await interaction.response.defer(ephemeral=private, thinking=True)
        in_conversation = home is None or self._is_my_thread(channel)  # a DM, or a thread the bot opened
        conversation = str(interaction.channel_id) if in_conversation and interaction.channel_id else None
        ask = AskRequest(
            question.strip(),
            interaction.user.id,
            interaction.guild_id,
            interaction.channel_id,
            conversation,
            self._collection(home),
        )
        await self.answerer.run(ask, FollowupSink(interaction, private))

    # --- admin -----------------------------------------------------------------------------------------
    def is_admin(self, interaction: discord.Interaction[Any]) -> bool:
        user = interaction.user
        if interaction.guild is None or not isinstance(user, discord.Member):
            return False
        # Only in a server the bot is in: the app's commands also work where it was added without the bot (or
        # user-installed), and being an admin *there* must not make anyone an admin of this bot's index.
        if self.get_guild(interaction.guild.id) is None:
            return False
        perms = interaction.permissions  # resolved by Discord for this member in this channel
        if perms.administrator or perms.manage_guild:
            return True
        role = self.settings.discord_admin_role
        return bool(role) and any(r.name == role or str(r.id) == role for r in user.roles)

    async def _admin_gate(self, interaction: discord.Interaction[Any]) -> bool:
        """Checked here, not only via default permissions: those are a UI default a server can override."""
        if not self.is_admin(interaction):
            name = interaction.command.name if interaction.command else "?"
            log.info("refused /%s for user %s", name, interaction.user.id)
            await send_private(interaction, "Only members with **Manage Server** or the bot's admin role can do that.")
            return False
        await interaction.response.defer(ephemeral=True, thinking=True)
        return True

    async def _reindex(self, interaction: discord.Interaction[Any]) -> None:
        if self._reindex_lock.locked():
            await interaction.followup.send(
                "A reindex is already running.", ephemeral=True, allowed_mentions=NO_MENTIONS
            )
            return
        async with self._reindex_lock:
            msg = await interaction.followup.send(
                "⏳ Reindexing…", ephemeral=True, wait=True, allowed_mentions=NO_MENTIONS
            )

            async def show(line: str) -> None:
                await msg.edit(content=f"⏳ Reindexing…\n{line[:1800]}", allowed_mentions=NO_MENTIONS)

            throttle: EditThrottle[str] = EditThrottle(show, interval=self.edit_interval, clock=self.clock)
            loop = asyncio.get_running_loop()

            def progress(line: str) -> None:  # called from the worker thread
                loop.call_soon_threadsafe(throttle.update, line)

            try:
                summary = await asyncio.to_thread(self.admin.reindex, progress)
            finally:
                await throttle.close()
            await asyncio.sleep(throttle.ready_in())
            await msg.edit(content=reindex_summary(summary), allowed_mentions=NO_MENTIONS)

    async def drain(self, grace: float) -> None:
        """Stop taking questions and give answers in progress up to `grace` seconds to finish."""
        self.closing = True
        await self.answerer.wait_idle(grace)


def _thread_name(question: str) -> str:
    name = " ".join(question.split())
    return (name[:97] + "…") if len(name) > 98 else (name or "Question")


def build_bot(
    settings: Settings,
    service: AnswerService,
    admin: AdminOps,
    feedback_store: FeedbackStore,
    *,
    guild_ready_timeout: float = 2.0,
    **options: Any,
) -> FootnoteBot:
    """The bot, not yet connected. `options`: edit_interval, clock, sync_commands (see FootnoteBot)."""
    return FootnoteBot(settings, service, admin, feedback_store, guild_ready_timeout=guild_ready_timeout, **options)


def _token(settings: Settings) -> str:
    token = settings.discord_token.get_secret_value().strip() if settings.discord_token else ""
    if not token:
        raise ConfigError(
            "DISCORD_TOKEN is not set. Create a bot in the Discord Developer Portal "
            "(Applications → your app → "
            "Bot → Reset Token) and put DISCORD_TOKEN=... in .env or the environment."
        )
    return token


async def arun_bot(
    settings: Settings,
    service: AnswerService,
    admin: AdminOps,
    feedback_store: FeedbackStore | None = None,
    *,
    shutdown_grace: float = 10.0,
    **options: Any,
) -> None:
    """Run until SIGINT/SIGTERM (then let answers in progress finish, `shutdown_grace` s max) or an error."""
    token = _token(settings)
    store = feedback_store or FeedbackStore.in_data_dir(settings.data_dir)
    bot = build_bot(settings, service, admin, store, **options)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows, or not the main thread
            loop.add_signal_handler(sig, stop.set)
    # Long-lived startup objects (imports, engine, models) need no garbage collection: freezing them keeps
    # full collections short (on a large heap they paused the event loop for 70-90 ms, measured).
    gc.collect()
    gc.freeze()
    runner = asyncio.create_task(bot.start(token), name="footnote-discord")
    stopper = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if stop.is_set():
            log.info("shutting down: finishing answers in progress")
            await bot.drain(shutdown_grace)
        await bot.close()
        await runner
    except discord.LoginFailure as exc:
        raise ConfigError(
            "Discord rejected DISCORD_TOKEN. Reset the token in the Developer Portal (your app → Bot → "
            "Reset Token) and update .env."
        ) from exc
    except discord.PrivilegedIntentsRequired as exc:
        raise ConfigError(
            "Discord refused the connection: the Message Content intent is not enabled. In the Developer "
            "Portal open your app → Bot → Privileged Gateway Intents, turn on MESSAGE CONTENT INTENT, save, "
            "and start `footnote discord` again."
        ) from exc
    finally:
        gc.unfreeze()
        stopper.cancel()
        if not bot.is_closed():
            await bot.close()
        for sig in signals:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
        if feedback_store is None:
            store.close()


def run_bot(
    settings: Settings, service: AnswerService, admin: AdminOps, feedback_store: FeedbackStore | None = None
) -> None:
    """Blocking entry point for `footnote discord`. Raises ConfigError/DataDirError with user-facing text."""
    _token(settings)  # fail before starting a loop
    if not logging.getLogger().handlers:
        discord.utils.setup_logging(level=logging.INFO)
    asyncio.run(arun_bot(settings, service, admin, feedback_store))
