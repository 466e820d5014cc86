"""FOOTNOTE_LOG_FORMAT=json: one JSON object per log line (issue 14 item 7), with no secret in any line and no
question text above DEBUG."""

from __future__ import annotations

# First: imports discord with its import-time `audioop` DeprecationWarning silenced (warnings are errors).
import tests.fakes.discord_gateway  # noqa: F401

# isort: split

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.ops.logs import JsonFormatter, use_log_format
from index.settings import Settings
from tests.conftest import REPO, SAMPLE_CORPUS
from tests.fakes.discord_gateway import CHANNELS
from tests.fakes.discord_harness import running_bot
from tests.fakes.openai_server import FakeOpenAI
from tests.index.test_lock import Holder, holders  # noqa: F401  (fixture)
from tests.test_reliability_llm import engine_for, ingest_corpus
from tests.test_secrets import DISCORD_SECRET, OPENAI_SECRET, TOLL_Q, _Exploding, honest_or_faulty, leaks


def test_a_record_becomes_one_json_line_with_control_characters_escaped() -> None:
    record = logging.LogRecord("index.lock", logging.WARNING, __file__, 1, "waiting for %s\x1b[2J", ("pid 7",), None)
    line = JsonFormatter().format(record)
    assert "\n" not in line and "\x1b" not in line
    entry = json.loads(line)
    assert entry["level"] == "warning" and entry["logger"] == "index.lock"
    assert entry["message"] == "waiting for pid 7\x1b[2J"
    assert entry["time"].endswith("+00:00")


def test_text_leaves_handlers_alone_json_switches_them() -> None:
    handler = logging.StreamHandler()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        use_log_format("text")
        assert not isinstance(handler.formatter, JsonFormatter)
        use_log_format("json")
        assert isinstance(handler.formatter, JsonFormatter)
    finally:
        root.removeHandler(handler)


@pytest.mark.slow
def test_cli_logs_json_lines(tmp_path: Path, holders: Callable[..., Holder]) -> None:  # noqa: F811
    data = tmp_path / "data"
    first = holders(data)
    assert first.line() == "HELD"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHROMA_", "FOOTNOTE_", "OPENAI_"))}
    env.update(FOOTNOTE_DATA_DIR=str(data), FOOTNOTE_LOG_FORMAT="json")
    done = subprocess.run([sys.executable, "-m", "bot.cli", "ingest", str(SAMPLE_CORPUS), "--wait", "1"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 2
    entries = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    waiting = [e for e in entries if e["logger"] == "index.lock"]
    assert waiting and "waiting up to 1 s" in waiting[0]["message"] and waiting[0]["level"] == "warning"


async def test_the_bots_json_log_lines_hold_no_secret_and_no_question_above_debug(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, embedder: Any, fake_llm: FakeOpenAI,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The real bot over the real LLM engine with both secrets set, DEBUG on: an answer, an LLM failure (HTTP 500:
    warnings) and an unexpected error (the error-id path: an ERROR with its traceback)."""
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_SECRET)
    monkeypatch.setenv("DISCORD_TOKEN", DISCORD_SECRET)
    monkeypatch.setattr("tests.fakes.discord_gateway.TOKEN", DISCORD_SECRET)
    monkeypatch.setattr("tests.fakes.discord_harness.TOKEN", DISCORD_SECRET)
    fake_llm.default = honest_or_faulty
    data = ingest_corpus(tmp_path / "data", embedder)
    settings = Settings(_env_file=None, data_dir=data, answer_mode="llm",  # type: ignore[call-arg]
                        openai_base_url=fake_llm.base_url, llm_timeout_s=5.0, llm_max_retries=0)
    engine = engine_for(settings, embedder, monkeypatch)
    questions = [TOLL_Q, "Which drones did Kyrgyzstan buy from Turkey?", "Please explode on this one"]
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())  # what FOOTNOTE_LOG_FORMAT=json does to the root logger's handlers
    root = logging.getLogger()
    root.addHandler(handler)
    caplog.set_level(logging.DEBUG)
    try:
        async with running_bot(monkeypatch, tmp_path / "bot", service=_Exploding(engine)) as env:  # type: ignore[arg-type]
            env.expected_errors.append("injected failure")
            for channel, question in zip(CHANNELS, questions, strict=False):
                await env.fake.say(channel, question, mention_bot=True)
            fake = env.fake
            await fake.wait_until(lambda: len([m for m in fake.bot_messages() if m["embeds"]]) >= 2, 60)
            await fake.wait_until(lambda: [m for m in fake.bot_messages() if "error id" in m["content"]], 30)
    finally:
        root.removeHandler(handler)
    entries = [json.loads(line) for line in out.getvalue().splitlines()]
    levels = {e["level"] for e in entries}
    assert {"debug", "warning", "error"} <= levels, levels
    assert fake_llm.requests[0].headers.get("Authorization") == f"Bearer {OPENAI_SECRET}"  # the secret was in play
    assert not leaks(out.getvalue())
    above_debug = [e for e in entries if e["level"] != "debug"]
    assert any("unexpected error" in e["message"] and "Traceback" in e.get("exception", "") for e in above_debug)
    said = [e for e in above_debug for q in questions if q.lower()[:-1] in json.dumps(e, ensure_ascii=False).lower()]
    assert not said, said
