"""The SQLite feedback store: answers with citations, votes, stats, data-dir errors, thread safety."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from bot.answer import Answer, Citation
from bot.feedback import FeedbackStore
from index.errors import DataDirError


def _cit(n: int) -> Citation:
    return Citation(n, f"Doc {n}", f"docs/{n}.md", f"quote {n}", f"c{n}", f"before quote {n} after", None, "2024-01-02")


def _answer(q: str = "How do we deploy?", **over: object) -> Answer:
    values: dict[str, object] = {
        "question": q,
        "text": "Through CI [1].",
        "citations": [_cit(1), _cit(2)],
        "mode": "llm",
    }
    values.update(over)
    return Answer(**values)  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> FeedbackStore:
    s = FeedbackStore.in_data_dir(tmp_path)
    yield s
    s.close()


def test_record_and_read_back(store: FeedbackStore) -> None:
    qid = store.record_answer(
        _answer(nearest_sources=[_cit(9)]), user_id=42, guild_id=1, channel_id=2, conversation_id="77"
    )
    got = store.get_answer(qid)
    assert got is not None
    assert (got.question, got.answer, got.mode, got.refused) == (
        "How do we deploy?",
        "Through CI [1].",
        "llm",
        False,
    )
    assert got.citations == [_cit(1), _cit(2)]
    assert got.nearest_sources == [_cit(9)]
    assert store.exists(qid) and not store.exists(qid + 1)
    assert store.get_answer(qid + 1) is None
    row = (
        sqlite3.connect(store.path)
        .execute(
            "SELECT user_id, guild_id, channel_id, conversation_id, frontend FROM questions WHERE id=?",
            (qid,),
        )
        .fetchone()
    )
    assert row == (42, 1, 2, "77", "discord")


def test_votes_one_per_user_and_reasons(store: FeedbackStore) -> None:
    qid = store.record_answer(_answer(), user_id=1)
    store.record_vote(qid, 10, -1)
    store.record_vote(qid, 10, -1, "outdated doc")
    store.record_vote(qid, 11, 1)
    rows = sqlite3.connect(store.path).execute("SELECT user_id, vote, reason FROM feedback ORDER BY user_id").fetchall()
    assert rows == [(10, -1, "outdated doc"), (11, 1, None)]
    store.record_vote(qid, 10, 1)  # changed their mind: the reason goes with the 👎
    rows = sqlite3.connect(store.path).execute("SELECT vote, reason FROM feedback WHERE user_id=10").fetchall()
    assert rows == [(1, None)]


def test_stats(store: FeedbackStore) -> None:
    assert store.stats().questions == 0
    a = store.record_answer(_answer(), user_id=1)
    store.record_answer(_answer(mode="fallback"), user_id=1)
    for q in ("What is the VPN password?", "what is the vpn password? ", "Who owns billing?"):
        store.record_answer(_answer(q, refused=True, citations=[]), user_id=2)
    store.record_vote(a, 1, 1)
    store.record_vote(a, 2, -1, "meh")
    stats = store.stats()
    assert (stats.questions, stats.refusals, stats.fallbacks) == (5, 3, 1)
    assert (stats.thumbs_up, stats.thumbs_down) == (1, 1)
    assert stats.top_unanswered[0][1] == 2
    assert stats.top_unanswered[0][0].lower().startswith("what is the vpn password")
    assert stats.top_unanswered[1] == ("Who owns billing?", 1)


def test_unwritable_data_dir_is_a_data_dir_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with pytest.raises(DataDirError, match="feedback database"):
        FeedbackStore.in_data_dir(blocker)


def test_safe_across_threads(store: FeedbackStore) -> None:
    def work(i: int) -> None:
        for _ in range(20):
            qid = store.record_answer(_answer(f"q{i}"), user_id=i)
            store.record_vote(qid, i, 1)
            store.get_answer(qid)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.stats().questions == 160
    assert store.stats().thumbs_up == 160


def test_top_unanswered_shows_the_rewritten_follow_up(tmp_path: Path) -> None:
    # Issue 10: "/stats top unanswered" listed bare follow-ups ("How much did they cost?").

    store = FeedbackStore(tmp_path / "f.sqlite3")
    try:
        for rewritten in ("How much did the TB2 drones cost Kyrgyzstan?",) * 2 + (None,):
            answer = Answer(
                "How much did they cost?",
                "I couldn't find this.",
                [],
                "extractive",
                refused=True,
                rewritten_question=rewritten,
            )
            store.record_answer(answer, user_id=1)
        assert store.stats().top_unanswered == [
            ("How much did the TB2 drones cost Kyrgyzstan?", 2),
            ("How much did they cost?", 1),
        ]
    finally:
        store.close()


def test_an_old_database_gains_the_rewritten_column(tmp_path: Path) -> None:

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:  # the first release's questions table
        db.execute(
            "CREATE TABLE questions (id INTEGER PRIMARY KEY AUTOINCREMENT, asked_at TEXT NOT NULL, frontend TEXT NOT"
            " NULL, user_id INTEGER, guild_id INTEGER, channel_id INTEGER, conversation_id TEXT, question TEXT NOT"
            " NULL, answer TEXT NOT NULL, mode TEXT NOT NULL, refused INTEGER NOT NULL, fallback_reason TEXT)"
        )
    store = FeedbackStore(path)
    try:
        assert store.stats().questions == 0
        with sqlite3.connect(path) as db:
            assert "rewritten" in {row[1] for row in db.execute("PRAGMA table_info(questions)")}
    finally:
        store.close()
