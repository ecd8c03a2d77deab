"""DatabaseThreads: a bounded number of threads, a queue, and work refused before it starts."""

from __future__ import annotations

import asyncio
import threading
import time
from functools import partial

import pytest

from bot.core.concurrency import DatabaseThreads, Overloaded


def sleeper(seconds: float, ran: list[float]) -> float:
    """Blocking work that says when it ran."""
    ran.append(time.monotonic())
    time.sleep(seconds)
    return seconds


async def test_no_more_work_runs_at_once_than_there_are_threads() -> None:
    threads = DatabaseThreads(2, max_wait=10.0)
    ran: list[float] = []
    results = await asyncio.gather(*(threads.run(partial(sleeper, 0.02, ran)) for _ in range(10)))
    assert results == [0.02] * 10
    assert len(ran) == 10
    assert threads.busiest == 2
    assert threads.shed == 0


async def test_work_that_waited_too_long_is_dropped_before_it_starts() -> None:
    threads = DatabaseThreads(1, max_wait=0.1)
    release = threading.Event()
    ran: list[float] = []
    first = asyncio.ensure_future(threads.run(partial(release.wait, 5.0), shed=True))
    late = asyncio.ensure_future(threads.run(partial(sleeper, 0.0, ran), shed=True))
    patient = asyncio.ensure_future(threads.run(partial(sleeper, 0.0, ran)))  # no shed: waits
    await asyncio.sleep(0.3)
    release.set()
    assert await first is True
    with pytest.raises(Overloaded):
        await late
    assert await patient == 0.0
    assert len(ran) == 1  # the dropped work never ran
    assert threads.shed == 1


async def test_a_long_queue_drains_at_once_past_the_wait() -> None:
    threads = DatabaseThreads(1, max_wait=0.1)
    ran: list[float] = []
    began = time.monotonic()
    blocker = asyncio.ensure_future(threads.run(partial(time.sleep, 0.3)))
    queued = [
        asyncio.ensure_future(threads.run(partial(sleeper, 0.2, ran), shed=True)) for _ in range(20)
    ]
    outcomes = await asyncio.gather(*queued, return_exceptions=True)
    await blocker
    assert all(isinstance(outcome, Overloaded) for outcome in outcomes)
    assert ran == []  # none of them took database time
    assert time.monotonic() - began < 1.0  # not 20 x 0.2 s: what waited too long is dropped
    assert threads.shed == 20
    assert threads.queued == 0


async def test_cancelled_while_queued_never_runs_and_while_running_finishes() -> None:
    threads = DatabaseThreads(1, max_wait=10.0)
    release = threading.Event()
    ran: list[float] = []
    running = asyncio.ensure_future(threads.run(partial(release.wait, 5.0)))
    queued = asyncio.ensure_future(threads.run(partial(sleeper, 0.0, ran)))
    await asyncio.sleep(0.05)
    queued.cancel()
    with pytest.raises(asyncio.CancelledError):
        await queued
    running.cancel()
    await asyncio.sleep(0.05)
    assert not running.done()  # the started work is awaited, not abandoned
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await running
    await threads.run(partial(sleeper, 0.0, ran))
    assert len(ran) == 1  # only the last one: the cancelled queued work never ran
    assert threads.queued == 0  # and the queue count is back to nothing
