"""The Discord frontend: a `commands.Bot` whose cogs route Discord events to an `AnswerService`.

No retrieval logic here. The bot owns what every cog shares: settings, the service, admin operations, the
feedback store, admission (allowlist / rate limit / home channel), delivery, and the one place where
exceptions become user text (`describe_error`, `report_interaction_error`, the tree's and the client's
`on_error`). Startup and shutdown for `footnote discord` live in launch.py.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any, Protocol

import discord
from discord import app_commands
from discord.ext import commands

from bot.answer import AnswerService
from bot.discord import texts
from bot.discord.admission import Admission
from bot.discord.cogs.admin import AdminCog, NotAdmin
from bot.discord.cogs.asking import AskingCog
from bot.discord.cogs.feedback import FeedbackCog, escalate
from bot.discord.delivery import Answerer, send_private
from bot.discord.rate_limit import RateLimiter
from bot.discord.views import PERSISTENT_ITEMS
from bot.feedback import FeedbackStore
from index.errors import FootnoteError
from index.settings import Settings

log = logging.getLogger(__name__)
# The client's default for every message, edit and follow-up: text from documents, an LLM or a user must never
# ping anyone. The single exception is the expert escalation (cogs/feedback.py), which names one role explicitly.
NO_MENTIONS = discord.AllowedMentions.none()
# `describe_error` context keys that hold a user's question: at DEBUG only, never in warnings and errors.
USER_TEXT = ("question", "recording")


class AdminOps(Protocol):
    """Admin operations behind /status and /reindex (implemented over the ingest code by `index.admin`)."""

    def status(self, collection: str | None = None) -> dict[str, Any]:
        """documents, chunks, embedding model, last ingest, data dir."""
        ...

    def roots(self, collection: str | None = None) -> list[Any]:
        """The folders the last ingest was given (to show paths relative to them)."""
        ...

    def reindex(self, progress: Callable[[str], None]) -> dict[str, Any]:
        """Re-ingest the corpus, calling `progress(line)` from its worker thread; returns summary counts."""
        ...


class FootnoteTree(app_commands.CommandTree[Any]):
    async def on_error(self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError) -> None:
        bot = interaction.client
        assert isinstance(bot, FootnoteBot)
        exc = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        await bot.report_interaction_error(interaction, exc)


class FootnoteBot(commands.Bot):
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
        notice_ttl: float = 30.0,
    ) -> None:
        intents = discord.Intents.default()
        intents.message_content = True  # privileged: needed to read @mention questions and thread follow-ups
        super().__init__(
            command_prefix=commands.when_mentioned,  # unused: no text commands (see on_message)
            help_command=None,
            tree_cls=FootnoteTree,
            intents=intents,
            allowed_mentions=NO_MENTIONS,
            guild_ready_timeout=guild_ready_timeout,
        )
        self.settings, self.service, self.admin, self.feedback_store = settings, service, admin, feedback_store
        self.edit_interval, self.clock, self.sync_commands = edit_interval, clock, sync_commands
        self.notice_ttl = notice_ttl  # seconds before a rate-limit notice in a channel is deleted
        self.answerer = Answerer(service, feedback_store, self.describe_error, edit_interval=edit_interval, clock=clock)
        self.rate_limiter = RateLimiter(settings.discord_rate_per_minute, clock=clock)
        self.admission = Admission(settings, self.rate_limiter)

    @property
    def closing(self) -> bool:
        return self.admission.closing

    async def setup_hook(self) -> None:
        self.add_dynamic_items(*PERSISTENT_ITEMS)  # answer buttons keep working after a restart
        for cog in (AskingCog(self), AdminCog(self), FeedbackCog(self)):
            await self.add_cog(cog)
        if self.sync_commands:
            try:
                await self.tree.sync()
            except discord.HTTPException as exc:
                log.warning("could not register slash commands (%s); @mentions and DMs still work", exc)

    async def on_message(self, message: discord.Message, /) -> None:
        """No text commands: questions are handled by the asking cog's listener, not `process_commands`."""

    async def on_ready(self) -> None:
        try:
            info = await asyncio.to_thread(self.admin.status)
            index = f"; {int(info.get('documents') or 0):,} documents, {int(info.get('chunks') or 0):,} chunks"
        except Exception as exc:  # the bot still answers what it can; the log says why the count is missing
            log.warning("could not read the index status: %s", exc)
            index = "; index status unavailable"
        servers = len(self.guilds)
        log.info("Footnote connected as %s to %d server%s%s", self.user, servers, "" if servers == 1 else "s", index)

    # --- errors: the one place that turns exceptions into user text ------------------------------------
    def describe_error(self, exc: BaseException, **context: object) -> str:
        """User text for `exc`. Operator problems get a neutral text (detail to the log, never paths to users);
        Footnote's other errors are written for users; anything else gets an id to quote. What the user wrote
        (`USER_TEXT` keys of `context`) is logged at DEBUG only."""
        error_id = uuid.uuid4().hex[:8]
        said = {key: context.pop(key) for key in USER_TEXT if key in context}
        if said:
            log.debug("error [%s] concerns %s", error_id, said)
        operator = texts.operator_text(exc)
        if operator is not None:
            log.warning("operator action needed: %s (%s) [%s]", exc, context, error_id)
            return operator
        if isinstance(exc, FootnoteError):
            return f"⚠️ {exc}"
        log.error("unexpected error [%s] %s", error_id, context, exc_info=(type(exc), exc, exc.__traceback__))
        return f"Sorry, something went wrong (error id `{error_id}`). An admin can find it in the bot's log."

    async def report_interaction_error(self, interaction: discord.Interaction[Any], exc: BaseException) -> None:
        if isinstance(exc, app_commands.CommandNotFound):
            # A command renamed or removed since the user's client cached the list (or a forged one).
            log.info("unknown command %r from user %s", exc.name, interaction.user.id)
            if interaction.type is discord.InteractionType.autocomplete:
                if not interaction.response.is_done():
                    await interaction.response.autocomplete([])
                return
            await send_private(interaction, texts.COMMAND_CHANGED)
            return
        if isinstance(exc, NotAdmin):
            name = interaction.command.name if interaction.command else "?"
            log.info("refused /%s for user %s", name, interaction.user.id)
            text = str(exc)
        elif isinstance(exc, app_commands.CheckFailure):
            text = texts.NOT_HERE
        else:
            data: dict[str, Any] = dict(interaction.data or {})
            what = interaction.command.name if interaction.command else data.get("custom_id")
            text = self.describe_error(exc, interaction=what, user=interaction.user.id, channel=interaction.channel_id)
        if interaction.type is discord.InteractionType.autocomplete:
            return  # cannot show text there; describe_error logged it
        await send_private(interaction, text)

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        exc = sys.exc_info()[1]
        if exc is not None:
            self.describe_error(exc, event=event_method)

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

    # --- escalation (the "Still need help?" button) ------------------------------------------------------
    def expert_role(self, guild: discord.Guild | None) -> discord.Role | None:
        wanted = self.settings.discord_expert_role
        if not wanted or guild is None:
            return None
        return next((r for r in guild.roles if str(r.id) == wanted or r.name == wanted), None)

    async def escalate(self, interaction: discord.Interaction[Any], qid: int) -> None:
        await escalate(self, interaction, qid)

    async def drain(self, grace: float) -> None:
        """Stop taking questions and give answers in progress up to `grace` seconds to finish."""
        self.admission.closing = True
        await self.answerer.wait_idle(grace)


def build_bot(
    settings: Settings,
    service: AnswerService,
    admin: AdminOps,
    feedback_store: FeedbackStore,
    *,
    guild_ready_timeout: float = 2.0,
    **options: Any,
) -> FootnoteBot:
    """The bot, not yet connected. `options`: edit_interval, clock, sync_commands, notice_ttl (FootnoteBot)."""
    return FootnoteBot(settings, service, admin, feedback_store, guild_ready_timeout=guild_ready_timeout, **options)
