"""LLM faults end to end: the real Engine (wired like `bot.cli.build_engine`) over the ingested sample corpus
(`examples/corpus`, hybrid Chroma + BM25 retrieval), talking HTTP to the fake OpenAI server.

tests/bot/test_llm.py covers the client alone and tests/bot/test_engine.py the engine over an in-memory
retriever; this module adds what only shows end to end: the retries really happen through the whole stack,
every failure ends as a *cited* extractive answer with a specific reason, and every question is bounded in
time by the client's deadline (timeout x attempts + backoff), whatever the server does.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.answer import Answer, FinalAnswer, TextDelta
from bot.cli import build_engine, render_answer
from bot.engine import Engine
from index.ingest import Ingestor
from index.settings import Settings
from tests.conftest import SAMPLE_CORPUS
from tests.fakes.openai_server import Behaviour, CutStream, FakeOpenAI, Reply, Slow, Status

QUESTION = "How many people did Tajikistan say were killed?"
TIMEOUT_S = 1.0
RETRIES = 2
ATTEMPTS = RETRIES + 1
# The LLM client's own overall deadline (see LLMClient): every attempt may time out, plus up to 2 s of backoff
# between attempts. On top of it, retrieval + extractive answer + verification on a slow, shared 2-core box.
DEADLINE_S = TIMEOUT_S * ATTEMPTS + 2.0 * RETRIES
BOUND_S = DEADLINE_S + 6.0


def ingest_corpus(data_dir: Path, embedder: Any, *extra: Path) -> Path:
    """`examples/corpus` (plus `extra` files or folders) ingested into `data_dir`; returns `data_dir`."""
    settings = Settings(_env_file=None, data_dir=data_dir)  # type: ignore[call-arg]
    summary = Ingestor(settings, embedder).run([SAMPLE_CORPUS, *extra])
    assert summary.documents >= 8 and not summary.skipped, summary.to_json()
    return data_dir


def engine_for(settings: Settings, embedder: Any, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """`bot.cli.build_engine` itself (hybrid retriever, LLM client, conversation store), with the session's
    already-loaded embedder instead of a fresh one."""
    monkeypatch.setattr("index.embeddings.make_embedder", lambda _settings: embedder)
    engine = build_engine(settings)
    assert isinstance(engine, Engine)
    return engine


def closed_port() -> int:
    """A loopback port nobody listens on: connecting is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Path:
    return ingest_corpus(tmp_path_factory.mktemp("reliability") / "data", embedder)


@pytest.fixture
def llm_engine(
    corpus_dir: Path, embedder: Any, fake_llm: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Engine]:
    def make(**over: Any) -> Engine:
        values: dict[str, Any] = {
            "data_dir": corpus_dir,
            "answer_mode": "llm",
            "openai_base_url": fake_llm.base_url,
            "llm_timeout_s": TIMEOUT_S,
            "llm_max_retries": RETRIES,
        }
        values.update(over)
        return engine_for(Settings(_env_file=None, **values), embedder, monkeypatch)  # type: ignore[call-arg]

    return make


@pytest.fixture(scope="module")
def extractive_answer(corpus_dir: Path, embedder: Any) -> Answer:
    """What the fallback must be: the extractive answer to the same question over the same index."""
    mp = pytest.MonkeyPatch()
    try:
        settings = Settings(_env_file=None, data_dir=corpus_dir, answer_mode="extractive")  # type: ignore[call-arg]
        answer = engine_for(settings, embedder, mp).ask(QUESTION)
    finally:
        mp.undo()
    assert answer.mode == "extractive" and not answer.refused and "41" in answer.text
    return answer


def passages_in_prompt(fake: FakeOpenAI) -> list[int]:
    return [int(n) for n in re.findall(r'<passage n="(\d+)"', fake.requests[-1].text_of("user"))]


LABELS = {"llm_error": "LLM unavailable", "deadline": "LLM too slow", "unverified": "LLM answer not verified"}


