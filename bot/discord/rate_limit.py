"""Rate limiting for the chat frontends: per-user question quotas and throttled message edits.

No discord import: the bot injects the edit coroutine, tests inject the clock and the interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


class RateLimiter:
    """Sliding window: at most `limit` hits per key within `window` seconds."""

    def __init__(self, limit: int, *, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._hits: dict[Hashable, deque[float]] = {}
        self._noticed: dict[Hashable, float] = {}  # when each key was last told to slow down
        self._calls = 0

    def hit(self, key: Hashable) -> float:
        """Count one hit for `key` and return 0.0, or return the seconds to wait (and count nothing)."""
        now = self._clock()
        self._calls += 1
        if self._calls % 1024 == 0:
            self._sweep(now)
        hits = self._hits.setdefault(key, deque())
        while hits and now - hits[0] >= self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return max(0.001, hits[0] + self.window - now)
        hits.append(now)
        return 0.0

    def should_notify(self, key: Hashable) -> bool:
        """Whether to tell `key` it is rate limited: once per window, so a burst gets one notice, not one each."""
        now = self._clock()
        last = self._noticed.get(key)
        if last is not None and now - last < self.window:
            return False
        self._noticed[key] = now
        return True

    def _sweep(self, now: float) -> None:
        # Forget users idle for a whole window so the table does not grow with every user ever seen.
        stale = [k for k, hits in self._hits.items() if not hits or now - hits[-1] >= self.window]
        for key in stale:
            del self._hits[key]
        for key in [k for k, at in self._noticed.items() if now - at >= self.window]:
            del self._noticed[key]


class EditThrottle(Generic[T]):
    """Coalesces rapid updates into at most one `edit(value)` per `interval` seconds.

    `update()` is cheap and never waits: the newest value wins and a background task applies it when the
    interval allows. A failed edit is logged and the next update tries again (a progress display is not
    worth failing the answer for). `close()` stops the task without cutting an edit in flight.
    """

    def __init__(
        self,
        edit: Callable[[T], Awaitable[object]],
        *,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._edit = edit
        self.interval = interval
        self._clock = clock
        self._last = -math.inf
        self._pending: T | None = None
        self._dirty = False
        self._closed = False
        self._editing = False
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.edits = 0

    def update(self, value: T) -> None:
        if self._closed:
            return
        self._pending, self._dirty = value, True
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        self._wake.set()

    def ready_in(self) -> float:
        """Seconds until another edit would respect the interval."""
        return max(0.0, self._last + self.interval - self._clock())

    def mark_edited(self) -> None:
        """Record an edit made outside the throttle (e.g. the final one) so spacing stays honest."""
        self._last = self._clock()
        self.edits += 1

    async def _run(self) -> None:
        while not self._closed:
            await self._wake.wait()
            self._wake.clear()
            delay = self.ready_in()
            if delay > 0:
                await asyncio.sleep(delay)
            if self._closed or not self._dirty:
                continue
            value, self._dirty = self._pending, False
            self._editing = True
            self.mark_edited()
            try:
                await self._edit(value)  # type: ignore[arg-type]  # _dirty implies a value was set
            except Exception as exc:
                log.warning("progress edit failed: %s", exc)
            finally:
                self._editing = False

    async def close(self) -> None:
        """Stop editing; waits for an edit already in flight, drops anything not yet sent."""
        self._closed = True
        task, self._task = self._task, None
        if task is None:
            return
        if self._editing:
            self._wake.set()
            await task
        else:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
