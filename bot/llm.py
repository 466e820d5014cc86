"""The LLM client: llama-index `OpenAILike` against any OpenAI-compatible server, with hard deadlines.

Retries: the openai client retries 429/5xx/connection errors itself, with exponential backoff that honours
Retry-After, `settings.llm_max_retries` times; llama-index's own tenacity retry is switched off
(max_retries=0 on the llama-index object) so that the two never multiply. On top of the per-request timeout,
each call has an overall wall-clock deadline, and a stream has a stall timeout between chunks. A caller may
pass a sooner deadline (the question's, see `bot.deadline`): when that one cuts the call short, the error is a
`QuestionDeadlineError`, so the caller can tell "out of time" from "the server failed".

Errors are translated into `index.errors.LLMError` subclasses here, where they enter. Messages name the
status or the failure, never the API key or the request.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import certifi
import httpx
import openai
from llama_index.core.base.llms.types import ChatMessage
from llama_index.llms.openai_like import OpenAILike

from bot.deadline import QuestionDeadlineError
from index.errors import LLMBadResponseError, LLMError, LLMRateLimitedError, LLMTimeoutError
from index.settings import Settings

T = TypeVar("T")


@dataclass
class Completion:
    text: str
    usage: dict[str, int] = field(default_factory=dict)  # prompt_tokens / completion_tokens when reported


class LLMClient:
    """One configured model. Safe to share: every call opens (and closes) its own HTTP client, so calls
    from different event loops (the CLI's `asyncio.run` per question, the bot's loop) never share sockets."""

    def __init__(
        self,
        settings: Settings,
        *,
        deadline_s: float | None = None,
        stall_timeout_s: float | None = None,
        temperature: float = 0.0,
        max_tokens: int | None = 600,
    ) -> None:
        if not settings.llm_configured:
            raise LLMError("No LLM is configured (set OPENAI_API_KEY or OPENAI_BASE_URL).")
        self.model = settings.llm_model
        self._base_url = settings.openai_base_url
        # A local OpenAI-compatible server needs no key, but the client insists on one.
        self._api_key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "unused"
        self.timeout_s = settings.llm_timeout_s
        self.max_retries = settings.llm_max_retries
        # Room for every attempt to time out, plus the backoff between them.
        self.deadline_s = deadline_s or settings.llm_timeout_s * (settings.llm_max_retries + 1) + 2.0 * (
            settings.llm_max_retries
        )
        self.stall_timeout_s = stall_timeout_s or settings.llm_timeout_s
        self.temperature = temperature
        # A fresh HTTP client per call (see the class docstring), but one TLS context for all of them: building
        # it loads the CA bundle, ~35 ms of blocking work that would otherwise run on the event loop every call.
        self._tls = ssl.create_default_context(cafile=certifi.where())
        self.max_tokens = max_tokens

    def __repr__(self) -> str:  # never show the key
        return f"LLMClient(model={self.model!r}, base_url={self._base_url!r})"

    def _client(self) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(
            api_key=self._api_key,
            base_url=self._base_url,
            timeout=self.timeout_s,
            max_retries=self.max_retries,
            http_client=openai.DefaultAsyncHttpxClient(verify=self._tls),
        )

    def _llm(self, client: openai.AsyncOpenAI, max_tokens: int | None = None) -> OpenAILike:
        return OpenAILike(
            model=self.model,
            api_key=self._api_key,
            api_base=self._base_url,
            is_chat_model=True,
            timeout=self.timeout_s,
            max_retries=0,  # the openai client retries; see the module docstring
            temperature=self.temperature,
            max_tokens=max_tokens or self.max_tokens,
            async_openai_client=client,  # type: ignore[call-arg]  # accepted via OpenAI.__init__'s **kwargs
        )

    def _budget(self, deadline: float | None) -> tuple[float, bool]:
        """Seconds this call may take, and whether the caller's `deadline` (not our own) is what bounds it."""
        if deadline is None:
            return self.deadline_s, False
        left = deadline - time.monotonic()
        if left < 0.05:  # not worth a request: it could not get an answer back
            raise QuestionDeadlineError("No time was left for the language model within the question's deadline.")
        return (left, True) if left < self.deadline_s else (self.deadline_s, False)

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        deadline: float | None = None,
        max_tokens: int | None = None,
        json_object: bool = False,
    ) -> Completion:
        """One chat completion, within our deadline and the caller's (a `time.monotonic()` value).
        `json_object` asks the server for a JSON object (OpenAI's response_format; llama.cpp enforces it
        with a grammar); the caller still parses defensively."""
        seconds, theirs = self._budget(deadline)
        extra: dict[str, Any] = {"response_format": {"type": "json_object"}} if json_object else {}
        async with self._client() as client:
            call = self._llm(client, max_tokens).achat(list(messages), **extra)
            response = await _guard(call, seconds, theirs)
        text = response.message.content
        if not isinstance(text, str) or not text.strip():
            raise LLMBadResponseError("The language model returned an empty answer.")
        return Completion(text.strip(), _usage(response.raw))

    async def stream(self, messages: Sequence[ChatMessage], *, deadline: float | None = None) -> AsyncIterator[str]:
        """Text deltas as they arrive. Raises LLMTimeoutError when the stream stalls for `stall_timeout_s`
        or runs past the deadline (QuestionDeadlineError: the caller's), and LLMError when it breaks off."""
        seconds, theirs = self._budget(deadline)
        end = time.monotonic() + seconds
        got_text = False
        async with self._client() as client:
            gen = await _guard(self._llm(client).astream_chat(list(messages)), seconds, theirs)
            async with contextlib.aclosing(gen):
                first = True
                while True:
                    left = end - time.monotonic()
                    if left <= 0:
                        if theirs:
                            raise QuestionDeadlineError("The question's deadline passed while the model was answering.")
                        raise LLMTimeoutError(f"The language model did not finish within {self.deadline_s:.3g} s.")
                    # The first chunk comes after the request and the client's retries (each attempt bounded by
                    # the request timeout, with backoff / Retry-After in between): only the deadline bounds it.
                    # A stall timeout there would cut every retry short. Between chunks, the stall timeout.
                    wait = left if first else min(left, self.stall_timeout_s)
                    try:
                        chunk = await _guard(gen.__anext__(), wait, theirs and wait == left)
                    except StopAsyncIteration:
                        break
                    first = False
                    if chunk.delta:
                        got_text = True
                        yield chunk.delta
        if not got_text:
            raise LLMBadResponseError("The language model returned an empty answer.")


