"""Secrets never leak: with OPENAI_API_KEY and DISCORD_TOKEN set, no output, log record (DEBUG included), error
message, answer trace, settings dump or file under the data dir contains either value.

Each path is driven to its error branch on purpose (HTTP 500/401, timeouts, a cut stream, a bad file, an
unwritable data dir, invalid settings, an unexpected exception in the bot, a rejected token), because that is
where a careless `repr`, a dumped request or a traceback would carry a secret. The LLM cases also check that the
fake server *did* receive the key, so the secret really was in play.
"""

from __future__ import annotations

# First: imports discord with its import-time `audioop` DeprecationWarning silenced (warnings are errors).
import tests.fakes.discord_gateway  # noqa: F401

# isort: split

import asyncio
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from bot.answer import FinalAnswer
from bot.cli import main
from bot.discord.launch import arun_bot
from bot.engine import Engine
from bot.llm import LLMClient
from index.admin import IndexAdmin
from index.errors import ConfigError, FootnoteError
from index.settings import Settings
from tests.fakes.discord_gateway import CHANNELS, FakeDiscord
from tests.fakes.discord_harness import AllLogs, FakeAdmin, FakeService, running_bot
from tests.fakes.openai_server import Behaviour, CutStream, FakeOpenAI, Garbage, Reply, Slow, Status
from tests.test_reliability_llm import engine_for, ingest_corpus

REPO = Path(__file__).resolve().parents[1]
OPENAI_SECRET = "sk-test-SECRET-123"
DISCORD_SECRET = "discord-SECRET-456"
SECRETS = (OPENAI_SECRET, DISCORD_SECRET)
TOLL_Q = "How many people did Tajikistan say were killed?"
# One question per scripted fault, so that concurrent CLI processes each meet their own fault.
FAULT_QUESTIONS: dict[str, Behaviour] = {
    "Which drones did Kyrgyzstan buy from Turkey?": Status(500),
    "What did Tajik media accuse Kyrgyz forces of?": Slow(30.0),
    "What is the Organization of Turkic States?": Status(401),
    "Why did Tajikistan want Turkish drones?": CutStream("Tajikistan wanted drones too [1].", after=1),
    "How did Turkey balance its ties in the region?": Garbage(),
}


def leaks(*texts: object) -> list[str]:
    """The secrets found in `texts` (any object: its str and repr are searched)."""
    blob = "\n".join(f"{t}\n{t!r}" for t in texts)
    return [s for s in SECRETS if s in blob]


def file_leaks(root: Path) -> list[str]:
    """Files under `root` whose bytes contain a secret (SQLite, Chroma, BM25, logs...)."""
    found = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path}: {s}" for s in SECRETS if s.encode() in data]
    return found


def log_text(records: list[logging.LogRecord]) -> str:
    fmt = logging.Formatter("%(levelname)s %(name)s %(message)s")
    return "\n".join(fmt.format(r) + f" {r.args!r}" for r in records)


def honest_or_faulty(body: dict[str, Any]) -> Behaviour:
    user = "\n".join(str(m["content"]) for m in body.get("messages", []) if m["role"] == "user")
    for question, fault in FAULT_QUESTIONS.items():
        if f"Question: {question}" in user:
            return fault
    for m in re.finditer(r'<passage n="(\d+)"[^>]*>\n(.*?)\n</passage>', user, re.S):
        if "at 41" in m.group(2):
            return Reply(f"Tajikistan put the number of people killed on its side at 41 [{m.group(1)}].")
    return Reply("The documents don't answer this question.")


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Path:
    return ingest_corpus(tmp_path_factory.mktemp("secrets") / "data", embedder)


@pytest.fixture(scope="module")
def fake_llm() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI(default=honest_or_faulty).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch, fake_llm: FakeOpenAI) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_SECRET)
    monkeypatch.setenv("DISCORD_TOKEN", DISCORD_SECRET)
    monkeypatch.setenv("OPENAI_BASE_URL", fake_llm.base_url)


# --- the CLI, as a user runs it ---------------------------------------------------------------------------


def _bad_corpus(root: Path) -> Path:
    root.mkdir()
    (root / "good.md").write_text("---\ntitle: Good\n---\nKyrgyzstan bought Bayraktar TB2 drones in 2021.\n")
    (root / "broken.pdf").write_bytes(b"%PDF-1.4\n this is not a pdf at all \x00\xff")
    (root / "broken.docx").write_bytes(b"PK\x03\x04 not a zip either")
    (root / "notes.xyz").write_text("unsupported")
    return root


