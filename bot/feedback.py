"""SQLite record of answered questions, their citations and users' 👍/👎 feedback (feeds /stats).

No discord import and synchronous on purpose: each call is one short transaction; async callers run it in
`asyncio.to_thread`. One connection guarded by a lock, so the store is safe to share across threads.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from bot.answer import Answer, Citation
from index.errors import DataDirError

DB_NAME = "feedback.sqlite3"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS questions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    asked_at TEXT NOT NULL,
    frontend TEXT NOT NULL,
    user_id INTEGER,
    guild_id INTEGER,
    channel_id INTEGER,
    conversation_id TEXT,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    mode TEXT NOT NULL,
    refused INTEGER NOT NULL,
    fallback_reason TEXT,
    rewritten TEXT
);
CREATE TABLE IF NOT EXISTS citations (
    question_id INTEGER NOT NULL REFERENCES questions(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('cited', 'nearest')),
    n INTEGER NOT NULL,
    title TEXT NOT NULL,
    source TEXT NOT NULL,
    url TEXT,
    date TEXT,
    quote TEXT NOT NULL,
    chunk_id TEXT NOT NULL,
    context TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS citations_question ON citations(question_id);
CREATE INDEX IF NOT EXISTS questions_conversation ON questions(conversation_id);
CREATE TABLE IF NOT EXISTS feedback (
    question_id INTEGER NOT NULL REFERENCES questions(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL,
    vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
    reason TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (question_id, user_id)
);
CREATE TABLE IF NOT EXISTS messages (
    message_id INTEGER PRIMARY KEY,
    question_id INTEGER NOT NULL REFERENCES questions(id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS escalations (
    question_id INTEGER PRIMARY KEY REFERENCES questions(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
"""
# Columns added after the first release: (table, column, declaration) applied to databases that lack them.
_MIGRATIONS = (("questions", "rewritten", "TEXT"),)


@dataclass(frozen=True)
class StoredAnswer:
    id: int
    question: str
    answer: str
    mode: str
    refused: bool
    citations: list[Citation]
    nearest_sources: list[Citation]


