"""Conversation history, keyed by conversation id (a Discord thread id, or a name in the CLI).

SQLite under the data dir (`conversations.sqlite`). Each turn keeps the question, the rewritten question,
the answer text, the cited chunk ids and the cited passages themselves, so that a follow-up can reuse them
even after a restart. History is bounded by `history_tokens`: older turns are pruned when a turn is added.
Every call opens its own connection (WAL mode), so worker threads can share one store.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bot.answer import Passage
from bot.prompting import count_tokens
from index.errors import DataDirError
from index.settings import Settings

_SCHEMA = """
CREATE TABLE IF NOT EXISTS turns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    question TEXT NOT NULL,
    rewritten TEXT,
    answer TEXT NOT NULL,
    cited_chunk_ids TEXT NOT NULL,
    passages TEXT NOT NULL,
    tokens INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS turns_by_conversation ON turns (conversation_id, id);
"""


@dataclass(frozen=True)
class Turn:
    question: str
    answer: str
    rewritten: str | None = None
    cited_chunk_ids: tuple[str, ...] = ()
    passages: tuple[Passage, ...] = field(default=(), repr=False)  # the cited passages
    created_at: float = 0.0


class ConversationStore:
    def __init__(self, path: Path, *, history_tokens: int, count: Callable[[str], int] = count_tokens) -> None:
        self.path = Path(path)
        self.history_tokens = history_tokens
        self._count = count
        self._lock = threading.Lock()  # serialises writers in this process; SQLite handles the rest
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as con:
                con.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as err:
            raise DataDirError(f"Cannot open the conversation store at {self.path}: {err}") from err

    @classmethod
    def from_settings(cls, settings: Settings) -> ConversationStore:
        return cls(settings.data_dir / "conversations.sqlite", history_tokens=settings.history_tokens)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=10)) as con:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable enough for chat history
            with con:  # one transaction
                yield con

    def add(self, conversation_id: str, turn: Turn) -> None:
        """Store a turn, then drop the oldest turns beyond the token budget."""
        tokens = self._count(f"{turn.question}\n{turn.answer}")
        row = (
            conversation_id,
            turn.created_at or time.time(),
            turn.question,
            turn.rewritten,
            turn.answer,
            json.dumps(list(turn.cited_chunk_ids)),
            json.dumps([asdict(p) for p in turn.passages]),
            tokens,
        )
        try:
            with self._lock, self._connect() as con:
                con.execute(
                    "INSERT INTO turns (conversation_id, created_at, question, rewritten, answer,"
                    " cited_chunk_ids, passages, tokens) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    row,
                )
                keep = sorted(self._keep(con, conversation_id))
                marks = ",".join("?" * len(keep))
                con.execute(
                    f"DELETE FROM turns WHERE conversation_id = ? AND id NOT IN ({marks})",
                    (conversation_id, *keep),
                )
        except sqlite3.Error as err:
            raise DataDirError(f"Cannot write the conversation store at {self.path}: {err}") from err

    def _keep(self, con: sqlite3.Connection, conversation_id: str) -> set[int]:
        """Ids of the newest turns within the budget (the newest is always kept)."""
        rows = con.execute(
            "SELECT id, tokens FROM turns WHERE conversation_id = ? ORDER BY id DESC", (conversation_id,)
        ).fetchall()
        keep: set[int] = set()
        used = 0
        for i, tokens in rows:
            if keep and used + tokens > self.history_tokens:
                break
            keep.add(i)
            used += tokens
        return keep

    def history(self, conversation_id: str) -> list[Turn]:
        """The turns within the token budget, oldest first ([] when history is disabled)."""
        if self.history_tokens <= 0:
            return []
        try:
            with self._connect() as con:
                keep = self._keep(con, conversation_id)
                rows = con.execute(
                    "SELECT id, created_at, question, rewritten, answer, cited_chunk_ids, passages FROM turns"
                    " WHERE conversation_id = ? ORDER BY id",
                    (conversation_id,),
                ).fetchall()
        except sqlite3.Error as err:
            raise DataDirError(f"Cannot read the conversation store at {self.path}: {err}") from err
        return [
            Turn(
                question=question,
                answer=answer,
                rewritten=rewritten,
                cited_chunk_ids=tuple(json.loads(cited)),
                passages=tuple(Passage(**p) for p in json.loads(passages)),
                created_at=created,
            )
            for i, created, question, rewritten, answer, cited, passages in rows
            if i in keep
        ]

    def last(self, conversation_id: str) -> Turn | None:
        turns = self.history(conversation_id)
        return turns[-1] if turns else None

    def clear(self, conversation_id: str) -> None:
        with self._lock, self._connect() as con:
            con.execute("DELETE FROM turns WHERE conversation_id = ?", (conversation_id,))