CLI_CASES: dict[str, tuple[list[str], dict[str, str], int]] = {  # name: (argv, extra env, exit code)
    "ask-extractive": (["-v", "ask", TOLL_Q, "--mode", "extractive"], {}, 0),
    "ask-llm": (["-v", "ask", TOLL_Q, "--mode", "llm", "--trace"], {}, 0),
    "ask-llm-500-json": (["-v", "ask", "Which drones did Kyrgyzstan buy from Turkey?", "--mode", "llm", "--json"],
                         {}, 0),
    "ask-llm-timeout-trace": (["-v", "ask", "What did Tajik media accuse Kyrgyz forces of?", "--mode", "llm",
                               "--trace"], {}, 0),
    "ask-llm-401-json": (["-v", "ask", "What is the Organization of Turkic States?", "--mode", "llm", "--json"],
                         {}, 0),
    "ask-too-long": (["-v", "ask", "x" * 3000, "--mode", "llm"], {}, 2),
    "status": (["-v", "status", "--json"], {}, 0),
    "ingest-bad-files": (["-v", "ingest", "{bad}", "--json"], {"FOOTNOTE_DATA_DIR": "{fresh}"}, 0),
    "ingest-unwritable-data-dir": (["-v", "ingest", "{bad}"], {"FOOTNOTE_DATA_DIR": "{unwritable}"}, 2),
    "invalid-settings": (["-v", "status"], {"FOOTNOTE_LLM_TIMEOUT_S": "soon"}, 2),
}


@pytest.fixture(scope="module")
def cli_runs(
    corpus_dir: Path, fake_llm: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, subprocess.CompletedProcess[str]]:
    """Every CLI case, a few at a time (the model loads overlap), with both secrets in the environment."""
    base = tmp_path_factory.mktemp("secrets-cli")
    (base / "a-file").write_text("not a directory")
    paths = {"bad": str(_bad_corpus(base / "bad")), "fresh": str(base / "fresh-data"),
             "unwritable": str(base / "a-file" / "data")}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CHROMA_", "FOOTNOTE_", "DISCORD_"))}
    env.update(OPENAI_API_KEY=OPENAI_SECRET, DISCORD_TOKEN=DISCORD_SECRET, OPENAI_BASE_URL=fake_llm.base_url,
               FOOTNOTE_DATA_DIR=str(corpus_dir), FOOTNOTE_LLM_TIMEOUT_S="2", FOOTNOTE_LLM_MAX_RETRIES="1")

    def run(name: str) -> subprocess.CompletedProcess[str]:
        argv, extra, _ = CLI_CASES[name]
        case_env = {**env, **{k: v.format(**paths) for k, v in extra.items()}}
        args = [a.format(**paths) for a in argv]
        return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=REPO, env=case_env, capture_output=True,
                              text=True, timeout=300)

    with ThreadPoolExecutor(max_workers=4) as pool:  # ~400 MB each: a few at a time
        out = dict(zip(CLI_CASES, pool.map(run, CLI_CASES), strict=True))
    out["_files"] = subprocess.CompletedProcess([], 0, "\n".join(file_leaks(corpus_dir) + file_leaks(base)), "")
    return out


@pytest.mark.parametrize("case", list(CLI_CASES))
def test_cli_output_never_contains_a_secret(
    cli_runs: dict[str, subprocess.CompletedProcess[str]], fake_llm: FakeOpenAI, case: str
) -> None:
    run = cli_runs[case]
    assert run.returncode == CLI_CASES[case][2], run.stderr[-3000:]
    assert not leaks(run.stdout, run.stderr), case
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    if case.startswith("ask-llm"):
        assert f"Bearer {OPENAI_SECRET}" in {r.headers.get("Authorization") for r in fake_llm.requests}
    if case.endswith("-json"):
        answer = json.loads(run.stdout)
        assert answer["mode"] == "fallback" and answer["citations"] and answer["trace"]["retrieval"]
        assert "INFO" in run.stderr or "WARNING" in run.stderr  # -v: the error path did log
    if case == "ask-llm-timeout-trace":
        assert run.stdout.startswith("(LLM unavailable") and '"fallback_reason"' in run.stdout
    if case == "ingest-bad-files":
        skipped = {Path(s["path"]).name for s in json.loads(run.stdout)["skipped"]}
        assert skipped == {"broken.pdf", "broken.docx", "notes.xyz"}
    if run.returncode == 2:
        assert run.stderr.strip().splitlines()[-1].startswith("footnote: ")


def test_no_file_under_the_data_dirs_contains_a_secret(cli_runs: dict[str, subprocess.CompletedProcess[str]]) -> None:
    assert cli_runs["_files"].stdout == ""


# --- settings and error messages ------------------------------------------------------------------------


