"""Telling the outbox workers that messages were committed: in process, on arq, or not at all."""

from __future__ import annotations

import contextlib
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from arq import ArqRedis

log = logging.getLogger(__name__)

REDIS_CONNECT_TIMEOUT = 2.0
REDIS_TIMEOUT = 5.0


class Wakeable(Protocol):
    """An in-process worker loop that can be woken."""

    def wake(self) -> None:
        """Deliver now rather than at the next poll."""
        ...


class Notifier(Protocol):
    """Tells the workers that messages were committed."""

    async def notify(self, message_ids: Sequence[int]) -> None:
        """Called after the transaction that wrote the messages has committed."""
        ...


class NullNotifier:
    """Until the arq pool is open: the next sweep delivers what was committed."""

    async def notify(self, message_ids: Sequence[int]) -> None:
        """Nothing to do."""


class WakeNotifier:
    """In-process: wake the loop running inside this server."""

    def __init__(self, worker: Wakeable) -> None:
        self.worker = worker

    async def notify(self, message_ids: Sequence[int]) -> None:
        """Wake the in-process worker."""
        if message_ids:
            self.worker.wake()


@dataclass(frozen=True)
class Backoff:
    """Waits between tries to reach Redis: ``base`` doubling per failure up to ``cap``, +/-
    ``jitter`` (so that workers and app processes do not all knock at once)."""

    base: float = 0.5
    cap: float = 30.0
    jitter: float = 0.2

    def delay(self, failures: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after ``failures`` failures in a row (1-based)."""
        raw = min(self.cap, self.base * 2.0 ** max(0, failures - 1))
        spread: float = (rng or random).uniform(1 - self.jitter, 1 + self.jitter)
        return raw * spread


def arq_redis(redis_url: str) -> ArqRedis:
    """An arq client on ``redis_url`` that gives up on a Redis that does not answer (connect
    ``REDIS_CONNECT_TIMEOUT``, commands ``REDIS_TIMEOUT``) instead of waiting on the OS."""
    client: ArqRedis = ArqRedis.from_url(
        redis_url, socket_connect_timeout=REDIS_CONNECT_TIMEOUT, socket_timeout=REDIS_TIMEOUT
    )
    return client


async def close_quietly(pool: ArqRedis) -> None:
    """Let go of a client whose Redis may be gone, connections in use included."""
    with contextlib.suppress(Exception):
        await pool.aclose()
    with contextlib.suppress(Exception):
        await pool.connection_pool.disconnect(inuse_connections=True)


class ArqNotifier:
    """On Redis: one ``deliver`` job per message (arq drops a second job with the same id).

    Connects on first use and again after a failure, waiting longer after each failure in a
    row (``Backoff``), so a Redis outage delays deliveries to the worker's next sweep of the
    table instead of stopping the app or slowing every request.
    """

    def __init__(
        self,
        redis_url: str,
        *,
        backoff: Backoff = Backoff(),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.redis_url = redis_url
        self.backoff = backoff
        self.clock = clock
        self.pool: ArqRedis | None = None
        self.failures = 0
        self.retry_at = 0.0

    def _failed(self) -> None:
        self.failures += 1
        self.retry_at = self.clock() + self.backoff.delay(self.failures)

    async def _pool(self) -> ArqRedis | None:
        if self.pool is None:
            if self.clock() < self.retry_at:
                return None  # Redis failed a moment ago: do not make every request wait on it
            pool = arq_redis(self.redis_url)
            try:
                await pool.ping()
            except Exception:  # Redis down: the sweep delivers later
                await close_quietly(pool)
                self._failed()
                log.warning("cannot reach Redis for the job queue; deliveries wait for a sweep")
                return None
            self.pool, self.failures = pool, 0
        return self.pool

    async def notify(self, message_ids: Sequence[int]) -> None:
        """Enqueue a delivery job per message; a failure only delays it to the next sweep."""
        for message_id in message_ids:
            pool = await self._pool()
            if pool is None:
                return
            try:
                await pool.enqueue_job("deliver", message_id, _job_id=f"outbox:{message_id}")
            except Exception:  # the sweep delivers it anyway
                log.warning("could not enqueue outbox %s; the sweep will deliver it", message_id)
                await close_quietly(pool)
                self.pool = None
                self._failed()
                return

    async def close(self) -> None:
        """Close the pool."""
        if self.pool is not None:
            await close_quietly(self.pool)
            self.pool = None
