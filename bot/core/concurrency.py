"""Blocking work run off the event loop, finished even when the awaiting task is cancelled.

``finish_in_thread`` runs any blocking work (a provider call, a background job's query) on the
loop's default threads. ``DatabaseThreads`` is for the database work of requests a person waits
on (a report's case, a status look-up): a few threads of its own, sized to the database, with a
queue in front of them, instead of a thread per request. Every thread fights the event loop for
the interpreter lock: each statement of a case gives the lock up and, while the loop is busy,
waits up to the switch interval (5 ms) to get it back (one thread wrote 158 SQLite cases/s beside
an idle loop and 42/s beside a busy one, on this 2-core machine under other load), so threads
beyond what the database can use only add that contention to every request. Work that waited
longer than a person should wait is not started (``Overloaded``): the caller answers a neutral
"try again" screen rather than a gateway timing out on a report that might then be saved unseen.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


async def finish_in_thread(func: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run blocking work in a thread; if the caller is cancelled, let the work finish first.

    A thread cannot be stopped: cancelling the awaiting task would leave it running with a
    connection checked out while shutdown disposes the engine (the connection is then
    garbage-collected unclosed), or with a message sent but its outcome not yet recorded.
    """
    # Bounded: a claim, or one send with the SDK's timeouts.
    return await _to_the_end(asyncio.ensure_future(asyncio.to_thread(func, *args, **kwargs)))


async def _to_the_end(work: asyncio.Future[T], unstart: Callable[[], bool] | None = None) -> T:
    """Await ``work``; if the caller is cancelled, take it back when ``unstart()`` can (it had
    not started), else wait until it is done; then let the cancellation through."""
    try:
        return await asyncio.shield(work)
    except asyncio.CancelledError:
        if unstart is None or not unstart():
            await asyncio.wait({work})
            with contextlib.suppress(asyncio.CancelledError):
                work.exception()  # retrieved here: the cancelled caller no longer wants it
        raise


class Overloaded(Exception):
    """This work waited more than ``max_wait`` for a database thread: it was not started."""


class DatabaseThreads:
    """``threads`` threads for database work, and a queue in front of them.

    ``run(..., shed=True)``: work that waited more than ``max_wait`` seconds for a thread is not
    started (``Overloaded``); it takes no database time, so a long queue drains at once and what
    is behind it is not held up. Without ``shed`` work always waits its turn. A caller cancelled
    while its work is queued takes it out of the queue; once started, the work is finished (as
    ``finish_in_thread``).

    Refusing at once by an estimate of the wait (queue length times the recent time per job) was
    tried: under a machine short of CPU the estimate ran high and refused reports that would
    have been saved in time, so only the wait itself decides.
    """

    def __init__(self, threads: int, max_wait: float, name: str = "db") -> None:
        self.threads = max(1, threads)
        self.max_wait = max_wait
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix=name)
        self._lock = threading.Lock()
        self._waiting = 0  # submitted, not yet started
        self._running = 0
        self._busiest = 0  # most jobs ever running at once (tests check the bound)
        self.shed = 0  # jobs dropped unstarted

    @property
    def busiest(self) -> int:
        """The most jobs that ran at the same time so far: never more than ``threads``."""
        return self._busiest

    @property
    def queued(self) -> int:
        """Jobs waiting for a thread now."""
        return self._waiting

    async def run(self, call: Callable[[], T], *, shed: bool = False) -> T:
        """Run ``call()`` on one of the threads (``functools.partial`` for arguments); see the
        class."""
        submitted = time.monotonic()
        with self._lock:
            self._waiting += 1
        # In the caller's context, as asyncio.to_thread does: its log lines keep the request id.
        within = functools.partial(contextvars.copy_context().run, call)
        future = self._pool.submit(self._job, within, submitted, shed)
        future.add_done_callback(self._unqueue_if_cancelled)
        return await _to_the_end(asyncio.wrap_future(future), future.cancel)

    def _job(self, call: Callable[[], T], submitted: float, shed: bool) -> T:
        with self._lock:
            self._waiting -= 1
            if shed and time.monotonic() - submitted > self.max_wait:
                self.shed += 1
                dropped = True
            else:
                dropped = False
                self._running += 1
                self._busiest = max(self._busiest, self._running)
        if dropped:
            raise Overloaded  # the caller says so (its logger limits lines per request)
        try:
            return call()
        finally:
            with self._lock:
                self._running -= 1

    def _unqueue_if_cancelled(self, future: Future[Any]) -> None:
        """A job cancelled before it started never ran ``_job``: take it off the count."""
        if future.cancelled():
            with self._lock:
                self._waiting -= 1