def test_settings_show_no_secret(
    secret_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    assert settings.openai_api_key and settings.openai_api_key.get_secret_value() == OPENAI_SECRET
    assert settings.discord_token and settings.discord_token.get_secret_value() == DISCORD_SECRET
    dumps = [repr(settings), str(settings), settings.model_dump(), settings.model_dump(mode="json"),
             settings.model_dump_json(), f"{settings}", LLMClient(settings), repr(LLMClient(settings))]
    assert not leaks(*dumps)
    with pytest.raises(ValidationError) as err:
        Settings(_env_file=None, data_dir=tmp_path, llm_timeout_s="soon")  # type: ignore[call-arg]
    assert not leaks(str(err.value), repr(err.value), err.value.errors())
    monkeypatch.setenv("FOOTNOTE_TOP_K", "lots")
    assert main(["status"]) == 2
    captured = capsys.readouterr()
    assert "Invalid configuration" in captured.err and not leaks(captured.out, captured.err)


# --- the engine's LLM error paths, every log record at DEBUG --------------------------------------------


async def test_engine_error_paths_log_no_secret(
    secret_env: None,
    corpus_dir: Path,
    embedder: Any,
    fake_llm: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=corpus_dir, answer_mode="llm", llm_timeout_s=1.0, llm_max_retries=1
    )
    engine: Engine = engine_for(settings, embedder, monkeypatch)
    answers = [await engine.aask(TOLL_Q)]
    for question, fault in FAULT_QUESTIONS.items():
        if not isinstance(fault, CutStream):  # (a cut only happens to a stream)
            answers.append(await engine.aask(question))
        events = [e async for e in engine.astream(question)]
        assert isinstance(events[-1], FinalAnswer)
        answers.append(events[-1].answer)
    assert answers[0].mode == "llm"
    assert [a.mode for a in answers[1:]] == ["fallback"] * (2 * len(FAULT_QUESTIONS) - 1), [a.mode for a in answers]
    reasons = {a.fallback_reason for a in answers[1:]}
    assert any("credentials (HTTP 401)" in str(r) for r in reasons), reasons
    records = caplog.records
    assert any(r.levelno == logging.DEBUG for r in records) and any(r.levelno == logging.WARNING for r in records)
    assert not leaks(log_text(records))
    assert not leaks(*(json.dumps(a.to_json(), default=str) for a in answers), *reasons)
    assert {r.headers.get("Authorization") for r in fake_llm.requests} >= {f"Bearer {OPENAI_SECRET}"}


# --- the Discord bot: gateway, REST, the error-id path --------------------------------------------------


class _Exploding:
    """Wraps the real engine; one question raises an unexpected error (the error-id path logs its traceback)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.streams = engine.streams

    async def aask(self, question: str, **kw: Any) -> Any:
        if "explode" in question:
            raise RuntimeError("injected failure in the answer service")
        return await self.engine.aask(question, **kw)

    def astream(self, question: str, **kw: Any) -> Any:
        if "explode" in question:
            raise RuntimeError("injected failure in the answer service")
        return self.engine.astream(question, **kw)


@pytest.mark.parametrize("mode", ["extractive", "llm"])
async def test_discord_bot_logs_no_secret(
    secret_env: None,
    corpus_dir: Path,
    embedder: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    mode: str,
) -> None:
    # The fake Discord accepts only the secret token, on the gateway and on REST: the bot must send it there.
    monkeypatch.setattr("tests.fakes.discord_gateway.TOKEN", DISCORD_SECRET)
    monkeypatch.setattr("tests.fakes.discord_harness.TOKEN", DISCORD_SECRET)
    settings = Settings(_env_file=None, data_dir=corpus_dir, answer_mode=mode, llm_timeout_s=1.0,  # type: ignore[call-arg]
                        llm_max_retries=1)
    engine = engine_for(settings, embedder, monkeypatch)
    logs = AllLogs()
    root = logging.getLogger()
    root.addHandler(logs)
    caplog.set_level(logging.DEBUG)
    try:
        async with running_bot(monkeypatch, tmp_path, service=_Exploding(engine)) as env:  # type: ignore[arg-type]
            env.expected_errors.append("injected failure")
            env.bot.admin = IndexAdmin(settings, embedder)
            fake = env.fake
            assert fake.identifies[0]["token"] == DISCORD_SECRET
            await fake.say(CHANNELS[0], TOLL_Q, mention_bot=True)
            await fake.say(CHANNELS[1], "Which drones did Kyrgyzstan buy from Turkey?", mention_bot=True)
            await fake.say(CHANNELS[2], "please explode", mention_bot=True)
            boom = await fake.slash("ask", {"question": "explode again"})
            status = await fake.slash("status", permissions=str(1 << 5))
            await fake.wait_until(lambda: len([m for m in fake.bot_messages() if m["embeds"]]) >= 2, 60)
            await fake.wait_until(lambda: boom.followups and status.followups, 30)
            texts = [m["content"] for m in fake.bot_messages()]
            assert sum("error id" in t for t in texts) == 2, texts
    finally:
        root.removeHandler(logs)
    assert any("unexpected error" in line for line in logs.lines) and "Traceback" in log_text(caplog.records)
    assert len(logs.lines) > 50  # DEBUG from discord.py, httpx, the engine...
    assert not leaks(*logs.lines, log_text(caplog.records))
    assert not leaks(json.dumps([r.json for r in fake.requests], default=str))  # nothing sent to Discord either
    assert not file_leaks(tmp_path)


async def test_a_rejected_discord_token_is_reported_without_it(
    secret_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake = FakeDiscord()  # expects its own token: ours is rejected with 401
    await fake.start()
    fake.patch(monkeypatch)
    try:
        settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
        with pytest.raises(ConfigError, match="rejected DISCORD_TOKEN") as err:
            await asyncio.wait_for(arun_bot(settings, FakeService(), FakeAdmin(), guild_ready_timeout=0.05), 10)
    finally:
        await fake.close()
    assert isinstance(err.value, FootnoteError)
    assert not leaks(str(err.value), repr(err.value), err.value.__cause__, log_text(caplog.records))
