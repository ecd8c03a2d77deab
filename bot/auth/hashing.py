"""Password hashing kept on a short leash: argon2id costs 64 MiB and a core for ~0.1-0.3 s.

Every argon2 call of a request (sign-in, a password check or change) runs through one
``HashGate``: at most ``concurrency`` at a time on threads of its own (so the threads that run
database work for the channels never wait behind a hash), and at most ``waiting`` more queued.
Past that the gate refuses at once with ``HashingBusy`` (the API answers 503 with
``Retry-After``): forty sign-ins at once cost two hashes of memory, not forty.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

CONCURRENCY = min(2, max(1, (os.cpu_count() or 2) // 2))
"""argon2 hashes at once per process (each holds 64 MiB and a core): half the cores, at most
two, so the channels always keep a core."""
WAITING = 8
"""Hashes queued behind them before the gate refuses."""


class HashingBusy(Exception):
    """Too many password checks in flight; try again in a moment."""

    retry_after = 1

    def __init__(self) -> None:
        super().__init__("too many sign-ins at once; try again in a moment")


class HashGate:
    """At most ``concurrency`` hashes running and ``waiting`` queued; the rest refused."""

    def __init__(self, concurrency: int = CONCURRENCY, waiting: int = WAITING) -> None:
        if concurrency < 1 or waiting < 0:
            raise ValueError("a gate lets at least one hash through and queues none or more")
        self.concurrency = concurrency
        self.limit = concurrency + waiting
        self._lock = threading.Lock()  # loops in several threads (tests) may share the gate
        self._in_flight = 0
        self._pool: ThreadPoolExecutor | None = None

    @property
    def in_flight(self) -> int:
        """Hashes running or queued now."""
        return self._in_flight

    def check(self) -> None:
        """HashingBusy now if the gate is full (a cheap refusal before any other work)."""
        if self._in_flight >= self.limit:
            raise HashingBusy()

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="argon2")
        return self._pool

    async def run(self, func: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """``func(*args, **kwargs)`` on the gate's threads, or HashingBusy at once when full.

        A cancelled caller does not free the slot before the hash is done (a thread cannot be
        stopped): the count stays true to the memory in use.
        """
        with self._lock:
            if self._in_flight >= self.limit:
                raise HashingBusy()
            self._in_flight += 1
            executor = self._executor()
        try:
            future = executor.submit(lambda: func(*args, **kwargs))
        except BaseException:
            self._release(None)
            raise
        future.add_done_callback(self._release)
        return await asyncio.wrap_future(future)

    def _release(self, _: object) -> None:
        with self._lock:
            self._in_flight -= 1


GATE = HashGate()
"""The process's gate (one per process: its bound is the process's memory)."""