def assert_cited_fallback(answer: Answer, reason: str, expected: Answer, kind: str = "llm_error") -> None:
    assert answer.mode == "fallback", (answer.mode, answer.text)
    assert answer.fallback_kind == kind and answer.trace["fallback_kind"] == kind
    assert answer.fallback_reason and re.search(reason, answer.fallback_reason), answer.fallback_reason
    assert answer.trace["fallback_reason"] == answer.fallback_reason and answer.trace["configured_mode"] == "llm"
    # Not an apology: the extractive answer, with its footnotes, pointing at passages that were retrieved.
    assert answer.text == expected.text and not answer.refused
    assert answer.citations and "[1]" in answer.text
    assert {c.chunk_id for c in answer.citations} <= set(answer.trace["passages"])
    assert all(c.quote and c.quote in c.context for c in answer.citations)
    assert render_answer(answer).startswith(f"({LABELS[kind]}: {answer.fallback_reason} — showing the extractive")


# --- aask: the failure modes a real server shows ---------------------------------------------------------

FAULTS = [
    pytest.param([Status(500)] * ATTEMPTS, r"HTTP 500", ATTEMPTS, "llm_error", id="500-every-attempt"),
    pytest.param([Status(429, retry_after="1")] * ATTEMPTS, r"429", ATTEMPTS, "llm_error", id="429-retry-after"),
    pytest.param([Slow(30.0)] * ATTEMPTS, r"timed out|did not answer", ATTEMPTS, "llm_error", id="slow-first-byte"),
    pytest.param(
        [Status(429, retry_after="30")], r"did not answer within", 1, "llm_error",
        id="429-retry-after-beyond-the-deadline",
    ),
    # A hallucinated fact (the corpus says 41), without any [n], and with a citation to a passage that does
    # not exist ([9] with 6 passages): nothing survives verification.
    pytest.param(
        [Reply("Tajikistan says 75 people were killed in the clashes.")], r"no sentence .* supported", 1,
        "unverified", id="no-citations",
    ),
    pytest.param(
        [Reply("Tajikistan says 75 people were killed in the clashes [9].")], r"no sentence .* supported", 1,
        "unverified", id="invented-citation",
    ),
]


@pytest.mark.parametrize(("script", "reason", "requests", "kind"), FAULTS)
async def test_llm_fault_ends_in_a_cited_extractive_answer_within_the_deadline(
    llm_engine: Callable[..., Engine],
    fake_llm: FakeOpenAI,
    extractive_answer: Answer,
    script: list[Behaviour],
    reason: str,
    requests: int,
    kind: str,
) -> None:
    engine = llm_engine()
    llm = getattr(engine.strategy, "llm", None)
    assert llm is not None and llm.deadline_s == DEADLINE_S
    fake_llm.script(*script)
    started = time.monotonic()
    answer = await engine.aask(QUESTION)
    elapsed = time.monotonic() - started
    assert_cited_fallback(answer, reason, extractive_answer, kind)
    assert len(fake_llm.requests) == requests, [r.at for r in fake_llm.requests]
    assert elapsed < BOUND_S, f"{elapsed:.1f}s"
    assert passages_in_prompt(fake_llm) == [1, 2, 3, 4, 5, 6]  # top_k passages reached the model
    if reason == "429":  # Retry-After: 1 was honoured between the attempts, roughly (not the 0.5 s backoff)
        gaps = [b.at - a.at for a, b in zip(fake_llm.requests, fake_llm.requests[1:], strict=False)]
        assert all(0.9 <= g <= 1.0 + 3.0 for g in gaps), gaps
    if "deadline" in str(script):
        assert elapsed >= DEADLINE_S - 0.5  # waited for its deadline, not for the server's 30 s


async def test_connection_refused_falls_back_within_the_deadline(
    llm_engine: Callable[..., Engine], extractive_answer: Answer
) -> None:
    engine = llm_engine(openai_base_url=f"http://127.0.0.1:{closed_port()}/v1")
    started = time.monotonic()
    answer = await engine.aask(QUESTION)
    assert_cited_fallback(answer, r"[Cc]onnection", extractive_answer)
    assert time.monotonic() - started < BOUND_S


