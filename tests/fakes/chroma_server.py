"""A real `chroma run` server for tests: 127.0.0.1 only, a free port, a tmp data path.

It can be stopped (SIGTERM), killed (SIGKILL), frozen (SIGSTOP) and restarted on the same port and path,
and is always cleaned up: use it as a context manager (or call `close()`), e.g. from a fixture::

    with ChromaServer(tmp_path / "chroma") as server:
        settings = make_settings(chroma_host=server.host, chroma_port=server.port)

Only the process this object started is ever signalled (by its pid / its own process group).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

HOST = "127.0.0.1"
_DROPPED_ENV = ("CHROMA_", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")
START_TIMEOUT_S = 30.0  # measured: the heartbeat answers ~2 s after launch
STOP_TIMEOUT_S = 10.0  # measured: exits < 3 s after SIGTERM; SIGKILL after this


def free_port() -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def chroma_executable() -> str:
    """The `chroma` CLI of this venv (next to the running interpreter), else the one on PATH."""
    candidate = Path(sys.executable).parent / "chroma"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("chroma")
    if found is None:
        raise RuntimeError("the `chroma` executable is not installed in this environment")
    return found


def release_chroma_clients(host: str, port: int) -> None:
    """Close the HTTP sessions chromadb keeps (process-wide, one per host:port) for this server.

    chromadb caches one `System` per host:port and never closes its httpx session; left to the garbage
    collector, its sockets raise ResourceWarning at some random later moment (an error under this suite's
    warning filter). Called when a test server goes away for good."""
    try:
        from chromadb.api import ServerAPI
        from chromadb.api.shared_system_client import SharedSystemClient
    except ImportError:
        return
    systems = SharedSystemClient._identifier_to_system
    for identifier, system in list(systems.items()):
        settings = system.settings
        if settings.chroma_server_host != host or str(settings.chroma_server_http_port) != str(port):
            continue
        systems.pop(identifier, None)
        SharedSystemClient._identifier_to_refcount.pop(identifier, None)
        session = getattr(system.instance(ServerAPI), "_session", None)  # type: ignore[type-abstract]
        if session is not None:
            session.close()


# No proxy, ever: the server is on loopback and tests must not touch the network.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ChromaServerError(RuntimeError):
    pass


class ChromaServer:
    def __init__(self, path: Path, port: int | None = None) -> None:
        self.path = Path(path)
        self.host = HOST
        self._fixed_port = port is not None
        self.port = port if port is not None else free_port()
        self.log_path = self.path.parent / f"{self.path.name}.chroma-server.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    # --- state -------------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def heartbeat(self, timeout: float = 1.0) -> bool:
        try:
            with _OPENER.open(f"{self.url}/api/v2/heartbeat", timeout=timeout) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    # --- lifecycle ---------------------------------------------------------------------------------------
    def start(self, timeout: float = START_TIMEOUT_S) -> ChromaServer:
        """Launch and wait for the heartbeat. A first start on an auto-picked port retries on another port
        if that one was taken meanwhile; a restart always reuses the same port and path."""
        if self.running:
            raise ChromaServerError(f"chroma server already running on {self.url}")
        attempts = 1 if (self._fixed_port or self.starts) else 3
        for attempt in range(attempts):
            self._spawn()
            if self._wait_ready(timeout):
                self.starts += 1
                return self
            self._reap()
            if attempt + 1 < attempts:
                self.port = free_port()
        raise ChromaServerError(
            f"chroma server on {self.url} (path {self.path}) did not become ready in {timeout:.0f} s; "
            f"log tail:\n{self.log_tail()}"
        )

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Graceful: SIGTERM, then SIGKILL if it has not exited after `timeout` seconds."""
        if not self.running:
            self._reap()
            return
        self._signal(signal.SIGCONT)  # a frozen process cannot act on SIGTERM
        self._signal(signal.SIGTERM)
        assert self.proc is not None
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        self._reap()

    def kill(self) -> None:
        """Abrupt: SIGKILL (what an OOM-kill or a crash looks like to clients)."""
        if self.running:
            self._signal(signal.SIGKILL)
            assert self.proc is not None
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=STOP_TIMEOUT_S)
        self._reap()

    def freeze(self) -> None:
        """SIGSTOP: the port still accepts connections (the kernel's backlog) but nothing ever answers."""
        if not self.running:
            raise ChromaServerError("chroma server is not running")
        self._signal(signal.SIGSTOP)

    def thaw(self) -> None:
        if self.running:
            self._signal(signal.SIGCONT)

    def restart(self, *, kill: bool = False, timeout: float = START_TIMEOUT_S) -> ChromaServer:
        """Same port, same data path."""
        if kill:
            self.kill()
        else:
            self.stop()
        return self.start(timeout=timeout)

    def close(self) -> None:
        """Never leaves a process behind, whatever state it is in."""
        release_chroma_clients(self.host, self.port)
        if self.proc is None:
            return
        try:
            self.stop(timeout=5.0)
        finally:
            if self.running:
                self._signal(signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(timeout=STOP_TIMEOUT_S)
            self._reap()

    def __enter__(self) -> ChromaServer:
        if not self.running:
            self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- internals ---------------------------------------------------------------------------------------
    def _spawn(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.upper().startswith(("CHROMA_", "HTTP_PROXY", "HTTPS_PROXY"))
        }
        env["ANONYMIZED_TELEMETRY"] = "False"
        env["NO_COLOR"] = "1"
        with self.log_path.open("ab") as log:
            log.write(f"\n--- start on {self.url} ---\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                [
                    chroma_executable(),
                    "run",
                    "--path",
                    str(self.path),
                    "--host",
                    self.host,
                    "--port",
                    str(self.port),
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # its own process group: signals reach it and nothing else
            )

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running:
                return False  # exited: port taken, bad path, ...
            if self.heartbeat(timeout=1.0):
                return True
            time.sleep(0.1)
        return False

    def _signal(self, sig: signal.Signals) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, sig)  # the group we created with start_new_session
        except (ProcessLookupError, PermissionError):
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(sig)

    def _reap(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self._signal(signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=STOP_TIMEOUT_S)
        self.proc = None
