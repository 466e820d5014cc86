"""The LLM client: llama-index `OpenAILike` against any OpenAI-compatible server, with hard deadlines.

Retries: the openai client retries 429/5xx/connection errors itself, with exponential backoff that honours
Retry-After, `settings.llm_max_retries` times; llama-index's own tenacity retry is switched off
(max_retries=0 on the llama-index object) so that the two never multiply. On top of the per-request timeout,
each call has an overall wall-clock deadline, and a stream has a stall timeout between chunks.

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

    def _llm(self, client: openai.AsyncOpenAI) -> OpenAILike:
        return OpenAILike(
            model=self.model,
            api_key=self._api_key,
            api_base=self._base_url,
            is_chat_model=True,
            timeout=self.timeout_s,
            max_retries=0,  # the openai client retries; see the module docstring
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            async_openai_client=client,  # type: ignore[call-arg]  # accepted via OpenAI.__init__'s **kwargs
        )

    async def complete(self, messages: Sequence[ChatMessage]) -> Completion:
        """One chat completion, within the deadline."""
        async with self._client() as client:
            response = await _guard(self._llm(client).achat(list(messages)), self.deadline_s)
        text = response.message.content
        if not isinstance(text, str) or not text.strip():
            raise LLMBadResponseError("The language model returned an empty answer.")
        return Completion(text.strip(), _usage(response.raw))

    async def stream(self, messages: Sequence[ChatMessage]) -> AsyncIterator[str]:
        """Text deltas as they arrive. Raises LLMTimeoutError when the stream stalls for `stall_timeout_s`
        or runs past the deadline, and LLMError when it breaks off."""
        started = time.monotonic()
        got_text = False
        async with self._client() as client:
            gen = await _guard(self._llm(client).astream_chat(list(messages)), self.deadline_s)
            async with contextlib.aclosing(gen):
                first = True
                while True:
                    left = self.deadline_s - (time.monotonic() - started)
                    if left <= 0:
                        raise LLMTimeoutError(f"The language model did not finish within {self.deadline_s:.3g} s.")
                    # The first chunk comes after the request and the client's retries (each attempt bounded by
                    # the request timeout, with backoff / Retry-After in between): only the deadline bounds it.
                    # A stall timeout there would cut every retry short. Between chunks, the stall timeout.
                    wait = left if first else min(left, self.stall_timeout_s)
                    try:
                        chunk = await _guard(gen.__anext__(), wait)
                    except StopAsyncIteration:
                        break
                    first = False
                    if chunk.delta:
                        got_text = True
                        yield chunk.delta
        if not got_text:
            raise LLMBadResponseError("The language model returned an empty answer.")


async def _guard(call: Awaitable[T], seconds: float) -> T:
    """Await `call` within `seconds`, translating every failure into an LLMError."""
    try:
        return await asyncio.wait_for(call, seconds)
    except (StopAsyncIteration, LLMError):
        raise
    except TimeoutError as err:
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
