"""Load with the rate limiter on: 200 questions from 50 users, in bursts, through the fake gateway, at 3
questions a minute per user. Every /ask gets exactly one response (an answer or a private "wait"); in channels a
limited user gets one "wait" notice per window and later questions in that window stay quiet (issue 10: no burst
of notices); who gets which follows the per-user quota exactly; memory is stable across the run.

The quota window is driven by a frozen clock injected into the bot's RateLimiter (moved on a minute before the
last burst), so the expected split does not depend on how fast this machine is. tests/bot/discord/test_load.py
covers throughput without limits; this covers the limiter under load and what the bot keeps in memory.
"""

from __future__ import annotations

# First: imports discord with its import-time `audioop` DeprecationWarning silenced (warnings are errors).
import tests.fakes.discord_gateway  # noqa: F401

# isort: split

import asyncio
import contextlib
import gc
import random
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.discord.rate_limit import RateLimiter
from tests.bot.discord.test_load import LagProbe
from tests.fakes.discord_gateway import CHANNELS, FakeDiscord, FakeInteraction, user
from tests.fakes.discord_harness import FakeService, running_bot

USERS = [user(820000000000000000 + i, f"burst{i}") for i in range(50)]
PER_MINUTE = 3
BURSTS = 5  # of 40 questions; the clock moves past the quota window before the last one
WAIT_TEXT = "faster than I can keep up"
LAG_BOUND_S = 2.0  # hang guard only (tracemalloc is on and slows every allocation); the figure is printed
# Memory: what the bot keeps per question *by design* is small and bounded: a discord.py Thread object per
# answered mention (~2-3 KB, the guild's thread cache), cached Message objects (capped at max_messages=1000, a
# few KB each), the feedback row (SQLite, on disk), the answer's conversation lock (freed when done). From the
# middle sample (80 asked) to the end (120 more, ~80 of them answered) that is < 1 MB (measured: ~0.3-0.4 MB).
# A per-question leak of the working set (the Answer, rendered embeds and views, request/response objects,
# tasks: tens of KB each) would add several MB.
SECOND_HALF_GROWTH_BOUND = 3 * 1024 * 1024
WHOLE_RUN_GROWTH_BOUND = 8 * 1024 * 1024  # includes first-use caches (discord.py, aiohttp, sqlite) warming up


class FrozenClock:
    def __init__(self) -> None:
        self.now = 10_000.0

    def __call__(self) -> float:
        return self.now


def schedule(seed: int = 1127) -> list[list[tuple[int, bool, int]]]:
    """5 bursts of 40 (user index, by /ask?, channel index). Everyone asks once in the first two bursts; the
    other 150 questions are skewed: a few users ask a lot (they are the ones the limiter is for)."""
    rng = random.Random(seed)
    users = list(range(50)) + rng.choices(range(50), weights=[1 / (k + 1) for k in range(50)], k=150)
    head, tail = users[:50], users[50:]
    rng.shuffle(tail)
    order = head + tail
    return [[(u, rng.random() < 0.3, rng.randrange(3)) for u in order[b * 40 : (b + 1) * 40]] for b in range(BURSTS)]


def traced_bytes(snapshot: tracemalloc.Snapshot) -> int:
    """Memory the bot side holds: the fake Discord (same process) and this test's own lists are left out."""
    kept = snapshot.filter_traces(
        [
            tracemalloc.Filter(False, "*/tests/fakes/*", all_frames=True),
            tracemalloc.Filter(False, __file__, all_frames=True),
            tracemalloc.Filter(False, tracemalloc.__file__),
        ]
    )
    return sum(stat.size for stat in kept.statistics("filename"))


def bot_tasks() -> list[asyncio.Task[Any]]:
    """Tasks of the bot side: the fake's aiohttp server keeps one handler task per keep-alive connection."""
    return [t for t in asyncio.all_tasks() if "aiohttp/web_" not in t.get_coro().cr_code.co_filename]


