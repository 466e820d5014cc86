"""`footnote discord`: check the configuration, connect, run until SIGINT/SIGTERM, shut down gracefully.

Every way startup can fail becomes one `FootnoteError` whose text says what to do (the CLI prints it as one
line and exits non-zero): no token, a rejected token, the Message Content intent off, Discord unreachable, the
gateway closing the connection. Mapped collections that do not exist are warned about before connecting.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from typing import Any

import aiohttp
import discord

from bot.answer import AnswerService
from bot.discord.app import AdminOps, build_bot
from bot.feedback import FeedbackStore
from index.errors import ConfigError, FootnoteError
from index.settings import Settings

log = logging.getLogger(__name__)

BAD_TOKEN = (
    "Discord rejected DISCORD_TOKEN. Reset the token in the Developer Portal (your app → Bot → Reset Token) "
    "and update .env."
)
NO_INTENT = (
    "Discord refused the connection: the Message Content intent is not enabled. In the Developer Portal open "
    "your app → Bot → Privileged Gateway Intents, turn on MESSAGE CONTENT INTENT, save, and start "
    "`footnote discord` again."
)
# Gateway close codes that are about this bot's setup (https://discord.com/developers/docs/topics/opcodes-and-status-codes)
_CLOSE_CODES = {
    4004: BAD_TOKEN,
    4010: "Discord refused the connection: invalid shard settings.",
    4011: "Discord requires sharding for this bot (it is in too many servers); Footnote runs a single shard.",
    4012: "Discord refused the connection: unsupported gateway version. Upgrade discord.py.",
    4013: "Discord refused the connection: invalid gateway intents.",
    4014: NO_INTENT,
}


class DiscordUnavailableError(FootnoteError):
    """Discord could not be reached, or closed the connection, at startup."""


def check_token(settings: Settings) -> str:
    """The bot token, or a ConfigError saying how to get one. Cheap: call it before loading any model."""
    token = settings.discord_token.get_secret_value().strip() if settings.discord_token else ""
    if not token:
        raise ConfigError(
            "DISCORD_TOKEN is not set. Create a bot in the Discord Developer Portal (Applications → your app → "
            "Bot → Reset Token) and put DISCORD_TOKEN=... in .env or the environment."
        )
    return token


def missing_collections(settings: Settings, admin: AdminOps) -> list[tuple[int, str]]:
    """(channel, collection) pairs of FOOTNOTE_DISCORD_CHANNEL_COLLECTIONS whose collection has nothing indexed."""
    missing = []
    for channel, name in sorted(settings.discord_channel_collections.items()):
        try:
            chunks = int(admin.status(name).get("chunks") or 0)
        except Exception as exc:  # unreadable counts as missing: the operator should look either way
            log.debug("status of collection %r failed: %s", name, exc)
            chunks = 0
        if chunks == 0:
            missing.append((channel, name))
    return missing


def _startup_error(exc: BaseException) -> FootnoteError | None:
    """The user-facing error for a startup failure, None if `exc` is not one we know."""
    if isinstance(exc, discord.LoginFailure):
        return ConfigError(BAD_TOKEN)
    if isinstance(exc, discord.PrivilegedIntentsRequired):
        return ConfigError(NO_INTENT)
    if isinstance(exc, discord.ConnectionClosed):
        known = _CLOSE_CODES.get(exc.code or 0)
        if known is not None:
            return ConfigError(known)
        return DiscordUnavailableError(f"Discord closed the connection (code {exc.code}: {exc.reason or 'no reason'}).")
    if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ClientError | OSError | TimeoutError):
        return DiscordUnavailableError(
            f"Cannot reach Discord ({type(exc).__name__}: {exc}). Check the network, DNS and any proxy, "
            "then start `footnote discord` again."
        )
    if isinstance(exc, discord.HTTPException):
        return DiscordUnavailableError(f"Discord refused the login (HTTP {exc.status}: {exc.text or 'no detail'}).")
    return None


async def arun_bot(
    settings: Settings,
    service: AnswerService,
    admin: AdminOps,
    feedback_store: FeedbackStore | None = None,
    *,
    shutdown_grace: float = 10.0,
    on_bot: Any = None,
    **options: Any,
) -> None:
    """Run until SIGINT/SIGTERM (then let answers in progress finish, `shutdown_grace` s max) or an error."""
    token = check_token(settings)
    for channel, name in await asyncio.to_thread(missing_collections, settings, admin):
        log.warning(
            "channel %s is mapped to collection %r, which has nothing indexed: run `footnote ingest --collection "
            "%s PATH` (its users are told an admin has been notified)",
            channel,
            name,
            name,
        )
    store = feedback_store or FeedbackStore.in_data_dir(settings.data_dir)
    bot = build_bot(settings, service, admin, store, **options)
    if on_bot is not None:  # e.g. bot/ops/metrics.py: /healthz reads the gateway state
        on_bot(bot)
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
    except Exception as exc:
        mapped = _startup_error(exc)
        if mapped is None:
            raise
        raise mapped from exc
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


def quiet_voice_notices() -> None:
    """discord.py warns at startup that voice support libraries are missing; Footnote has no voice."""
    discord.VoiceClient.warn_nacl = False
    discord.VoiceClient.warn_dave = False


def run_bot(
    settings: Settings, service: AnswerService, admin: AdminOps, feedback_store: FeedbackStore | None = None,
    *, on_bot: Any = None,
) -> None:
    """Blocking entry point for `footnote discord`. Raises FootnoteError with user-facing text."""
    check_token(settings)  # fail before starting a loop
    quiet_voice_notices()
    if not logging.getLogger().handlers:
        discord.utils.setup_logging(level=logging.WARNING)
    # "Footnote connected as …" and the startup warnings show without -v; discord.py's own INFO stays hidden.
    bot_log = logging.getLogger("bot.discord")
    if bot_log.getEffectiveLevel() > logging.INFO:
        bot_log.setLevel(logging.INFO)
    asyncio.run(arun_bot(settings, service, admin, feedback_store, on_bot=on_bot))