@pytest.mark.parametrize("stream", [False, True], ids=["aask", "astream"])
@pytest.mark.parametrize(
    ("script", "status"),
    [
        pytest.param([Status(500)], 500, id="500"),
        pytest.param([Status(429, retry_after="1")], 429, id="429"),
        pytest.param([Slow(30.0)], 0, id="slow-first-byte"),
    ],
)
async def test_a_retry_that_succeeds_gives_the_verified_llm_answer(
    llm_engine: Callable[..., Engine], fake_llm: FakeOpenAI, script: list[Behaviour], status: int, stream: bool
) -> None:
    def honest(body: dict[str, Any]) -> Behaviour:
        user = "\n".join(m["content"] for m in body["messages"] if m["role"] == "user")
        n = next(m.group(1) for m in re.finditer(r'<passage n="(\d+)"[^>]*>\n(.*?)\n</passage>', user, re.S)
                 if "at 41" in m.group(2))
        return Reply(f"Tajikistan put the number of people killed on its side at 41 [{n}].")

    fake_llm.script(*script)
    fake_llm.default = honest
    engine = llm_engine()
    if stream:
        events = [e async for e in engine.astream(QUESTION)]
        assert isinstance(events[-1], FinalAnswer) and any(isinstance(e, TextDelta) for e in events)
        answer = events[-1].answer
    else:
        answer = await engine.aask(QUESTION)
    assert answer.mode == "llm" and answer.fallback_reason is None, answer.fallback_reason
    assert answer.text == "Tajikistan put the number of people killed on its side at 41 [1]."
    assert "41" in answer.citations[0].quote
    assert len(fake_llm.requests) == 2  # the first attempt failed, the retry answered
    if status == 429:
        assert fake_llm.requests[1].at - fake_llm.requests[0].at >= 0.9


# --- astream: the Discord path --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "reason", "deltas", "requests"),
    [
        pytest.param(
            [CutStream("Tajikistan put the number of people killed on its side at 41 [1].", after=2)],
            r"[Cc]onnection", True, 1, id="stream-cut-midway",
        ),
        # Before the fix in bot/llm.py the stall timeout also bounded the wait for the first chunk, which
        # includes the client's retries: a stream gave up after one attempt (500/429/timeout alike).
        pytest.param(
            [Slow(30.0)] * ATTEMPTS, r"timed out|did not answer", False, ATTEMPTS, id="stream-slow-first-byte"
        ),
        pytest.param([Status(500)] * ATTEMPTS, r"HTTP 500", False, ATTEMPTS, id="stream-500"),
    ],
)
async def test_broken_stream_ends_with_exactly_one_cited_fallback(
    llm_engine: Callable[..., Engine],
    fake_llm: FakeOpenAI,
    extractive_answer: Answer,
    script: list[Behaviour],
    reason: str,
    deltas: bool,
    requests: int,
) -> None:
    engine = llm_engine()
    fake_llm.script(*script)
    started = time.monotonic()
    events = [e async for e in engine.astream(QUESTION)]
    elapsed = time.monotonic() - started
    finals = [e for e in events if isinstance(e, FinalAnswer)]
    assert len(finals) == 1 and events[-1] is finals[0]
    streamed = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert bool(streamed) is deltas  # the partial text was shown, then replaced by the fallback
    assert_cited_fallback(finals[0].answer, reason, extractive_answer)
    assert all(r.body.get("stream") is True for r in fake_llm.requests)
    assert len(fake_llm.requests) == requests
    assert elapsed < BOUND_S, f"{elapsed:.1f}s"


# --- hallucinated citations that verification can repair ------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "action"),
    [
        # An uncited sentence is attached only when its quote holds every content word of it
        # (VerifierConfig.max_uncited_unquoted), so this one keeps the corpus's own wording.
        ("The Tajik government put the number of people killed on its side at 41.", "no citation; attached"),
        ("Tajikistan put the number of people killed on its side at 41 [9].", "cites [9]"),
    ],
    ids=["no-citation", "invented-citation"],
)
async def test_a_true_sentence_with_a_missing_or_invented_citation_is_repointed(
    llm_engine: Callable[..., Engine], fake_llm: FakeOpenAI, reply: str, action: str
) -> None:
    """By design not a fallback: the claim is true, so verification attaches the passage that states it."""
    fake_llm.script(Reply(reply))
    answer = await llm_engine().aask(QUESTION)
    assert answer.mode == "llm"
    [check] = answer.checks
    assert check.action == "repointed" and check.reason.startswith(action), check.reason
    assert answer.text == reply.removesuffix(".").removesuffix(" [9]") + " [1]."
    assert "41" in answer.citations[0].quote and len(answer.citations) == 1