class PausableLagProbe(LagProbe):
    """The load test's lag probe, minus the moments the test itself blocks the loop (memory snapshots)."""

    def __init__(self) -> None:
        super().__init__()
        self.pauses = 0

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        self.pauses += 1
        try:
            yield
        finally:
            self.pauses += 1

    async def _run(self) -> None:
        while True:
            t0, pauses = time.perf_counter(), self.pauses
            await asyncio.sleep(0.01)
            if pauses == self.pauses:  # no snapshot was taken while this sample slept
                self.worst = max(self.worst, time.perf_counter() - t0 - 0.01)
                self.samples += 1


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


@pytest.mark.slow
async def test_200_questions_from_50_users_with_the_limiter_on(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeDiscord(heartbeat_interval_ms=250)
    await fake.start()
    service = FakeService(delay=0.2)  # answers take a while, so bursts overlap answers in flight
    clock = FrozenClock()
    bursts = schedule()
    try:
        async with running_bot(
            monkeypatch, tmp_path, fake=fake, service=service, discord_rate_per_minute=PER_MINUTE, notice_ttl=0.1
        ) as env:
            env.bot.rate_limiter = env.bot.admission.rate_limiter = RateLimiter(PER_MINUTE, clock=clock)
            mentions: list[tuple[int, dict[str, Any], int]] = []  # (user, message, channel)
            slashes: list[tuple[int, FakeInteraction]] = []
            # (user, "answer" | "wait" | "silent"), per the quota model: in channels a limited user is told once
            # per window (then quiet, so a burst is not answered by a burst of notices); /ask always, privately.
            expected: Counter[tuple[int, str]] = Counter()
            window: Counter[int] = Counter()
            noticed: set[int] = set()
            responding = [0]  # questions asked so far that should get a response

            def all_responses() -> list[list[str]]:
                """Per question, in asking order, every response it got (one pass over what the fake recorded)."""
                replies: dict[str, list[str]] = {}  # question message id -> channel replies to it
                for r in fake.requests:
                    if r.method == "POST" and r.path.endswith("/messages") and isinstance(r.json, dict):
                        ref = (r.json.get("message_reference") or {}).get("message_id")
                        if ref is not None:
                            kind = "wait" if WAIT_TEXT in (r.json.get("content") or "") else "other"
                            replies.setdefault(str(ref), []).append(kind)
                in_thread = Counter(int(m["channel_id"]) for m in fake.bot_messages() if m["embeds"])
                out = [["answer"] * in_thread[int(m["id"])] + replies.get(m["id"], []) for _, m, _ in mentions]
                for _, inter in slashes:
                    kinds = ["wait" if WAIT_TEXT in cb["data"]["content"] else "other"
                             for cb in inter.callbacks if cb["type"] == 4]
                    out.append(kinds + ["answer" for m in inter.followups if m["embeds"]])
                return out

            async def settle(n: int) -> None:
                """Until the `n` questions asked so far have their responses and no answer is in progress."""
                deadline = time.monotonic() + 60
                while True:
                    got = all_responses()
                    if len(got) == n and sum(1 for r in got if r) == responding[0] and env.bot.answerer._active == 0:
                        return
                    assert time.monotonic() < deadline, f"{sum(1 for r in got if r)}/{responding[0]} responses"
                    await asyncio.sleep(0.05)

            gc.collect()
            gc.freeze()  # startup heap out of the collector's way, as `arun_bot` does
            tracemalloc.start(10)
            samples = {"start": (traced_bytes(tracemalloc.take_snapshot()), rss_bytes())}
            tasks_before = len(bot_tasks())
            beats_before = fake.heartbeats
            started = time.perf_counter()
            with PausableLagProbe() as probe:
                asked = 0
                for b, burst in enumerate(bursts):
                    if b == BURSTS - 1:  # a minute later: everyone's quota is back
                        await settle(asked)
                        clock.now += 61
                        window.clear()
                        noticed.clear()
                    for u, by_slash, ch in burst:
                        window[u] += 1
                        if window[u] <= PER_MINUTE:
                            kind = "answer"
                        elif by_slash:
                            kind = "wait"
                        else:
                            kind = "silent" if u in noticed else "wait"
                            noticed.add(u)
                        expected[(u, kind)] += 1
                        responding[0] += kind != "silent"
                        if by_slash:
                            slashes.append((u, await fake.slash("ask", {"question": f"q{asked}"},
                                                                author=USERS[u], channel_id=CHANNELS[ch])))
                        else:
                            mentions.append((u, await fake.say(CHANNELS[ch], f"q{asked}", author=USERS[u],
                                                               mention_bot=True), CHANNELS[ch]))
                        asked += 1
                    await asyncio.sleep(0.05)
                    if b == 1:  # the middle: 80 asked, once they are all handled
                        await settle(asked)
                        with probe.paused():
                            gc.collect()
                            samples["middle"] = (traced_bytes(tracemalloc.take_snapshot()), rss_bytes())
                await settle(200)
                elapsed = time.perf_counter() - started
                await asyncio.sleep(0.3)  # nothing else arrives late, heartbeats still flow
            await asyncio.sleep(0.05)  # the probe's task, cancelled, winds down
            gc.collect()
            samples["end"] = (traced_bytes(tracemalloc.take_snapshot()), rss_bytes())
            tracemalloc.stop()
            gc.unfreeze()
            got = all_responses()
            beats = fake.heartbeats - beats_before
            rows = env.store.stats().questions
            leftover_tasks = len(bot_tasks()) - tasks_before
            locks = dict(env.bot.answerer._locks)
        with capsys.disabled():
            mib = 1024 * 1024
            print(
                f"\n[burst load] 200 questions / 50 users in {BURSTS} bursts, {PER_MINUTE}/min each: "
                f"{sum(1 for r in got if r == ['answer'])} answered, {sum(1 for r in got if r == ['wait'])} told to "
                f"wait, in {elapsed:.2f}s; worst event-loop lag {probe.worst * 1000:.1f} ms over {probe.samples} "
                f"samples (tracemalloc on); heartbeats {beats}\n"
                + "  memory (bot side, tracemalloc / process RSS): "
                + ", ".join(f"{k} {t / mib:.1f} / {r / mib:.0f} MiB" for k, (t, r) in samples.items())
            )

        # At most one response per question, never "other"; silence only where the quota model says so.
        assert len(got) == 200 and all(len(r) <= 1 for r in got), [r for r in got if len(r) > 1]
        observed: Counter[tuple[int, str]] = Counter()
        for (u, _, _), r in zip(mentions, got[: len(mentions)], strict=True):
            observed[(u, r[0] if r else "silent")] += 1
        for (u, _), r in zip(slashes, got[len(mentions) :], strict=True):
            observed[(u, r[0] if r else "silent")] += 1
        assert observed == expected  # the quota, per user, exactly
        answered = sum(n for (_, kind), n in expected.items() if kind == "answer")
        assert 100 < answered < 200 and len(service.calls) == answered == rows  # many limited; answers all recorded
        for _, inter in slashes:  # waits are private; answers to /ask are deferred, then followed up
            kinds = [cb["type"] for cb in inter.callbacks]
            assert kinds in ([4], [5]), kinds
            if kinds == [4]:
                assert inter.callbacks[0]["data"]["flags"] == 64
        waits = [r.json["content"] for r in fake.find("POST", r"/channels/\d+/messages") if WAIT_TEXT in
                 (r.json.get("content") or "")]
        assert waits and all("3 questions a minute" in w and "ask again in" in w for w in waits)
        assert leftover_tasks <= 0 and locks == {}  # nothing left running or held
        assert len(env.bot.rate_limiter._hits) <= 50
        assert beats >= 2  # the gateway heartbeat kept flowing under load
        growth_second_half = samples["end"][0] - samples["middle"][0]
        assert growth_second_half < SECOND_HALF_GROWTH_BOUND, samples
        assert samples["end"][0] - samples["start"][0] < WHOLE_RUN_GROWTH_BOUND, samples
        assert probe.worst < LAG_BOUND_S
    finally:
        if tracemalloc.is_tracing():
            tracemalloc.stop()
        await fake.close()
