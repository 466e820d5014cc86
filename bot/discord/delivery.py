"""Delivering one answer to Discord: ask the service (streaming or not), record it, post/edit the messages.

Where it goes is a "sink": channel messages (mention, DM, thread, reply, forum post) or interaction follow-ups
(/ask, the context menu). Mentions are off by the client's default `allowed_mentions` (see app.py), so no call
here passes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any, Protocol

import discord

from bot.answer import Answer, AnswerService, FinalAnswer, TextDelta
from bot.discord.rate_limit import EditThrottle
from bot.discord.render import PLACEHOLDER, render_answer, stream_preview
from bot.discord.views import answer_view
from bot.feedback import FeedbackStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AskRequest:
    question: str
    user_id: int
    guild_id: int | None
    channel_id: int | None
    conversation_id: str | None  # thread id in a thread, channel id in a DM, else one per question (replies)
    collection: str | None
    escalate: bool = False  # show "Still need help?" (public answers, when an expert role is set)
    as_of: date | None = None  # the day the question was asked (UTC): "this week", "latest" are relative to it


class Outcome(Enum):
    ANSWERED = "answered"
    FAILED = "failed"  # an error the user was told about
    FORBIDDEN = "forbidden"  # Discord refused our messages here: the caller may explain elsewhere


Editable = discord.Message  # a posted message we can edit: channel messages and (subclass) webhook follow-ups


class Sink(Protocol):
    async def post(self, content: str, **extra: Any) -> Editable: ...

    async def report(self, text: str, placeholder: Editable | None) -> None: ...


async def send_private(interaction: discord.Interaction[Any], text: str) -> None:
    """Tell the user something only they see, whatever state the interaction is in."""
    try:
        if not interaction.response.is_done():
            await interaction.response.send_message(text, ephemeral=True)
            return
        # After a public defer, the next follow-up would replace "thinking…" for everyone: remove it first.
        with contextlib.suppress(discord.HTTPException):
            await interaction.delete_original_response()
        await interaction.followup.send(text, ephemeral=True)
    except discord.HTTPException as exc:
        log.warning("could not send a private notice to user %s: %s", interaction.user.id, exc)


class ChannelSink:
    """Messages in a channel, thread or DM; the first one replies to `reference` when given."""

    def __init__(self, channel: discord.abc.Messageable, reference: discord.Message | None) -> None:
        self.channel, self.reference = channel, reference

    async def post(self, content: str, **extra: Any) -> Editable:
        if self.reference is not None:
            extra["reference"] = self.reference.to_reference(fail_if_not_exists=False)
            self.reference = None
        return await self.channel.send(content, **extra)

    async def report(self, text: str, placeholder: Editable | None) -> None:
        if placeholder is not None:
            try:
                await placeholder.edit(content=text, embeds=[], view=None)
                return
            except discord.HTTPException as exc:
                if isinstance(exc, discord.Forbidden):
                    raise
                log.warning("could not edit the placeholder (%s); posting the notice instead", exc)
        await self.post(text)


class FollowupSink:
    """Follow-ups to a deferred slash command (ephemeral when the user asked privately)."""

    def __init__(self, interaction: discord.Interaction[Any], private: bool) -> None:
        self.interaction, self.private = interaction, private

    async def post(self, content: str, **extra: Any) -> Editable:
        return await self.interaction.followup.send(content, ephemeral=self.private, wait=True, **extra)

    async def report(self, text: str, placeholder: Editable | None) -> None:
        await send_private(self.interaction, text)


@contextlib.asynccontextmanager
async def typing(channel: discord.abc.Messageable) -> AsyncIterator[None]:
    """Typing indicator, best effort: a refused indicator must not stop the answer."""
    ctx = channel.typing()
    try:
        await ctx.__aenter__()
    except discord.HTTPException as exc:
        log.debug("no typing indicator: %s", exc)
        yield
        return
    try:
        yield
    finally:
        await ctx.__aexit__(None, None, None)


class Answerer:
    """Runs questions through the service and delivers the answers; tracks work in progress for shutdown."""

    def __init__(
        self,
        service: AnswerService,
        store: FeedbackStore,
        describe_error: Callable[..., str],
        *,
        edit_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.service, self.store, self.describe_error = service, store, describe_error
        self.edit_interval, self.clock = edit_interval, clock
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self._active = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def run(self, ask: AskRequest, sink: Sink) -> Outcome:
        """Answer `ask` into `sink`; every failure ends as a message to the user (or a log line)."""
        placeholder: Editable | None = None
        try:
            async with self._busy(), self._conversation(ask.conversation_id):
                if self.service.streams:
                    placeholder = await sink.post(PLACEHOLDER)
                    answer = await self._stream(ask, placeholder)
                else:
                    answer = await self.service.aask(
                        ask.question, conversation_id=ask.conversation_id, collection=ask.collection, as_of=ask.as_of
                    )
                qid = await self._record(ask, answer)
                shown = await self._deliver(sink, answer, qid, placeholder, escalate=ask.escalate)
                if qid is not None:
                    await self._link(qid, shown)
                return Outcome.ANSWERED
        except (discord.Forbidden, discord.NotFound) as exc:  # no permission here, or the channel is gone
            log.warning("cannot answer in channel %s: %s", ask.channel_id, exc)
            return Outcome.FORBIDDEN
        except Exception as exc:
            text = self.describe_error(exc, question=ask.question[:200], user=ask.user_id, channel=ask.channel_id)
            try:
                await sink.report(text, placeholder)
            except discord.HTTPException as send_exc:
                log.warning("could not report an error in channel %s: %s", ask.channel_id, send_exc)
            return Outcome.FAILED

    async def _deliver(
        self, sink: Sink, answer: Answer, qid: int | None, placeholder: Editable | None, *, escalate: bool
    ) -> list[Editable]:
        rendered = render_answer(answer)
        last = len(rendered.parts) - 1
        shown: list[Editable] = []
        for i, part in enumerate(rendered.parts):
            extra: dict[str, Any] = {}
            if i == last:  # footnotes and buttons under the last part
                if rendered.embeds:
                    extra["embeds"] = rendered.embeds
                if qid is not None:
                    extra["view"] = answer_view(qid, escalate=escalate, export=not answer.refused)
            if i == 0 and placeholder is not None:
                shown.append(await self._replace(sink, placeholder, part, extra))
            else:
                shown.append(await sink.post(part, **extra))
        return shown

    async def _replace(self, sink: Sink, placeholder: Editable, content: str, extra: dict[str, Any]) -> Editable:
        """Edit the placeholder into the answer; if Discord keeps refusing the edit (5xx after its retries, or
        the placeholder was deleted), post the answer as a new message and remove the stale placeholder."""
        try:
            return await placeholder.edit(content=content, **extra)
        except discord.Forbidden:
            raise
        except discord.HTTPException as exc:
            log.warning("could not edit the placeholder into the answer (%s); posting it as a new message", exc)
        message = await sink.post(content, **extra)
        try:
            await placeholder.delete()
        except discord.HTTPException as exc:
            log.info("could not delete the stale placeholder: %s", exc)
        return message

    async def _link(self, qid: int, shown: list[Editable]) -> None:
        try:
            await asyncio.to_thread(self.store.link_messages, qid, [m.id for m in shown])
        except Exception as exc:  # replies to this answer will start afresh; the answer itself is out
            self.describe_error(exc, linking=qid)

    async def _stream(self, ask: AskRequest, placeholder: Editable) -> Answer:
        async def show(text: str) -> None:
            await placeholder.edit(content=stream_preview(text))

        throttle: EditThrottle[str] = EditThrottle(show, interval=self.edit_interval, clock=self.clock)
        text, final = "", None
        try:
            events = self.service.astream(ask.question, conversation_id=ask.conversation_id, collection=ask.collection,
                                          as_of=ask.as_of)
            async for event in events:
                if isinstance(event, TextDelta):
                    text += event.text
                    throttle.update(text)
                elif isinstance(event, FinalAnswer):
                    final = event.answer
        finally:
            await throttle.close()
        if final is None:
            raise RuntimeError("answer stream ended without a FinalAnswer")
        await asyncio.sleep(throttle.ready_in())  # the final edit respects the edit interval too
        return final

    async def _record(self, ask: AskRequest, answer: Answer) -> int | None:
        try:
            return await asyncio.to_thread(
                self.store.record_answer,
                answer,
                user_id=ask.user_id,
                guild_id=ask.guild_id,
                channel_id=ask.channel_id,
                conversation_id=ask.conversation_id,
            )
        except Exception as exc:  # the answer still goes out, just without feedback buttons
            self.describe_error(exc, recording=ask.question[:200])
            return None

    @contextlib.asynccontextmanager
    async def _busy(self) -> AsyncIterator[None]:
        self._active += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._active -= 1
            if self._active == 0:
                self._idle.set()

    @contextlib.asynccontextmanager
    async def _conversation(self, conversation_id: str | None) -> AsyncIterator[None]:
        """Serialize questions within one conversation so the engine's history stays in order."""
        if conversation_id is None:
            yield
            return
        lock, users = self._locks.get(conversation_id, (asyncio.Lock(), 0))
        self._locks[conversation_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[conversation_id]
            if users <= 1:
                del self._locks[conversation_id]
            else:
                self._locks[conversation_id] = (lock, users - 1)

    async def wait_idle(self, grace: float) -> None:
        """Wait up to `grace` seconds for answers in progress."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), grace)