async def _guard(call: Awaitable[T], seconds: float, question_deadline: bool = False) -> T:
    """Await `call` within `seconds`, translating every failure into an LLMError. `question_deadline`: the
    `seconds` are what is left of the question's deadline, so running out is a QuestionDeadlineError."""
    try:
        return await asyncio.wait_for(call, seconds)
    except (StopAsyncIteration, LLMError):
        raise
    except TimeoutError as err:
        if question_deadline:
            raise QuestionDeadlineError("The question's deadline passed while waiting for the language model.") from err
        raise LLMTimeoutError(f"The language model did not answer within {seconds:.3g} s.") from err
    except (openai.APITimeoutError, httpx.TimeoutException) as err:
        raise LLMTimeoutError("The language model timed out (every attempt).") from err
    except openai.RateLimitError as err:
        raise LLMRateLimitedError("The language model is rate-limiting us (HTTP 429); retries ran out.") from err
    except (openai.AuthenticationError, openai.PermissionDeniedError) as err:
        raise LLMError(f"The language model server refused our credentials (HTTP {err.status_code}).") from err
    except openai.APIStatusError as err:
        raise LLMError(f"The language model server returned HTTP {err.status_code}.") from err
    except (openai.APIConnectionError, httpx.HTTPError, OSError) as err:
        raise LLMError(f"Lost the connection to the language model ({type(err).__name__}).") from err
    except openai.OpenAIError as err:
        raise LLMBadResponseError(f"The language model sent a malformed response ({type(err).__name__}).") from err
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as err:
        # llama-index parsing a response that is not what the API promises (garbage JSON, no choices).
        raise LLMBadResponseError(f"The language model sent a malformed response ({type(err).__name__}).") from err


def _usage(raw: Any) -> dict[str, int]:
    usage = getattr(raw, "usage", None)
    out: dict[str, int] = {}
    for key in ("prompt_tokens", "completion_tokens"):
        value = getattr(usage, key, None)
        if isinstance(value, int):
            out[key] = value
    return out
