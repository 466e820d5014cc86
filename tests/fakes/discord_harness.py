"""A running Footnote bot against the fake Discord, with an in-test AnswerService and admin.

Test modules import the `env` fixture (and `running_bot` for custom settings) from here; they travel by
import so that no shared conftest is needed. The fixture fails the test on any request the fake did not
handle and on any ERROR log from discord.*, bot.* or asyncio (unless the test lists it in expected_errors).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bot.answer import Answer, Citation, FinalAnswer, TextDelta
from bot.discord.app import FootnoteBot, build_bot
from bot.feedback import FeedbackStore
from index.settings import Settings
from tests.fakes.discord_gateway import TOKEN, FakeDiscord


def citation(n: int = 1, **over: Any) -> Citation:
    values: dict[str, Any] = {
        "n": n,
        "title": f"Runbook {n}",
        "source": f"docs/runbook-{n}.md",
        "quote": "Deploys go through CI.",
        "chunk_id": f"c{n}",
        "context": "Intro. Deploys go through CI. Rollbacks use the previous tag.",
        "url": f"https://wiki.example.com/runbook/{n}",
        "date": "2024-05-01",
    }
    values.update(over)
    return Citation(**values)


def make_answer(question: str, text: str = "Deploys go through CI [1].", **over: Any) -> Answer:
    values: dict[str, Any] = {"question": question, "text": text, "citations": [citation(1)], "mode": "llm"}
    values.update(over)
    return Answer(**values)


@dataclass
class Call:
    question: str
    conversation_id: str | None
    collection: str | None
    history: list[str]  # earlier questions of the same conversation, as the engine would see them
    as_of: date | None = None  # the reference day the frontend passed (the message's day)


class FakeService:
    """An AnswerService returning real Answer objects; optionally streams TextDelta events first."""

    def __init__(
        self,
        *,
        streams: bool = False,
        reply: Callable[[str], Answer] | None = None,
        delay: float = 0.0,
        deltas: list[str] | None = None,
        delta_gap: float = 0.0,
    ) -> None:
        self._streams = streams
        self.reply = reply or make_answer
        self.delay, self.deltas, self.delta_gap = (
            delay,
            deltas or ["Deploys ", "go ", "through ", "CI [1]."],
            delta_gap,
        )
        self.calls: list[Call] = []
        self.history: dict[str, list[str]] = {}

    @property
    def streams(self) -> bool:
        return self._streams

    def _note(self, question: str, conversation_id: str | None, collection: str | None,
              as_of: date | None = None) -> Answer:
        past = self.history.setdefault(conversation_id, []) if conversation_id else []
        self.calls.append(Call(question, conversation_id, collection, list(past), as_of))
        past.append(question)
        answer = self.reply(question)
        answer.conversation_id = conversation_id
        return answer

    async def aask(self, question: str, *, conversation_id: str | None = None, collection: str | None = None,
                   as_of: date | None = None) -> Answer:
        answer = self._note(question, conversation_id, collection, as_of)
        await asyncio.sleep(self.delay)
        return answer

    async def astream(
        self, question: str, *, conversation_id: str | None = None, collection: str | None = None,
        as_of: date | None = None,
    ) -> AsyncIterator[TextDelta | FinalAnswer]:
        answer = self._note(question, conversation_id, collection, as_of)
        for piece in self.deltas:
            await asyncio.sleep(self.delta_gap)
            yield TextDelta(piece)
        await asyncio.sleep(self.delay)
        yield FinalAnswer(answer)


class FakeAdmin:
    def __init__(self, progress_lines: int = 5, gap: float = 0.0) -> None:
        self.progress_lines, self.gap = progress_lines, gap
        self.reindex_threads: list[str] = []
        self.collections = {"footnote", "legal"}  # what status(collection) reports as indexed

    def roots(self, collection: str | None = None) -> list[Path]:
        return [Path("/srv/footnote/corpus")]

    def status(self, collection: str | None = None) -> dict[str, Any]:
        if collection is not None and collection not in self.collections:
            return {"collection": collection, "documents": 0, "chunks": 0}
        return {
            "documents": 12,
            "chunks": 340,
            "embedding_model": "all-MiniLM-L6-v2",
            "last_ingest": "2024-05-01T10:00:00Z",
            "data_dir": "/srv/footnote/data",
        }

    def reindex(self, progress: Callable[[str], None]) -> dict[str, Any]:
        self.reindex_threads.append(threading.current_thread().name)
        for i in range(self.progress_lines):
            progress(f"{i + 1}/{self.progress_lines} files · /srv/footnote/corpus/handbook/part-{i + 1}.md")
            time.sleep(self.gap)  # blocking on purpose: must run off the event loop
        return {
            "indexed": 3,
            "unchanged": 8,
            "skipped": [{"path": "/srv/footnote/corpus/finance/q3.pdf", "reason": "corrupt PDF"}],
            "deleted": 0,
            "notes": [],
            "documents": 12,
            "chunks": 340,
            "seconds": 0.02,
        }


class _ErrorLogs(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.split(".")[0] in ("discord", "bot", "asyncio"):
            self.records.append(record)


class AllLogs(logging.Handler):
    """Every record (any level, any logger) as formatted text, to check what is never logged."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(logging.Formatter("%(name)s %(message)s").format(record))


