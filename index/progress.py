"""Progress of `footnote ingest` where nobody watches a terminal (issue 14 item 6).

On a terminal tqdm draws its bar; under cron, systemd, `docker logs` or CI (stderr not a TTY) tqdm stays silent,
and a 52-minute ingest printed nothing. `ProgressLog` writes one plain line every `FOOTNOTE_PROGRESS_EVERY_S`
seconds instead::

    footnote ingest: 412/1323 files (31%) · 6,104 chunks · 19.8 chunks/s · elapsed 5m08s · ETA 11m20s

The ETA extrapolates the time per file so far to the files left (files are what is known in advance).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


class ProgressLog:
    """An `index.ingest.Progress` callback (files) that is also told the chunks written (`chunks_written`)."""

    def __init__(self, stream: TextIO, every_s: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.every_s = every_s
        self.clock = clock
        self.started = clock()
        self.last = self.started
        self.files_done = 0
        self.files_total = 0
        self.chunks = 0
        self._lock = threading.Lock()

    def __call__(self, done: int, total: int, path: str) -> None:
        with self._lock:
            # `done` counts the file about to be read: the ones before it are finished.
            self.files_done, self.files_total = max(0, done - 1), total
            self._maybe_report()

    def chunks_written(self, count: int) -> None:
        with self._lock:
            self.chunks += count
            self._maybe_report()

    def finish(self) -> None:
        with self._lock:
            self.files_done = self.files_total
            self.stream.write(self.line() + " · done\n")
            self.stream.flush()

    def line(self) -> str:
        elapsed = self.clock() - self.started
        total = self.files_total
        share = f" ({100 * self.files_done // total}%)" if total else ""
        rate = self.chunks / elapsed if elapsed > 0 else 0.0
        eta = "?"
        if self.files_done and total:
            eta = _duration(elapsed / self.files_done * (total - self.files_done))
        return (f"footnote ingest: {self.files_done}/{total} files{share} · {self.chunks:,} chunks · "
                f"{rate:.1f} chunks/s · elapsed {_duration(elapsed)} · ETA {eta}")

    def _maybe_report(self) -> None:
        now = self.clock()
        if now - self.last >= self.every_s:
            self.last = now
            self.stream.write(self.line() + "\n")
            self.stream.flush()


def progress_for(stream: TextIO | None, every_s: float) -> ProgressLog | None:
    """A `ProgressLog` when `stream` (stderr by default) is not a terminal; None on one (tqdm's bar is there)."""
    stream = stream or sys.stderr
    try:
        interactive = stream.isatty()
    except (AttributeError, ValueError):  # closed or not a real stream
        interactive = False
    return None if interactive else ProgressLog(stream, every_s)