async def test_an_uncited_paraphrase_is_not_attached_to_a_passage_that_words_it_differently(
    llm_engine: Callable[..., Engine], fake_llm: FakeOpenAI, extractive_answer: Answer
) -> None:
    """Uncited and reworded ("died": the quote has "killed"): the model gave no source, so the
    verifier does not lend it one on partial overlap; with nothing left, the labelled fallback answers."""
    fake_llm.script(Reply("Tajikistan said that 41 of its people died."))
    answer = await llm_engine().aask(QUESTION)
    assert answer.mode == "fallback"
    [check] = answer.checks
    assert check.action == "dropped" and check.reason.endswith("does not hold 'die'"), check.reason


# --- one deadline per question (FOOTNOTE_QUESTION_DEADLINE_S) -------------------------------------------
# A frozen server with production timeouts (30 s per attempt, 2 retries): without the question's deadline
# the client alone would wait 30 x 3 + 2 x 2 = 94 s (twice that in a conversation: rewrite, then answer).
# The evidence that the deadline ended the wait is the fallback kind and the number of attempts (one per
# LLM call: none was retried); the elapsed time is only checked against a generous sanity ceiling.

FROZEN = {"llm_timeout_s": 30.0, "llm_max_retries": 2, "question_deadline_s": 2.0}
SANITY_CEILING_S = 45.0  # far below 94 s; far above 2 s + retrieval and the first embeddings on a loaded box


@pytest.mark.parametrize("stream", [False, True], ids=["aask", "astream"])
async def test_a_frozen_server_gives_the_labelled_fallback_at_the_questions_deadline(
    llm_engine: Callable[..., Engine], fake_llm: FakeOpenAI, extractive_answer: Answer, stream: bool
) -> None:
    fake_llm.default = Slow(120.0)
    engine = llm_engine(**FROZEN)
    started = time.monotonic()
    if stream:
        events = [e async for e in engine.astream(QUESTION)]
        assert isinstance(events[-1], FinalAnswer)
        answer = events[-1].answer
    else:
        answer = await engine.aask(QUESTION)
    elapsed = time.monotonic() - started
    assert_cited_fallback(answer, r"deadline", extractive_answer, "deadline")
    assert len(fake_llm.requests) == 1  # the first attempt was cut by the deadline, nothing was retried
    assert elapsed < SANITY_CEILING_S, f"{elapsed:.1f}s"


async def test_in_a_conversation_rewrite_and_answer_share_the_deadline(
    llm_engine: Callable[..., Engine], fake_llm: FakeOpenAI
) -> None:
    engine = llm_engine(llm_timeout_s=TIMEOUT_S, llm_max_retries=RETRIES)

    def honest(body: dict[str, Any]) -> Behaviour:
        user = "\n".join(m["content"] for m in body["messages"] if m["role"] == "user")
        n = next(m.group(1) for m in re.finditer(r'<passage n="(\d+)"[^>]*>\n(.*?)\n</passage>', user, re.S)
                 if "at 41" in m.group(2))
        return Reply(f"Tajikistan put the number of people killed on its side at 41 [{n}].")

    fake_llm.default = honest
    assert (await engine.aask(QUESTION, conversation_id="frozen")).mode == "llm"
    frozen = llm_engine(**FROZEN)
    fake_llm.default = Slow(120.0)
    before = len(fake_llm.requests)
    started = time.monotonic()
    answer = await frozen.aask("And what did Kyrgyzstan say?", conversation_id="frozen")
    elapsed = time.monotonic() - started
    assert answer.mode == "fallback" and answer.fallback_kind == "deadline", answer.fallback_reason
    assert answer.citations and not answer.refused
    # One condense request (cut at a third of the deadline, then the offline rewrite) and one answer request.
    assert len(fake_llm.requests) - before == 2
    assert answer.rewritten_question and "Kyrgyzstan" in answer.rewritten_question
    assert elapsed < SANITY_CEILING_S, f"{elapsed:.1f}s"
