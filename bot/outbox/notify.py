"""Telling the outbox workers that messages were committed: in process, on arq, or not at all."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from typing import Protocol

from arq import ArqRedis, create_pool
from arq.connections import RedisSettings

log = logging.getLogger(__name__)


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


class ArqNotifier:
    """On Redis: one ``deliver`` job per message (arq drops a second job with the same id).

    Connects on first use and again after a failure, so a Redis outage delays deliveries to
    the next sweep instead of stopping the app.
    """

    def __init__(self, redis_url: str) -> None:
        self.settings = RedisSettings.from_dsn(redis_url)
        self.settings.conn_retries = 0
        self.pool: ArqRedis | None = None

    async def _pool(self) -> ArqRedis | None:
        if self.pool is None:
            try:
                self.pool = await create_pool(self.settings)
            except Exception:  # Redis down: the sweep delivers later
                log.warning("cannot reach Redis for the job queue; deliveries wait for a sweep")
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
                with contextlib.suppress(Exception):
                    await pool.aclose()
                self.pool = None

    async def close(self) -> None:
        """Close the pool."""
        if self.pool is not None:
            await self.pool.aclose()
