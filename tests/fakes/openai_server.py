"""A real HTTP server that speaks just enough of the OpenAI chat-completions API for tests.

It runs aiohttp on 127.0.0.1 (random free port) in a background thread with its own event loop, so both
sync code (`asyncio.run` inside the engine) and async tests can talk to it. Behaviours are scripted as a
queue: each request pops one; when the queue is empty the `default` behaviour answers (a callable may look at
the request, e.g. to cite the passage that holds a fact). Every request body is recorded.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientConnectionResetError, web


@dataclass(frozen=True)
class Reply:
    """A normal answer; streamed in `chunks` pieces when the request asks for a stream."""

    text: str
    chunks: int = 4
    delay_s: float = 0.0  # before the first byte


@dataclass(frozen=True)
class Status:
    """An HTTP error: 500, 429 (with Retry-After), 401 ..."""

    code: int
    retry_after: str | None = None


@dataclass(frozen=True)
class Slow:
    """Nothing for `delay_s` seconds (beyond the client's timeout), then `text`."""

    delay_s: float
    text: str = "too late"


@dataclass(frozen=True)
class CutStream:
    """Stream `text` but drop the connection after `after` chunks."""

    text: str
    after: int = 2


@dataclass(frozen=True)
class StallStream:
    """Stream `after` chunks of `text`, then go silent for `stall_s` seconds."""

    text: str
    after: int = 2
    stall_s: float = 5.0


@dataclass(frozen=True)
class Garbage:
    """HTTP 200 with a body that is not a chat completion."""

    body: str = '{"this is": not json'


Behaviour = Reply | Status | Slow | CutStream | StallStream | Garbage
Responder = Callable[[dict[str, Any]], Behaviour]


@dataclass
class Recorded:
    body: dict[str, Any]
    headers: dict[str, str]
    at: float

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", []))

    def text_of(self, role: str) -> str:
        return "\n".join(str(m.get("content", "")) for m in self.messages if m.get("role") == role)


@dataclass
class FakeOpenAI:
    default: Behaviour | Responder = field(default_factory=lambda: Reply("The documents don't answer this question."))
    queue: deque[Behaviour] = field(default_factory=deque)
    requests: list[Recorded] = field(default_factory=list)
    port: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _runner: web.AppRunner | None = None
    _thread: threading.Thread | None = None
    _stop: asyncio.Event | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, *behaviours: Behaviour) -> None:
        self.queue.extend(behaviours)

    # --- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> FakeOpenAI:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        def run() -> None:
            assert self._loop is not None
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self._serve())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="fake-openai", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake OpenAI server did not start")
        return self

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        loop = self._loop

        async def shutdown() -> None:
            assert self._stop is not None and self._runner is not None
            self._stop.set()  # wakes handlers that are sleeping on purpose
            await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(10)
        loop.close()
        self._loop = None

    # --- handler ---------------------------------------------------------------------------------------

    async def _sleep(self, seconds: float) -> None:
        assert self._stop is not None
        try:
            await asyncio.wait_for(self._stop.wait(), seconds)
        except TimeoutError:
            pass

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(Recorded(body, dict(request.headers), time.monotonic()))
        behaviour = self.queue.popleft() if self.queue else self.default
        if not isinstance(behaviour, Reply | Status | Slow | CutStream | StallStream | Garbage):
            behaviour = behaviour(body)
        stream = bool(body.get("stream"))
        model = str(body.get("model", "fake"))
        if isinstance(behaviour, Status):
            headers = {"Retry-After": behaviour.retry_after} if behaviour.retry_after else {}
            error = {"error": {"message": f"scripted {behaviour.code}", "type": "server_error", "code": None}}
            return web.json_response(error, status=behaviour.code, headers=headers)
        if isinstance(behaviour, Garbage):
            return web.Response(text=behaviour.body, content_type="application/json")
        if isinstance(behaviour, Slow):
            await self._sleep(behaviour.delay_s)
            behaviour = Reply(behaviour.text)
        if isinstance(behaviour, Reply) and behaviour.delay_s:
            await self._sleep(behaviour.delay_s)
        if not stream:
            assert isinstance(behaviour, Reply | CutStream | StallStream)
            return web.json_response(_completion(behaviour.text, model))
        return await self._stream(request, behaviour, model)

    async def _stream(self, request: web.Request, behaviour: Behaviour, model: str) -> web.StreamResponse:
        assert isinstance(behaviour, Reply | CutStream | StallStream)
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        try:
            await self._write_stream(request, resp, behaviour, model)
        except (ConnectionResetError, ClientConnectionResetError):
            pass  # the client gave up (stall timeout): expected
        return resp

    async def _write_stream(
        self,
        request: web.Request,
        resp: web.StreamResponse,
        behaviour: Reply | CutStream | StallStream,
        model: str,
    ) -> None:
        await resp.prepare(request)
        n = behaviour.chunks if isinstance(behaviour, Reply) else max(behaviour.after + 2, 4)
        pieces = _split(behaviour.text, n)
        await resp.write(_sse(_chunk(model, {"role": "assistant", "content": ""})))
        for i, piece in enumerate(pieces):
            if isinstance(behaviour, CutStream | StallStream) and i == behaviour.after:
                if isinstance(behaviour, CutStream):
                    assert request.transport is not None
                    request.transport.abort()  # mid-body: the client sees an incomplete chunked message
                    return
                await self._sleep(behaviour.stall_s)
            await resp.write(_sse(_chunk(model, {"content": piece})))
            await asyncio.sleep(0)
        await resp.write(_sse(_chunk(model, {}, finish="stop")))
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()


def _split(text: str, n: int) -> list[str]:
    size = max(1, -(-len(text) // max(1, n)))
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _sse(payload: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(payload)}\n\n".encode()


def _chunk(model: str, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _completion(text: str, model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 100, "completion_tokens": max(1, len(text.split())), "total_tokens": 0},
    }
