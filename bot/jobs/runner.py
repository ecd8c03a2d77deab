"""``hotline worker``: deliveries, escalations and the purge from the database; arq on Redis.

The outbox table, not the Redis queue, is the source of truth. These loops run on the database
whatever Redis does: the outbox is swept every few seconds (and at once when something wakes it),
the escalation ladder every 30 s, the retention purge at start and daily, the statistics
roll-up every 10 minutes (``bot.jobs.stats``), and this worker's
heartbeat row is refreshed (``bot.jobs.health``, shown on ``/healthz``). With Redis, an arq
worker also runs the app's ``deliver`` jobs, so that a new message goes out at once. When Redis
goes away the arq worker is rebuilt with back-off (0.5 s doubling to 30 s, jittered) until Redis
answers again; the loops meanwhile deliver everything the lost jobs would have.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine

from bot.core.clock import utcnow
from bot.core.concurrency import finish_in_thread
from bot.core.metrics import HEARTBEATS, JOBS, LAST_HEARTBEAT
from bot.governance.retention import PURGE_INTERVAL
from bot.i18n.translate import Translate
from bot.jobs import health
from bot.jobs.arq import arq_worker
from bot.jobs.escalation import ESCALATE_SECONDS, escalate_forever
from bot.jobs.purge import purge_forever
from bot.jobs.shifts import ANNOUNCE_SECONDS, announce_forever
from bot.jobs.stats import ROLLUP_SECONDS, rollup_forever
from bot.outbox.notify import Backoff, WakeNotifier, arq_redis, close_quietly
from bot.outbox.worker import OutboxWorker

log = logging.getLogger(__name__)

SWEEP_SECONDS = 5.0
"""How often ``hotline worker`` sweeps the outbox table (its outbox loop's poll)."""


@dataclass(frozen=True)
class Intervals:
    """How often each loop runs (tests make them short)."""

    escalate: float = ESCALATE_SECONDS
    purge: timedelta = PURGE_INTERVAL
    heartbeat: float = 10.0
    announce: float = ANNOUNCE_SECONDS
    rollup: float = ROLLUP_SECONDS
    steady: float = 30.0
    """Connected to Redis this long, the next loss starts the back-off from its base again."""


class Runner:
    """Runs every loop of ``hotline worker`` until cancelled, then removes its heartbeat.

    ``redis`` is what the heartbeat says of the job queue: ``none`` (no Redis configured),
    ``connecting``, ``connected`` or ``reconnecting``.
    """

    def __init__(
        self,
        engine: Engine,
        outbox: OutboxWorker,
        tr: Translate,
        *,
        redis_url: str | None = None,
        name: str | None = None,
        intervals: Intervals = Intervals(),
        backoff: Backoff | None = None,
    ) -> None:
        self.engine = engine
        self.outbox = outbox
        self.tr = tr
        self.redis_url = redis_url
        self.name = name or health.worker_name()
        self.intervals = intervals
        self.backoff = backoff or Backoff()
        self.started_at = utcnow()
        self.redis = "none" if redis_url is None else "connecting"
        self.connections = 0
        """How many times arq has connected to Redis (the first time included)."""
        self._changed = asyncio.Event()

    async def run(self) -> None:
        """Run until cancelled; a clean stop removes this worker's heartbeat row."""
        loops = [
            asyncio.create_task(self.outbox.run_forever(), name="outbox"),
            asyncio.create_task(
                escalate_forever(
                    self.engine,
                    self.outbox.cipher,
                    self.tr,
                    lambda: WakeNotifier(self.outbox),
                    interval=self.intervals.escalate,
                ),
                name="escalations",
            ),
            asyncio.create_task(
                purge_forever(self.engine, interval=self.intervals.purge), name="purge"
            ),
            asyncio.create_task(self._beat_forever(), name="heartbeat"),
            asyncio.create_task(
                announce_forever(
                    self.engine,
                    self.outbox.cipher,
                    self.tr,
                    lambda: WakeNotifier(self.outbox),
                    interval=self.intervals.announce,
                ),
                name="shift-announcements",
            ),
            asyncio.create_task(
                rollup_forever(self.engine, interval=self.intervals.rollup), name="stats-rollup"
            ),
        ]
        if self.redis_url is not None:
            loops.append(asyncio.create_task(self._arq_forever(self.redis_url), name="arq"))
        try:
            # wait, not gather: a cancellation of this task reaches each loop once, below, so
            # that none is cancelled again while it closes its connections.
            done, _ = await asyncio.wait(loops, return_when=asyncio.FIRST_EXCEPTION)
            for loop in done:
                loop.result()  # a loop that ended on its own: a bug, raised here
        finally:
            for loop in loops:
                loop.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
            try:
                await finish_in_thread(health.forget, self.engine, self.name)
            except Exception:  # the row goes stale instead: /healthz says so
                log.exception("could not remove this worker's heartbeat")

    def _set_redis(self, state: str) -> None:
        self.redis = state
        self._changed.set()

    async def _beat_forever(self) -> None:
        while True:
            self._changed.clear()
            try:
                await finish_in_thread(
                    health.beat,
                    self.engine,
                    self.name,
                    started_at=self.started_at,
                    redis=self.redis,
                )
            except Exception:  # the database is away: the next beat tries again
                JOBS.labels("heartbeat", "error").inc()
                log.exception("worker heartbeat failed; retrying")
            else:
                HEARTBEATS.inc()
                LAST_HEARTBEAT.set_to_current_time()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.intervals.heartbeat):
                    await self._changed.wait()

    async def _arq_up(self, ctx: dict[str, Any]) -> None:
        """arq's start-up hook: Redis answered."""
        self.connections += 1
        if self.connections == 1:
            log.info("job queue on Redis: deliver jobs run here")
        else:
            log.warning("Redis is back: deliver jobs run here again")
        self._set_redis("connected")
        self.outbox.wake()  # jobs queued while Redis was away are gone: sweep now

    async def _arq_forever(self, redis_url: str) -> None:
        failures = 0
        loop = asyncio.get_running_loop()
        while True:
            redis = arq_redis(redis_url)
            worker = arq_worker(redis, ctx={"outbox": self.outbox}, on_startup=self._arq_up)
            connected = self.connections
            started = loop.time()
            main = asyncio.create_task(worker.main(), name="arq")
            main.add_done_callback(_retrieve)
            try:
                # wait, not await: a cancellation that arq or redis-py swallowed must not keep
                # this loop (and the worker's shutdown) waiting; arq's task is stopped below.
                await asyncio.wait({main})
                main.result()
                error = "the arq worker stopped"
            except asyncio.CancelledError:
                main.cancel()
                await asyncio.wait({main}, timeout=5)
                raise
            except Exception as exc:  # Redis went away (or never came): rebuild after a pause
                error = f"{type(exc).__name__}: {exc}"
            finally:
                for job in worker.tasks.values():
                    job.cancel()  # a send in progress finishes in its thread and is recorded
                await asyncio.gather(*worker.tasks.values(), return_exceptions=True)
                await close_quietly(redis)
            if self.connections > connected and loop.time() - started >= self.intervals.steady:
                failures = 0
            failures += 1
            delay = self.backoff.delay(failures)
            if self.redis == "connected":
                log.warning(
                    "lost Redis (%s): delivering from the database; reconnecting in %.1f s",
                    error[:200],
                    delay,
                )
            else:
                log.warning("Redis unreachable (%s); next try in %.1f s", error[:200], delay)
            self._set_redis("reconnecting")
            await asyncio.sleep(delay)


def _retrieve(task: asyncio.Task[None]) -> None:
    """Mark an arq task's outcome as seen (it is reported, or it was stopped on purpose)."""
    if not task.cancelled():
        task.exception()
