"""One writer at a time (issue 14 item 3), between real processes: the data-dir flock (embedded mode, and any two
ingests sharing a data dir) and the lease in Chroma (server mode, two data dirs = two machines)."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from index.errors import WriterBusyError
from index.ingest import Ingestor
from index.settings import Settings
from tests.conftest import REPO, SAMPLE_CORPUS
from tests.fakes.chroma_server import ChromaServer

LINE_TIMEOUT_S = 120.0  # a fresh interpreter importing chromadb on a loaded 2-core machine


class Holder:
    """`tests.index.lock_holder` in its own process."""

    def __init__(self, data_dir: Path, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.index.lock_holder", str(data_dir), *args],
            cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={k: v for k, v in os.environ.items() if not k.startswith(("CHROMA_", "FOOTNOTE_"))},
        )

    def line(self, timeout: float = LINE_TIMEOUT_S, *, stream: str = "stdout") -> str:
        out = self.proc.stdout if stream == "stdout" else self.proc.stderr
        assert out is not None
        ready, _, _ = select.select([out], [], [], timeout)
        if not ready:
            self.kill()
            pytest.fail(f"lock holder said nothing on {stream} in {timeout:.0f} s")
        return out.readline().strip()

    def finish(self) -> str:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        return self.line()

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stderr(self) -> str:
        """All it wrote to stderr (once it has exited)."""
        self.proc.wait(timeout=30)
        assert self.proc.stderr is not None
        return self.proc.stderr.read()

    def close(self) -> None:
        self.kill()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None and not stream.closed:
                stream.close()


@pytest.fixture
def holders() -> Iterator[Callable[..., Holder]]:
    started: list[Holder] = []

    def start(data_dir: Path, *args: str) -> Holder:
        started.append(Holder(data_dir, *args))
        return started[-1]

    yield start
    for holder in started:
        holder.close()


def test_an_ingest_refuses_while_another_process_holds_the_data_dir(
    tmp_path: Path, holders: Callable[..., Holder], settings: Settings, embedder: object
) -> None:
    first = holders(settings.data_dir)
    assert first.line() == "HELD"
    with pytest.raises(WriterBusyError) as refused:
        Ingestor(settings, embedder).run([SAMPLE_CORPUS])  # type: ignore[arg-type]
    message = str(refused.value)
    assert f"data dir {settings.data_dir}" in message and f"pid {first.proc.pid}" in message
    assert "--wait" in message
    assert not (settings.data_dir / "manifest.sqlite").exists()  # refused before touching anything
    assert first.finish() == "RELEASED"


def test_a_waiting_writer_says_so_and_goes_on_when_the_first_finishes(
    tmp_path: Path, holders: Callable[..., Holder]
) -> None:
    data = tmp_path / "data"
    first = holders(data)
    assert first.line() == "HELD"
    second = holders(data, "--wait", "300")
    waiting = second.line(stream="stderr")
    assert "Another `footnote ingest` is writing the data dir" in waiting and "waiting up to 300 s" in waiting
    assert f"pid {first.proc.pid}" in waiting
    assert second.proc.poll() is None  # still waiting, not refused
    assert first.finish() == "RELEASED"
    assert second.line() == "HELD"
    assert second.finish() == "RELEASED"


def test_kill_9_of_the_holder_frees_the_data_dir_at_once(tmp_path: Path, holders: Callable[..., Holder]) -> None:
    data = tmp_path / "data"
    first = holders(data)
    assert first.line() == "HELD"
    busy = holders(data)
    assert busy.line().startswith("REFUSED Another `footnote ingest` is writing the data dir")
    first.kill()  # the kernel drops a dead process's flock: no stale lock to clean up
    after = holders(data)
    assert after.line() == "HELD"
    assert after.finish() == "RELEASED"


@pytest.mark.slow
def test_cli_ingest_refuses_with_a_clear_message_and_exit_code(tmp_path: Path, holders: Callable[..., Holder]) -> None:
    data = tmp_path / "data"
    first = holders(data)
    assert first.line() == "HELD"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHROMA_", "FOOTNOTE_"))}
    env["FOOTNOTE_DATA_DIR"] = str(data)
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ingest", str(SAMPLE_CORPUS), "--wait", "1"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 2, done.stderr
    assert "waiting up to 1 s" in done.stderr
    assert "footnote: Another `footnote ingest` is writing the data dir" in done.stderr
    assert f"pid {first.proc.pid}" in done.stderr


@pytest.mark.slow
def test_server_lease_one_writer_across_data_dirs_and_takeover_after_kill_9(
    tmp_path: Path, holders: Callable[..., Holder]
) -> None:
    with ChromaServer(tmp_path / "chroma-server") as server:
        where = ("--host", server.host, "--port", str(server.port), "--lease", "3")
        machine_a = holders(tmp_path / "a", *where)
        assert machine_a.line() == "HELD"
        machine_b = holders(tmp_path / "b", *where)  # another data dir: only the lease in Chroma can stop it
        refused = machine_b.line()
        assert refused.startswith("REFUSED Another `footnote ingest` is writing collection 'footnote' on the Chroma")
        assert f"pid {machine_a.proc.pid}" in refused
        time.sleep(4)  # past one lease time: A's renewals keep it
        again = holders(tmp_path / "b", *where)
        assert again.line().startswith("REFUSED")
        machine_a.kill()  # its lease stays in Chroma, unrenewed
        taker = holders(tmp_path / "b", *where, "--wait", "60")
        assert taker.line() == "HELD"
        assert taker.finish() == "RELEASED"
        assert "taking over a stale writer lease" in taker.stderr()
        after = holders(tmp_path / "a", *where)  # released cleanly: free at once
        assert after.line() == "HELD"
        assert after.finish() == "RELEASED"