@dataclass
class Env:
    fake: FakeDiscord
    bot: FootnoteBot
    service: FakeService
    admin: FakeAdmin
    store: FeedbackStore
    settings: Settings
    expected_errors: list[str] = field(default_factory=list)  # substrings of ERROR logs a test provokes


def make_settings(tmp_path: Path, **over: Any) -> Settings:
    values: dict[str, Any] = {"discord_token": TOKEN, "data_dir": tmp_path, "discord_rate_per_minute": 100}
    values.update(over)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@contextlib.asynccontextmanager
async def running_bot(
    monkeypatch: Any,
    tmp_path: Path,
    *,
    service: FakeService | None = None,
    fake: FakeDiscord | None = None,
    store: FeedbackStore | None = None,
    edit_interval: float = 0.05,
    notice_ttl: float = 30.0,
    **settings_over: Any,
) -> AsyncIterator[Env]:
    own_fake = fake is None
    fake = fake or FakeDiscord()
    if not fake.port:
        await fake.start()
    fake.patch(monkeypatch)
    settings = make_settings(tmp_path, **settings_over)
    own_store = store is None
    store = store or FeedbackStore(tmp_path / "feedback.sqlite3")
    service, admin = service or FakeService(), FakeAdmin()
    bot = build_bot(
        settings, service, admin, store, guild_ready_timeout=0.05, edit_interval=edit_interval, notice_ttl=notice_ttl
    )
    env = Env(fake, bot, service, admin, store, settings)
    errors = _ErrorLogs()
    logging.getLogger().addHandler(errors)
    runner = asyncio.create_task(env.bot.start(TOKEN))
    ready = asyncio.create_task(env.bot.wait_until_ready())
    try:
        await asyncio.wait({runner, ready}, timeout=5, return_when=asyncio.FIRST_COMPLETED)
        if runner.done():
            runner.result()
        assert ready.done(), "bot did not become ready"
        yield env
    finally:
        ready.cancel()
        await env.bot.drain(5)  # like `arun_bot`: let answers in progress finish before closing
        await env.bot.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(runner, 5)
        if own_fake:
            await fake.close()
        if own_store:
            store.close()
        logging.getLogger().removeHandler(errors)
    assert not fake.unhandled, f"requests the fake did not handle: {fake.unhandled}"
    unexpected = [
        r for r in errors.records if not any(s in r.getMessage() or s in str(r.exc_info) for s in env.expected_errors)
    ]
    if unexpected:
        pytest.fail("ERROR logs: " + "; ".join(f"{r.name}: {r.getMessage()} {r.exc_info}" for r in unexpected))


@pytest.fixture
async def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AsyncIterator[Env]:
    async with running_bot(monkeypatch, tmp_path) as e:
        yield e
