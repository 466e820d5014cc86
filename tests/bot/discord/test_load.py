"""Load: 100 questions from 20 users at once through the fake gateway. Everything is answered, heartbeats keep
flowing, and the event loop never stalls (worst lag of a 10 ms sleep is measured and printed).

The fake Discord runs on the same event loop, so the lag measured here is an upper bound for the bot's own.
Like `arun_bot`, the test freezes the startup heap first: otherwise full garbage collections of pytest's large
heap (~70-90 ms each, measured) dominate the worst lag, and they say nothing about the bot.
"""

from __future__ import annotations

# First: imports discord with its import-time `audioop` DeprecationWarning silenced (warnings are errors).
import tests.fakes.discord_gateway  # noqa: F401

# isort: split

import asyncio
import gc
import time
from pathlib import Path

import pytest

from tests.fakes.discord_gateway import CHANNELS, FakeDiscord, user
from tests.fakes.discord_harness import FakeService, running_bot

USERS = [user(810000000000000000 + i, f"user{i}") for i in range(20)]
LAG_BOUND_S = 0.5  # generous for a shared 2-core CI box; the target is ≤ 0.1 s


class LagProbe:
    """Samples how late `asyncio.sleep(0.01)` wakes up; a blocked loop shows up as a large overshoot."""

    def __init__(self) -> None:
        self.worst = 0.0
        self.samples = 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            t0 = time.perf_counter()
            await asyncio.sleep(0.01)
            self.worst = max(self.worst, time.perf_counter() - t0 - 0.01)
            self.samples += 1

    def __enter__(self) -> LagProbe:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


@pytest.mark.slow
@pytest.mark.parametrize("streams", [False, True], ids=["extractive", "streaming"])
async def test_100_questions_from_20_users_at_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str], streams: bool
) -> None:
    fake = FakeDiscord(heartbeat_interval_ms=100)
    await fake.start()
    # Answers take ~1 s like an LLM would; streaming ones edit their message up to 5 times a second each.
    service = FakeService(streams=streams, delay=0.5, deltas=[f"word{i} " for i in range(10)], delta_gap=0.05)
    try:
        async with running_bot(
            monkeypatch, tmp_path, fake=fake, service=service, discord_rate_per_minute=1000, edit_interval=0.2
        ) as env:
            gc.collect()
            gc.freeze()
            beats_before = fake.heartbeats
            start = time.perf_counter()
            with LagProbe() as probe:
                mentions, slashes = [], []
                for i in range(100):
                    author = USERS[i % 20]
                    if i % 4 == 3:  # a quarter by /ask, some private
                        slashes.append(
                            await fake.slash(
                                "ask",
                                {"question": f"q{i}", "private": i % 8 == 7},
                                author=author,
                                channel_id=CHANNELS[i % 3],
                            )
                        )
                    else:
                        mentions.append(await fake.say(CHANNELS[i % 3], f"q{i}", author=author, mention_bot=True))

                def answered() -> int:
                    in_threads = sum(1 for q in mentions for m in fake.bot_messages(int(q["id"])) if m["embeds"])
                    return in_threads + sum(1 for s in slashes if s.followups and s.followups[0]["embeds"])

                await fake.wait_until(lambda: answered() == 100, timeout=60)
                elapsed = time.perf_counter() - start
                await asyncio.sleep(0.3)  # heartbeats still flowing after the burst
            gc.unfreeze()
            beats = fake.heartbeats - beats_before
            rows = env.store.stats().questions
        with capsys.disabled():
            edits = sum(len(e) for e in fake.edits.values())
            print(
                f"\n[load {'streaming' if streams else 'extractive'}] 100 questions / 20 users answered in "
                f"{elapsed:.2f}s ({edits} edits); worst event-loop lag {probe.worst * 1000:.1f} ms over "
                f"{probe.samples} samples; heartbeats {beats}, acks {fake.acks}"
            )
        assert len(service.calls) == 100 and rows == 100
        assert len(fake.threads) == 75
        assert beats >= (elapsed + 0.3) / 0.1 * 0.5, beats  # at least half the expected beats went out
        assert fake.acks == fake.heartbeats
        assert probe.worst <= LAG_BOUND_S
    finally:
        await fake.close()
