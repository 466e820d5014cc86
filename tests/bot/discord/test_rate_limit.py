"""Per-user quotas and the edit throttle (pure asyncio, no Discord)."""

from __future__ import annotations

import asyncio
from itertools import pairwise

from bot.discord.rate_limit import EditThrottle, RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_limiter_sliding_window() -> None:
    clock = Clock()
    rl = RateLimiter(2, clock=clock)
    assert rl.hit("u") == 0 and rl.hit("u") == 0
    assert rl.hit("u") == 60.0
    assert rl.hit("other") == 0  # per user
    clock.now += 30
    assert rl.hit("u") == 30.0  # refused hits are not counted
    clock.now += 30
    assert rl.hit("u") == 0


def test_rate_limiter_forgets_idle_users() -> None:
    clock = Clock()
    rl = RateLimiter(1, clock=clock)
    for i in range(1023):
        rl.hit(i)
    clock.now += 61
    rl.hit("new")  # the 1024th call sweeps
    assert len(rl._hits) == 1


async def test_throttle_coalesces_to_one_edit_per_interval() -> None:
    loop = asyncio.get_running_loop()
    seen: list[tuple[float, int]] = []

    async def edit(value: int) -> None:
        seen.append((loop.time(), value))

    throttle: EditThrottle[int] = EditThrottle(edit, interval=0.1, clock=loop.time)
    start = loop.time()
    for i in range(60):  # ~0.6 s of updates every 10 ms
        throttle.update(i)
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.15)
    await throttle.close()
    elapsed = loop.time() - start
    assert 3 <= len(seen) <= elapsed / 0.1 + 1
    gaps = [b[0] - a[0] for a, b in pairwise(seen)]
    assert min(gaps) >= 0.095
    assert seen[0][1] == 0 and seen[-1][1] == 59  # first at once, newest value last
    throttle.update(99)  # after close: ignored
    await asyncio.sleep(0.12)
    assert seen[-1][1] == 59


async def test_throttle_survives_a_failed_edit_and_close_waits_in_flight() -> None:
    loop = asyncio.get_running_loop()
    calls: list[int] = []

    async def edit(value: int) -> None:
        calls.append(value)
        if value == 0:
            raise RuntimeError("boom")
        await asyncio.sleep(0.05)

    throttle: EditThrottle[int] = EditThrottle(edit, interval=0.02, clock=loop.time)
    throttle.update(0)
    await asyncio.sleep(0.03)
    throttle.update(1)
    await asyncio.sleep(0.01)  # edit(1) is in flight now
    await throttle.close()
    assert calls == [0, 1]
    assert throttle.ready_in() <= 0.02
