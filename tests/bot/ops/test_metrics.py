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

import pytest

from bot.discord.launch import arun_bot
from bot.ops.metrics import BotMetrics, MeteredService, OpsServer, start_ops
from index.errors import IndexUnavailableError
from tests.fakes.chroma_server import free_port
from tests.fakes.discord_gateway import CHANNELS, FakeDiscord
from tests.fakes.discord_harness import FakeAdmin, FakeService, make_answer, make_settings, running_bot

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
        return make_answer(question)

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
