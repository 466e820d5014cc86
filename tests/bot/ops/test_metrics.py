"""/healthz and /metrics scraped while the real discord.py bot answers through the loopback gateway (issue 14
item 7)."""

from __future__ import annotations

# First: imports discord with its import-time `audioop` DeprecationWarning silenced (warnings are errors).
import tests.fakes.discord_gateway  # noqa: F401

# isort: split

import asyncio
import json
import os
import re
import signal
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from bot.discord.launch import arun_bot
from bot.ops.metrics import BotMetrics, MeteredService, OpsServer, start_ops
from bot.prompting import count_tokens
from index.errors import IndexUnavailableError
from index.settings import Settings
from tests.bot.conftest import passage_number
from tests.fakes.chroma_server import free_port
from tests.fakes.discord_gateway import CHANNELS, FakeDiscord, user
from tests.fakes.discord_harness import FakeAdmin, FakeService, make_answer, make_settings, running_bot
from tests.fakes.openai_server import FakeOpenAI, Reply
from tests.test_reliability_llm import engine_for, ingest_corpus

BOB = user(800000000000000002, "bob")
TOLL_Q = "How many people did Tajikistan say were killed?"

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get(url: str) -> tuple[int, str]:
    try:
        with _OPENER.open(url, timeout=10) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as err:
        return int(err.code), err.read().decode()


def sample(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        match = re.match(r"^(\w+)(?:\{([^}]*)\})? (\S+)$", line)
        if match and match[1] == name and ",".join(sorted((match[2] or "").split(","))) == wanted:
            return float(match[3])
    raise AssertionError(f"{name}{{{wanted}}} not in /metrics")


@pytest.mark.parametrize("streams", [False, True])
async def test_metrics_and_health_while_the_bot_answers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, streams: bool
) -> None:
    def reply(question: str) -> object:
        if "refuse" in question:
            return make_answer(question, "I cannot answer that from the documents.", citations=[], refused=True,
                               mode="extractive")
        if "fallback" in question:
            return make_answer(question, mode="fallback", fallback_kind="llm_error")
        # The trace's token counts as the engine writes them (a judge's too, were it recorded): exported as is.
        tokens = {"prompt": 90, "completion": 8, "llm_prompt_tokens": 100, "llm_completion_tokens": 7,
                  "judge_prompt_tokens": 40, "judge_completion_tokens": 3}
        return make_answer(question, trace={"tokens": tokens})

    metrics = BotMetrics()
    service = MeteredService(FakeService(streams=streams, reply=reply), metrics)  # type: ignore[arg-type]
    index = {"chunks": 42}

    def chunks() -> int:
        if index["chunks"] < 0:
            raise IndexUnavailableError("The index is unavailable")
        return index["chunks"]

    async with running_bot(monkeypatch, tmp_path, service=service) as env:  # type: ignore[arg-type]
        bot = env.bot
        ops = OpsServer(metrics, index_chunks=chunks).start()
        ops.attach(bot)  # as `footnote discord --metrics-port` does once the bot is built
        base = f"http://127.0.0.1:{ops.port}"
        try:
            status, body = await asyncio.to_thread(get, f"{base}/healthz")
            assert status == 200, body
            assert json.loads(body) == {"gateway_connected": True, "index_reachable": True, "index_chunks": 42}

            for question in ("how do deploys work?", "what about rollbacks?", "please refuse this", "fallback?"):
                await env.fake.say(CHANNELS[0], question, mention_bot=True)
            await env.fake.wait_until(
                lambda: metrics.registry.get_sample_value("footnote_answer_seconds_count") == 4, timeout=20)

            status, text = await asyncio.to_thread(get, f"{base}/metrics")
            assert status == 200
            assert sample(text, "footnote_questions_total", mode="llm", outcome="answered") == 2
            assert sample(text, "footnote_questions_total", mode="extractive", outcome="refused") == 1
            assert sample(text, "footnote_questions_total", mode="fallback", outcome="fallback") == 1
            assert sample(text, "footnote_answer_seconds_count") == 4
            assert sample(text, "footnote_gateway_connected") == 1
            assert sample(text, "footnote_index_chunks") == 42
            tokens = {(stage, kind): sample(text, "footnote_llm_tokens_total", stage=stage, kind=kind,
                                            counted_by="server") for stage in ("generation", "judge")
                      for kind in ("prompt", "completion")}
            assert tokens == {("generation", "prompt"): 200, ("generation", "completion"): 14,
                              ("judge", "prompt"): 80, ("judge", "completion"): 6}
            assert "counted_by=\"local\"" not in text  # the server's figures, when there are any, not both
            assert sample(text, "footnote_feedback_votes_total", verdict="up") == 0

            index["chunks"] = -1  # the index goes away: unhealthy, and says why
            status, body = await asyncio.to_thread(get, f"{base}/healthz")
            assert status == 503
            assert json.loads(body)["index_reachable"] is False
        finally:
            ops.stop()


