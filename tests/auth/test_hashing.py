"""The hashing gate: two hashes at a time on threads of their own, a short queue, then refusal."""

from __future__ import annotations

import asyncio
import threading

import pytest

from bot.auth.hashing import HashGate, HashingBusy


async def test_past_the_queue_attempts_are_refused_at_once() -> None:
    gate = HashGate(concurrency=2, waiting=1)
    release = threading.Event()
    running: list[str] = []

    def hash_slowly() -> str:
        running.append(threading.current_thread().name)
        release.wait(5)
        return "done"

    held = [asyncio.ensure_future(gate.run(hash_slowly)) for _ in range(3)]
    await asyncio.sleep(0.05)
    assert gate.in_flight == 3 and len(running) == 2, "two run, one waits"
    with pytest.raises(HashingBusy):
        await gate.run(hash_slowly)
    release.set()
    assert await asyncio.gather(*held) == ["done"] * 3
    assert gate.in_flight == 0
    assert all(name.startswith("argon2") for name in running), "never the default threads"
    assert await gate.run(len, "abc") == 3


async def test_an_error_frees_its_place() -> None:
    gate = HashGate(concurrency=1, waiting=0)

    def broken() -> None:
        raise ValueError("bad hash")

    with pytest.raises(ValueError, match="bad hash"):
        await gate.run(broken)
    assert gate.in_flight == 0
    assert await gate.run(int, "7") == 7


def test_a_gate_lets_something_through() -> None:
    with pytest.raises(ValueError):
        HashGate(concurrency=0)