@dataclass(frozen=True)
class Stats:
    questions: int = 0
    refusals: int = 0
    fallbacks: int = 0
    thumbs_up: int = 0
    thumbs_down: int = 0
    escalations: int = 0
    top_unanswered: list[tuple[str, int]] = field(default_factory=list)  # (question, times asked)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class FeedbackStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable enough, no fsync per vote
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(_SCHEMA)
            for table, column, decl in _MIGRATIONS:
                have = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
                if column not in have:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")
        except (OSError, sqlite3.Error) as exc:
            raise DataDirError(f"Cannot open the feedback database at {path}: {exc}") from exc
        self._lock = threading.Lock()
        self._vote_listeners: list[Callable[[int], None]] = []

    def on_vote(self, listener: Callable[[int], None]) -> None:
        """Call `listener(vote)` (1 or -1) after each vote that `record_vote` adds or changes (bot/ops/metrics.py
        counts them); it runs in the recording thread, after the write."""
        self._vote_listeners.append(listener)

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> FeedbackStore:
        return cls(Path(data_dir) / DB_NAME)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _write(self, sql: str, params: tuple[object, ...]) -> sqlite3.Cursor:
        try:
            return self._db.execute(sql, params)
        except sqlite3.OperationalError as exc:  # read-only dir, disk full, locked by another process
            raise DataDirError(f"Cannot write the feedback database at {self.path}: {exc}") from exc

    def record_answer(
        self,
        answer: Answer,
        *,
        user_id: int | None,
        frontend: str = "discord",
        guild_id: int | None = None,
        channel_id: int | None = None,
        conversation_id: str | None = None,
    ) -> int:
        """Persist one answered question with its citations; returns its id (used in button custom_ids)."""
        rows = [("cited", c) for c in answer.citations] + [("nearest", c) for c in answer.nearest_sources]
        with self._lock:
            self._write("BEGIN", ())
            try:
                cur = self._write(
                    "INSERT INTO questions (asked_at, frontend, user_id, guild_id, channel_id,"
                    " conversation_id,"
                    " question, answer, mode, refused, fallback_reason, rewritten) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        _now(),
                        frontend,
                        user_id,
                        guild_id,
                        channel_id,
                        conversation_id,
                        answer.question,
                        answer.text,
                        answer.mode,
                        int(answer.refused),
                        answer.fallback_reason,
                        answer.rewritten_question,
                    ),
                )
                qid = int(cur.lastrowid or 0)
                self._db.executemany(
                    "INSERT INTO citations (question_id, kind, n, title, source, url, date, quote, chunk_id,"
                    " context) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    [
                        (qid, kind, c.n, c.title, c.source, c.url, c.date, c.quote, c.chunk_id, c.context)
                        for kind, c in rows
                    ],
                )
                self._write("COMMIT", ())
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return qid

    def get_answer(self, question_id: int) -> StoredAnswer | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id, question, answer, mode, refused FROM questions WHERE id = ?", (question_id,)
            ).fetchone()
            if row is None:
                return None
            cits = self._db.execute(
                "SELECT kind, n, title, source, quote, chunk_id, context, url, date FROM citations"
                " WHERE question_id = ? ORDER BY rowid",
                (question_id,),
            ).fetchall()
        by_kind: dict[str, list[Citation]] = {"cited": [], "nearest": []}
        for kind, *values in cits:
            by_kind[kind].append(Citation(*values))
        return StoredAnswer(row[0], row[1], row[2], row[3], bool(row[4]), by_kind["cited"], by_kind["nearest"])

    def exists(self, question_id: int) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM questions WHERE id = ?", (question_id,)).fetchone() is not None

    def has_conversation(self, conversation_id: str) -> bool:
        """Whether any answer was given in this conversation (e.g. a thread opened before a restart)."""
        with self._lock:
            row = self._db.execute("SELECT 1 FROM questions WHERE conversation_id = ? LIMIT 1", (conversation_id,))
            return row.fetchone() is not None

    def link_messages(self, question_id: int, message_ids: list[int]) -> None:
        """Remember which chat messages show this answer, so a reply to any of them continues its conversation."""
        with self._lock:
            self._db.executemany(
                "INSERT OR REPLACE INTO messages (message_id, question_id) VALUES (?, ?)",
                [(mid, question_id) for mid in message_ids],
            )

    def conversation_of_message(self, message_id: int) -> str | None:
        """The conversation of the answer shown in chat message `message_id`, None if it is not an answer."""
        with self._lock:
            row = self._db.execute(
                "SELECT q.conversation_id FROM messages m JOIN questions q ON q.id = m.question_id"
                " WHERE m.message_id = ?",
                (message_id,),
            ).fetchone()
        return row[0] if row else None

    def record_escalation(self, question_id: int, user_id: int) -> bool:
        """Record that `user_id` asked for an expert on this answer; False if someone already had."""
        with self._lock:
            cur = self._write(
                "INSERT OR IGNORE INTO escalations (question_id, user_id, created_at) VALUES (?,?,?)",
                (question_id, user_id, _now()),
            )
            return cur.rowcount == 1

    def cancel_escalation(self, question_id: int) -> None:
        """Undo `record_escalation` when the call for help could not be posted."""
        with self._lock:
            self._write("DELETE FROM escalations WHERE question_id = ?", (question_id,))

    def record_vote(self, question_id: int, user_id: int, vote: Literal[-1, 1], reason: str | None = None) -> bool:
        """One vote per user per answer: voting again replaces it (a reason is kept only with its 👎). True when
        the vote is new or changed (a 👎's "why?" submitted after it is the same vote)."""
        with self._lock:
            before = self._db.execute(
                "SELECT vote FROM feedback WHERE question_id = ? AND user_id = ?", (question_id, user_id)
            ).fetchone()
            self._write(
                "INSERT INTO feedback (question_id, user_id, vote, reason, created_at) VALUES (?,?,?,?,?)"
                " ON CONFLICT (question_id, user_id) DO UPDATE SET vote = excluded.vote,"
                " reason = CASE WHEN excluded.vote = -1 THEN COALESCE(excluded.reason, feedback.reason)"
                " ELSE NULL END, created_at = excluded.created_at",
                (question_id, user_id, vote, reason or None, _now()),
            )
        changed = before is None or before[0] != vote
        if changed:
            for listener in self._vote_listeners:
                listener(vote)
        return changed

    def stats(self, *, top: int = 5) -> Stats:
        with self._lock:
            q, refused, fallback = self._db.execute(
                "SELECT COUNT(*), COALESCE(SUM(refused), 0), COALESCE(SUM(mode = 'fallback'), 0) FROM questions"
            ).fetchone()
            up, down = self._db.execute(
                "SELECT COALESCE(SUM(vote = 1), 0), COALESCE(SUM(vote = -1), 0) FROM feedback"
            ).fetchone()
            (escalated,) = self._db.execute("SELECT COUNT(*) FROM escalations").fetchone()
            # A follow-up ("How much did they cost?") means nothing on its own: count and show what was asked.
            unanswered = self._db.execute(
                "SELECT MAX(COALESCE(rewritten, question)), COUNT(*) AS times FROM questions WHERE refused = 1"
                " GROUP BY lower(trim(COALESCE(rewritten, question))) ORDER BY times DESC, MAX(id) DESC LIMIT ?",
                (top,),
            ).fetchall()
        return Stats(q, refused, fallback, up, down, escalated, [(text, times) for text, times in unanswered])