async def test_the_footnote_discord_wiring_serves_health_until_shutdown(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """What `footnote discord --metrics-port` runs: `start_ops`, then `arun_bot(on_bot=ops.attach)`."""
    fake = FakeDiscord()
    await fake.start()
    fake.patch(monkeypatch)
    settings = make_settings(tmp_path, metrics_port=free_port())
    assert settings.metrics_port is not None
    service, ops = start_ops(settings, FakeService(), FakeAdmin(), settings.metrics_port)
    base = f"http://127.0.0.1:{ops.port}"
    try:
        status, body = await asyncio.to_thread(get, f"{base}/healthz")
        assert status == 503 and json.loads(body)["gateway_connected"] is False  # the bot is not built yet
        run = asyncio.create_task(arun_bot(settings, service, FakeAdmin(), guild_ready_timeout=0.05,
                                           on_bot=ops.attach))
        await fake.wait_until(lambda: fake.sessions_ready)
        await fake.wait_until(lambda: ops.health()[0] == 200)
        status, body = await asyncio.to_thread(get, f"{base}/healthz")
        assert status == 200 and json.loads(body)["index_chunks"] == 340  # FakeAdmin's /status figure
        await fake.say(CHANNELS[0], "how do deploys work?", mention_bot=True)
        await fake.wait_until(
            lambda: ops.metrics.registry.get_sample_value("footnote_answer_seconds_count") == 1)
        os.kill(os.getpid(), signal.SIGTERM)  # arun_bot's handler: graceful shutdown
        await asyncio.wait_for(run, 10)
        status, _ = await asyncio.to_thread(get, f"{base}/healthz")
        assert status == 503  # gateway closed
    finally:
        ops.stop()
        await fake.close()


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Path:
    return ingest_corpus(tmp_path_factory.mktemp("metrics") / "data", embedder)


def cite_the_toll(body: dict[str, Any]) -> Reply:
    prompt = "\n".join(str(m["content"]) for m in body["messages"] if m["role"] == "user")
    return Reply(f"The Tajik government puts the number of people killed on its side at 41 "
                 f"[{passage_number(prompt, 'at 41')}].")


def button(msg: dict[str, Any], prefix: str) -> str:
    return next(c["custom_id"] for row in msg["components"] for c in row["components"]
                if c["custom_id"].startswith(prefix))


async def test_llm_tokens_and_feedback_votes_of_the_real_bot(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, corpus_dir: Path, embedder: Any, fake_llm: FakeOpenAI
) -> None:
    """The real engine in LLM mode against the fake OpenAI server, through the loopback gateway (a streamed
    answer: counted by the local tokenizer), then one non-streamed answer from the same service (the server's
    usage: prompt_tokens 100, completion_tokens = the reply's words); votes pressed on the bot's answer."""
    fake_llm.default = cite_the_toll
    settings = Settings(_env_file=None, data_dir=corpus_dir, answer_mode="llm",  # type: ignore[call-arg]
                        openai_base_url=fake_llm.base_url, llm_timeout_s=10.0, llm_max_retries=0)
    engine = engine_for(settings, embedder, monkeypatch)
    metrics = BotMetrics()
    service = MeteredService(engine, metrics)
    async with running_bot(monkeypatch, tmp_path, service=service) as env:  # type: ignore[arg-type]
        ops = OpsServer(metrics, index_chunks=lambda: 1).start()
        ops.attach(env.bot)
        try:
            fake = env.fake
            q = await fake.say(CHANNELS[0], TOLL_Q, mention_bot=True)
            [msg] = await fake.wait_until(lambda: [m for m in fake.bot_messages(int(q["id"])) if m["embeds"]], 30)
            assert "at 41 [1]" in msg["content"]
            [streamed] = fake_llm.requests
            assert streamed.body["stream"] is True
            prompt = sum(count_tokens(str(m["content"])) for m in streamed.messages)
            completion = count_tokens(cite_the_toll(streamed.body).text)

            up = await fake.click(msg, button(msg, "footnote:vote:up:"))  # alice 👍
            await fake.wait_until(lambda: up.callbacks)
            down = await fake.click(msg, button(msg, "footnote:vote:down:"), author=BOB)  # bob 👎, then why
            await fake.wait_until(lambda: down.callbacks)
            why = await fake.submit_modal(down, ["wrong country"], author=BOB)
            await fake.wait_until(lambda: why.callbacks)
            again = await fake.click(msg, button(msg, "footnote:vote:down:"), author=BOB)  # the same vote again
            await fake.wait_until(lambda: again.callbacks)
            changed = await fake.click(msg, button(msg, "footnote:vote:down:"))  # alice changes her mind
            await fake.wait_until(lambda: changed.callbacks)

            answer = await service.aask(TOLL_Q)  # not streamed: the server reports its usage
            assert answer.mode == "llm" and not fake_llm.requests[-1].body.get("stream")
            words = len(cite_the_toll(fake_llm.requests[-1].body).text.split())

            status, text = await asyncio.to_thread(get, f"http://127.0.0.1:{ops.port}/metrics")
            assert status == 200
            assert sample(text, "footnote_questions_total", mode="llm", outcome="answered") == 2
            local = {kind: sample(text, "footnote_llm_tokens_total", stage="generation", kind=kind,
                                  counted_by="local") for kind in ("prompt", "completion")}
            assert local == {"prompt": prompt, "completion": completion}
            server = {kind: sample(text, "footnote_llm_tokens_total", stage="generation", kind=kind,
                                   counted_by="server") for kind in ("prompt", "completion")}
            assert server == {"prompt": 100, "completion": words}
            assert "stage=\"judge\"" not in text and "stage=\"rewrite\"" not in text  # no such call was made
            assert sample(text, "footnote_feedback_votes_total", verdict="up") == 1
            assert sample(text, "footnote_feedback_votes_total", verdict="down") == 2
        finally:
            ops.stop()
