"""The LLM client against the fake OpenAI server: retries, deadlines, streams and error translation."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from pydantic import SecretStr

from bot.deadline import QuestionDeadlineError
from bot.llm import LLMClient
from index.errors import LLMBadResponseError, LLMError, LLMRateLimitedError, LLMTimeoutError
from index.settings import Settings
from tests.fakes.openai_server import CutStream, FakeOpenAI, Garbage, Reply, Slow, StallStream, Status

MESSAGES = [
    ChatMessage(role=MessageRole.SYSTEM, content="rules"),
    ChatMessage(role=MessageRole.USER, content="question"),
]
KEY = "sk-test-secret-key-123"


@pytest.fixture
def client(fake_llm: FakeOpenAI, tmp_path: Path) -> LLMClient:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path,
        openai_base_url=fake_llm.base_url,
        openai_api_key=SecretStr(KEY),
        llm_model="fake-model",
        llm_timeout_s=0.5,
        llm_max_retries=1,
    )
    return LLMClient(settings)


async def test_completion_sends_messages_model_and_key(client: LLMClient, fake_llm: FakeOpenAI) -> None:
    fake_llm.script(Reply("Tajikistan puts its death toll at 41 [1]."))
    completion = await client.complete(MESSAGES)
    assert completion.text == "Tajikistan puts its death toll at 41 [1]."
    assert completion.usage["prompt_tokens"] == 100
    request = fake_llm.requests[-1]
    assert request.body["model"] == "fake-model"
    assert [m["role"] for m in request.messages] == ["system", "user"]
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert KEY not in repr(client)


async def test_500_is_retried_then_raised(client: LLMClient, fake_llm: FakeOpenAI) -> None:
    fake_llm.script(Status(500), Status(500))
    with pytest.raises(LLMError, match="HTTP 500") as info:
        await client.complete(MESSAGES)
    assert len(fake_llm.requests) == 2  # one try + llm_max_retries
    assert KEY not in str(info.value)


async def test_500_then_success_recovers(client: LLMClient, fake_llm: FakeOpenAI) -> None:
    fake_llm.script(Status(500), Reply("fine [1]."))
    assert (await client.complete(MESSAGES)).text == "fine [1]."
    assert len(fake_llm.requests) == 2


async def test_429_honours_retry_after(client: LLMClient, fake_llm: FakeOpenAI) -> None:
    fake_llm.script(Status(429, retry_after="0.6"), Reply("after the wait [1]."))
    started = time.monotonic()
    assert (await client.complete(MESSAGES)).text == "after the wait [1]."
    gap = fake_llm.requests[1].at - fake_llm.requests[0].at
    assert gap >= 0.55, f"retried after {gap:.2f}s, Retry-After said 0.6s"
    assert time.monotonic() - started < 3


async def test_429_beyond_retries_is_rate_limited(client: LLMClient, fake_llm: FakeOpenAI) -> None:
    fake_llm.script(Status(429, retry_after="0.2"), Status(429, retry_after="0.2"))
    with pytest.raises(LLMRateLimitedError):
        await client.complete(MESSAGES)
    assert len(fake_llm.requests) == 2


async def test_slow_first_byte_times_out_within_the_deadline(client: LLMClient, fake_llm: FakeOpenAI) -> None:
    fake_llm.script(Slow(5.0), Slow(5.0))
    started = time.monotonic()
    with pytest.raises(LLMTimeoutError):
        await client.complete(MESSAGES)
    assert time.monotonic() - started <= client.deadline_s + 0.5


async def test_overall_deadline_bounds_retries(fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path,
        openai_base_url=fake_llm.base_url,
        llm_timeout_s=5,
        llm_max_retries=3,
    )
    fake_llm.script(Status(429, retry_after="30"))  # would wait 30 s before retrying
    started = time.monotonic()
    with pytest.raises(LLMTimeoutError):
        await LLMClient(settings, deadline_s=0.5).complete(MESSAGES)
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("body", ['{"this is": not json', '{"id": "x", "object": "chat.completion"}'])
async def test_garbage_response_is_a_bad_response(client: LLMClient, fake_llm: FakeOpenAI, body: str) -> None:
    fake_llm.script(Garbage(body))
    with pytest.raises(LLMBadResponseError):
        await client.complete(MESSAGES)


async def test_stream_yields_deltas_in_order(client: LLMClient, fake_llm: FakeOpenAI) -> None:
    fake_llm.script(Reply("Tajikistan puts its death toll at 41 [1].", chunks=5))
    deltas = [d async for d in client.stream(MESSAGES)]
    assert len(deltas) >= 4
    assert "".join(deltas) == "Tajikistan puts its death toll at 41 [1]."
    assert fake_llm.requests[-1].body["stream"] is True


async def test_stream_cut_midway_raises_after_partial_text(client: LLMClient, fake_llm: FakeOpenAI) -> None:
    fake_llm.script(CutStream("one two three four five six seven eight", after=2))
    got: list[str] = []
    with pytest.raises(LLMError, match="connection"):
        async for delta in client.stream(MESSAGES):
            got.append(delta)
    assert got and "".join(got) != "one two three four five six seven eight"


async def test_stalled_stream_times_out(client: LLMClient, fake_llm: FakeOpenAI) -> None:
    fake_llm.script(StallStream("one two three four five six", after=2, stall_s=5.0))
    started = time.monotonic()
    with pytest.raises(LLMTimeoutError):
        async for _ in client.stream(MESSAGES):
            pass
    assert time.monotonic() - started < client.stall_timeout_s + 1.0


# --- the question's deadline (bot.deadline) ------------------------------------------------------------


async def test_a_caller_deadline_cuts_a_hung_server_short_and_says_so(fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path, openai_base_url=fake_llm.base_url, llm_timeout_s=30, llm_max_retries=2
    )
    client = LLMClient(settings)
    assert client.deadline_s == 30 * 3 + 2 * 2  # without a caller's deadline: 94 s for a hung server
    fake_llm.script(Slow(60.0), Slow(60.0), Slow(60.0))
    started = time.monotonic()
    with pytest.raises(QuestionDeadlineError):
        await client.complete(MESSAGES, deadline=time.monotonic() + 1.0)
    assert len(fake_llm.requests) == 1  # the first attempt was still waiting when the deadline came
    assert time.monotonic() - started < 10  # sanity ceiling only; the request count is the evidence
    fake_llm.queue.clear()


async def test_a_deadline_already_past_sends_nothing(client: LLMClient, fake_llm: FakeOpenAI) -> None:
    with pytest.raises(QuestionDeadlineError):
        await client.complete(MESSAGES, deadline=time.monotonic() - 0.1)
    with pytest.raises(QuestionDeadlineError):
        async for _ in client.stream(MESSAGES, deadline=time.monotonic()):
            pass
    assert fake_llm.requests == []


async def test_the_servers_own_timeout_is_not_the_questions_deadline(client: LLMClient, fake_llm: FakeOpenAI) -> None:
    fake_llm.script(Slow(5.0), Slow(5.0))
    with pytest.raises(LLMTimeoutError) as info:
        await client.complete(MESSAGES, deadline=time.monotonic() + 60)
    assert not isinstance(info.value, QuestionDeadlineError)  # every attempt timed out on its own (0.5 s)
    assert len(fake_llm.requests) == 2


async def test_a_stream_is_bounded_by_the_callers_deadline(fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path, openai_base_url=fake_llm.base_url, llm_timeout_s=30, llm_max_retries=2
    )
    fake_llm.script(StallStream("one two three four five six", after=2, stall_s=30.0))
    got: list[str] = []
    with pytest.raises(QuestionDeadlineError):
        async for delta in LLMClient(settings).stream(MESSAGES, deadline=time.monotonic() + 1.0):
            got.append(delta)
    assert got and len(fake_llm.requests) == 1


async def test_json_object_and_max_tokens_reach_the_server(client: LLMClient, fake_llm: FakeOpenAI) -> None:
    fake_llm.script(Reply('{"verdicts": []}'))
    await client.complete(MESSAGES, json_object=True, max_tokens=48)
    body = fake_llm.requests[-1].body
    assert body["response_format"] == {"type": "json_object"} and body["max_tokens"] == 48
    fake_llm.script(Reply("plain"))
    await client.complete(MESSAGES)
    assert "response_format" not in fake_llm.requests[-1].body and fake_llm.requests[-1].body["max_tokens"] == 600


def test_unconfigured_client_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LLMError, match="No LLM is configured"):
        LLMClient(Settings(_env_file=None, data_dir=tmp_path))  # type: ignore[call-arg]
