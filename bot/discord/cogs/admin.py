"""/status, /stats and /reindex for admins.

Who counts as an admin is checked server-side on every call (`app_commands.check`): `default_permissions`
only hides the commands in Discord's UI, a server can override it, and any client can send an interaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord import texts
from bot.discord.rate_limit import EditThrottle
from bot.discord.render import progress_line, reindex_summary, stats_embed, status_embed

if TYPE_CHECKING:
    from bot.discord.app import FootnoteBot

log = logging.getLogger(__name__)


class NotAdmin(app_commands.CheckFailure):
    """Raised by the admin check; its text is what the user sees."""

    def __init__(self) -> None:
        super().__init__(texts.NOT_ADMIN)


def _admins_only(interaction: discord.Interaction[Any]) -> bool:
    bot: FootnoteBot = interaction.client
    if not bot.is_admin(interaction):
        raise NotAdmin()
    return True


class AdminCog(commands.Cog, name="admin"):
    def __init__(self, bot: FootnoteBot) -> None:
        self.bot = bot
        self._reindex_lock = asyncio.Lock()
        if bot.settings.discord_admin_role:
            # Hidden from non-managers by default, but not when a role grants admin: its members could not see them.
            for cmd in self.walk_app_commands():
                if isinstance(cmd, app_commands.Command):
                    cmd.default_permissions = None

    @app_commands.command(name="status", description="Index status (admins)")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.check(_admins_only)
    async def status(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        info = await asyncio.to_thread(self.bot.admin.status)
        await interaction.followup.send(embed=status_embed(info), ephemeral=True)

    @app_commands.command(name="stats", description="Questions, refusals, feedback and escalations (admins)")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.check(_admins_only)
    async def stats(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        data = await asyncio.to_thread(self.bot.feedback_store.stats)
        await interaction.followup.send(embed=stats_embed(data), ephemeral=True)

    @app_commands.command(name="reindex", description="Re-ingest the document corpus (admins)")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.check(_admins_only)
    async def reindex(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        if self._reindex_lock.locked():
            await interaction.followup.send("A reindex is already running.", ephemeral=True)
            return
        async with self._reindex_lock:
            await self._reindex(interaction)

    async def _reindex(self, interaction: discord.Interaction[Any]) -> None:
        admin = self.bot.admin
        roots = [PurePath(r) for r in await asyncio.to_thread(_roots, admin)]
        msg: discord.WebhookMessage | None = None
        try:
            msg = await interaction.followup.send("⏳ Reindexing…", ephemeral=True, wait=True)
        except discord.HTTPException as exc:  # no progress display; the summary still comes at the end
            log.warning("could not post reindex progress: %s", exc)

        async def show(line: str) -> None:
            if msg is not None:
                await msg.edit(content=f"⏳ Reindexing…\n{progress_line(line, roots)[:1800]}")

        throttle: EditThrottle[str] = EditThrottle(show, interval=self.bot.edit_interval, clock=self.bot.clock)
        loop = asyncio.get_running_loop()

        def progress(line: str) -> None:  # called from the worker thread
            loop.call_soon_threadsafe(throttle.update, line)

        try:
            summary = await asyncio.to_thread(admin.reindex, progress)
        finally:
            await throttle.close()
        await asyncio.sleep(throttle.ready_in())
        await _report_done(interaction, msg, reindex_summary(summary, roots))


def _roots(admin: Any) -> list[Any]:
    try:
        return list(admin.roots())
    except Exception as exc:  # paths then show as file names only, which is still readable
        log.warning("could not read the ingest roots: %s", exc)
        return []


async def _report_done(interaction: discord.Interaction[Any], msg: discord.WebhookMessage | None, text: str) -> None:
    """The reindex finished: say so, even if the progress message cannot be edited any more."""
    if msg is not None:
        try:
            await msg.edit(content=text)
            return
        except discord.HTTPException as exc:
            log.warning("could not edit the reindex progress message (%s); sending the summary anew", exc)
            with contextlib.suppress(discord.HTTPException):
                await msg.delete()
    try:
        await interaction.followup.send(text, ephemeral=True)
    except discord.HTTPException as exc:  # the work is done; only the notice is lost
        log.warning("reindex finished but the summary could not be sent: %s", exc)
