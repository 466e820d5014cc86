"""Footnote's real LLM path against a real model: SmolLM2-135M-Instruct served by llama.cpp (`xllamacpp`) on
127.0.0.1, the engine built by `bot.cli.build_engine` over `examples/corpus` + the seed article.

SmolLM2 is weak and invents facts: an adversary for the verifier. What must hold whatever it writes: the
stream ends with exactly one verified FinalAnswer; no sentence shown as footnoted carries a name, designator
or number that its quoted span lacks; a frozen or killed server gives the labelled extractive answer, in
bounded time. Measured figures (kept / repointed / dropped, hand-labelled precision) are `bench.real_llm`'s.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bench.real_llm import claim_records, unsupported_terms
from bot.answer import Answer, FinalAnswer, TextDelta
from bot.cli import build_engine, fallback_line
from bot.engine import Engine
from index.settings import Settings
from tests.fakes.llama_server import LlamaServer

pytestmark = pytest.mark.slow

QUESTION = "What death toll has Tajikistan given for the fighting?"
FAULT_QUESTION = "How many people did Tajikistan say were killed?"
# Small context so one SmolLM2 answer takes ~1-3 min on the shared 2-core machine; generous LLM timeouts for
# the normal path (a loaded machine is slow, and these tests are not about speed).
NORMAL = {"top_k": 4, "context_tokens": 900, "llm_timeout_s": 240.0, "llm_max_retries": 0,
          "question_deadline_s": 400.0}
FAULT_DEADLINE_S = 4.0
# Past the deadline: retrieval + the extractive answer on a loaded machine.
SLACK_S = 25.0


@pytest.fixture(scope="module")
def make_engine(real_llm_data_dir: Path, llama_server: LlamaServer, embedder: Any) -> Callable[..., Engine]:
    def make(**over: Any) -> Engine:
        values: dict[str, Any] = {"data_dir": real_llm_data_dir, "answer_mode": "llm",
                                  "openai_base_url": llama_server.openai_base_url, "verify_judge": False,
                                  **NORMAL, **over}
        settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
        mp = pytest.MonkeyPatch()
        mp.setattr("index.embeddings.make_embedder", lambda _settings: embedder)
        try:
            engine = build_engine(settings)
        finally:
            mp.undo()
        assert isinstance(engine, Engine)
        return engine

    return make


async def _collect(engine: Engine, question: str) -> tuple[list[Any], list[list[Any]]]:
    seen: list[list[Any]] = []
    original = engine.strategy.run

    def run(request: Any) -> Any:
        seen.append(list(request.passages))
        return original(request)

    engine.strategy.run = run  # type: ignore[method-assign]
    events = [event async for event in engine.astream(question)]
    return events, seen


@pytest.fixture(scope="module")
def streamed(make_engine: Callable[..., Engine]) -> tuple[list[Any], list[Any]]:
    events, seen = asyncio.run(_collect(make_engine(), QUESTION))
    return events, seen[-1]


def test_stream_ends_with_one_verified_final_answer(streamed: tuple[list[Any], list[Any]]) -> None:
    events, _passages = streamed
    assert any(isinstance(e, TextDelta) and e.text for e in events), "the real model streamed no text"
    finals = [e for e in events if isinstance(e, FinalAnswer)]
    assert len(finals) == 1 and events[-1] is finals[0]
    answer: Answer = finals[0].answer
    assert answer.checks, "the model's sentences were never verified"
    if answer.mode == "fallback":  # the server was up: only verification may have replaced the answer
        assert answer.fallback_kind == "unverified", answer.fallback_reason
    else:
        assert answer.mode == "llm"
    assert answer.citations, answer.text
    for c in answer.citations:
        assert c.quote and c.quote in c.context, f"footnote [{c.n}] quotes text its passage lacks: {c.quote!r}"


def test_no_kept_claim_names_a_term_its_quote_lacks(streamed: tuple[list[Any], list[Any]]) -> None:
    events, passages = streamed
    answer = events[-1].answer
    records = claim_records(answer, passages)
    shown = [r for r in records if r["shown"]]
    texts = [p.text for p in passages]
    violations = [(r["claim"], r["quotes"], missing) for r in shown
                  if (missing := unsupported_terms(r["claim"], r["quotes"], texts))]
    assert not violations, violations
    for r in shown:
        assert r["quotes"], f"kept claim shown without a quote: {r['claim']!r}"


def test_frozen_server_gives_the_labelled_extractive_answer_within_the_deadline(
    make_engine: Callable[..., Engine], llama_server: LlamaServer
) -> None:
    engine = make_engine(llm_timeout_s=3.0, llm_max_retries=1, question_deadline_s=FAULT_DEADLINE_S)
    llama_server.freeze()
    try:
        started = time.monotonic()
        answer = engine.ask(FAULT_QUESTION)
        elapsed = time.monotonic() - started
    finally:
        llama_server.thaw()
    assert answer.mode == "fallback" and answer.fallback_kind in ("deadline", "llm_error"), answer.fallback_reason
    assert answer.citations and "[1]" in answer.text
    assert elapsed <= FAULT_DEADLINE_S + SLACK_S, f"{elapsed:.1f} s for a frozen server"
    assert "LLM" in fallback_line(answer)


def test_server_killed_mid_stream_gives_the_labelled_extractive_answer(
    make_engine: Callable[..., Engine], llama_server: LlamaServer
) -> None:
    """Runs last: the module's server is gone afterwards."""
    engine = make_engine()

    async def scenario() -> tuple[list[Any], float]:
        events: list[Any] = []
        killed_at = 0.0
        async for event in engine.astream(FAULT_QUESTION):
            events.append(event)
            if isinstance(event, TextDelta) and not killed_at:
                llama_server.kill()
                killed_at = time.monotonic()
        return events, time.monotonic() - killed_at

    events, after_kill = asyncio.run(scenario())
    assert any(isinstance(e, TextDelta) for e in events), "no text streamed before the kill"
    final = events[-1]
    assert isinstance(final, FinalAnswer) and sum(isinstance(e, FinalAnswer) for e in events) == 1
    answer = final.answer
    assert answer.mode == "fallback" and answer.fallback_kind == "llm_error", (answer.mode, answer.fallback_reason)
    assert answer.citations and "[1]" in answer.text
    assert after_kill <= SLACK_S, f"{after_kill:.1f} s from the kill to the fallback"
    assert fallback_line(answer).startswith("(LLM unavailable")
