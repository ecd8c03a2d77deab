"""Gauges read from the database and the session store for ``/metrics``, cached a few seconds.

The outbox per channel (messages waiting, how long the oldest due one has waited), live worker
heartbeats, the oldest due escalation and live sessions per channel. The same in every app
process (read ``max()`` across them). Each scrape at most refreshes them once per ``ttl``
seconds, with aggregate queries on indexed columns (``outbox.status``, ``worker_heartbeats.
seen_at``); while the database is away the last values stay and ``hotline_state_up`` says 0.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import and_, case, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.core.clock import utcnow
from bot.core.concurrency import finish_in_thread
from bot.core.metrics import OTHER
from bot.jobs.health import oldest_due_escalation
from bot.models import OutboundMessage, OutboxStatus
from bot.models.outbox import WorkerHeartbeat
from bot.sessions.base import SessionStore
from bot.sessions.memory import MemorySessionStore
from bot.sessions.redis import RedisSessionStore

log = logging.getLogger(__name__)

TTL = 5.0
"""Seconds a reading is reused: a scrape every second costs one round of queries per 5 s."""
OUTBOX_CHANNELS = ("sms", "telegram")
SESSION_CHANNELS = ("ussd", "sms", "telegram")


@dataclass
class Reading:
    """One round of the gauges' values."""

    outbox_waiting: dict[str, int] = field(default_factory=dict)
    outbox_due_seconds: dict[str, float] = field(default_factory=dict)
    workers_alive: int = 0
    heartbeat_age: float = math.nan
    escalation_due_seconds: float = 0.0
    sessions: dict[str, int] | None = None
    database_up: bool = False


def outbox_waiting(engine: Engine, now: datetime) -> tuple[dict[str, int], dict[str, float]]:
    """Messages not yet sent per channel, and seconds the oldest due one has waited (0: none):
    pending and its time come, or claimed by a worker whose lease ran out."""
    status = col(OutboundMessage.status)
    due_since = case(
        (
            and_(status == OutboxStatus.PENDING, col(OutboundMessage.next_attempt_at) <= now),
            col(OutboundMessage.next_attempt_at),
        ),
        (
            and_(status == OutboxStatus.SENDING, col(OutboundMessage.claimed_until) < now),
            col(OutboundMessage.claimed_until),
        ),
    )
    with Session(engine) as session:
        rows = session.exec(
            select(OutboundMessage.channel, func.count(), func.min(due_since))
            .where(status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]))
            .group_by(OutboundMessage.channel)
        ).all()
    waiting = dict.fromkeys(OUTBOX_CHANNELS, 0)
    due = dict.fromkeys(OUTBOX_CHANNELS, 0.0)
    for channel, count, since in rows:
        name = channel if channel in OUTBOX_CHANNELS else OTHER
        waiting[name] = waiting.get(name, 0) + int(count)
        if since is not None:
            seconds = max(0.0, (now - _utc(since)).total_seconds())
            due[name] = max(due.get(name, 0.0), seconds)
    return waiting, due


def workers(engine: Engine, now: datetime, stale_after: float) -> tuple[int, float]:
    """Workers that beat within ``stale_after`` seconds, and the newest beat's age (NaN: none)."""
    fresh = now - timedelta(seconds=stale_after)
    with Session(engine) as session:
        alive = session.exec(
            select(func.count()).where(col(WorkerHeartbeat.seen_at) >= fresh)
        ).one()
        newest = session.exec(select(func.max(WorkerHeartbeat.seen_at))).one()
    age = math.nan if newest is None else max(0.0, (now - _utc(newest)).total_seconds())
    return int(alive), age


def _utc(moment: datetime | str) -> datetime:
    """A reading as aware UTC (SQLite may hand an aggregate back as text, without a zone)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def read_database(engine: Engine, stale_after: float) -> Reading:
    """The database's part of a reading (blocking: run it in a thread)."""
    now = utcnow()
    waiting, due = outbox_waiting(engine, now)
    alive, age = workers(engine, now, stale_after)
    escalation = oldest_due_escalation(engine, now=now)
    return Reading(
        outbox_waiting=waiting,
        outbox_due_seconds=due,
        workers_alive=alive,
        heartbeat_age=age,
        escalation_due_seconds=0.0
        if escalation is None
        else max(0.0, (now - _utc(escalation)).total_seconds()),
        database_up=True,
    )


async def live_sessions(store: SessionStore) -> dict[str, int] | None:
    """Live sessions per channel (the part of their key before ``:``); None if unknown."""
    if isinstance(store, MemorySessionStore):
        keys: list[str] = store.live_keys()
    elif isinstance(store, RedisSessionStore):
        prefix = store.session_key("")
        keys = []
        async for raw in store.client.scan_iter(match=prefix + "*", count=1000):
            name = raw.decode() if isinstance(raw, bytes) else str(raw)
            keys.append(name[len(prefix) :])
    else:
        return None
    found = dict.fromkeys(SESSION_CHANNELS, 0)
    for key in keys:
        channel = key.partition(":")[0]
        name = channel if channel in SESSION_CHANNELS else OTHER
        found[name] = found.get(name, 0) + 1
    return found


class StateGauges(Collector):
    """The database's and session store's gauges; ``refresh`` before each exposition."""

    def __init__(
        self,
        engine: Engine,
        store: SessionStore | None,
        *,
        stale_after: float,
        ttl: float = TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.store = store
        self.stale_after = stale_after
        self.ttl = ttl
        self.clock = clock
        self.reading = Reading()
        self.read_at: float | None = None
        self._lock = asyncio.Lock()

    async def refresh(self) -> None:
        """Read again if the last reading is older than ``ttl`` (one reader at a time)."""
        async with self._lock:
            if self.read_at is not None and self.clock() - self.read_at < self.ttl:
                return
            try:
                reading = await finish_in_thread(read_database, self.engine, self.stale_after)
            except Exception as exc:  # keep the last values; say the database is away
                log.warning("metrics: database not readable (%s)", type(exc).__name__)
                reading = Reading(**{**self.reading.__dict__, "database_up": False})
            if self.store is not None:
                try:
                    reading.sessions = await live_sessions(self.store)
                except Exception as exc:  # Redis away: no session counts this round
                    log.warning("metrics: session store not readable (%s)", type(exc).__name__)
                    reading.sessions = None
            self.reading, self.read_at = reading, self.clock()

    def collect(self) -> Iterator[Metric]:
        """The last reading as gauge families."""
        reading = self.reading
        up = GaugeMetricFamily(
            "hotline_state_up", "1 if the database answered the last metrics reading."
        )
        up.add_metric([], 1.0 if reading.database_up else 0.0)
        yield up
        waiting = GaugeMetricFamily(
            "hotline_outbox_pending",
            "Outbox messages not yet sent (pending or being sent), by channel.",
            labels=["channel"],
        )
        due = GaugeMetricFamily(
            "hotline_outbox_oldest_due_seconds",
            "Seconds the longest-waiting due outbox message has waited (0: none), by channel.",
            labels=["channel"],
        )
        for channel, count in sorted(reading.outbox_waiting.items()):
            waiting.add_metric([channel], float(count))
        for channel, seconds in sorted(reading.outbox_due_seconds.items()):
            due.add_metric([channel], seconds)
        yield waiting
        yield due
        alive = GaugeMetricFamily(
            "hotline_workers_alive",
            "Workers whose heartbeat is fresh (HOTLINE_WORKER_STALE_AFTER).",
        )
        alive.add_metric([], float(reading.workers_alive))
        yield alive
        age = GaugeMetricFamily(
            "hotline_worker_heartbeat_age_seconds",
            "Seconds since the newest worker heartbeat (NaN: no worker has beaten).",
        )
        age.add_metric([], reading.heartbeat_age)
        yield age
        escalation = GaugeMetricFamily(
            "hotline_escalation_oldest_due_seconds",
            "Seconds the longest-waiting due escalation step has waited (0: none).",
        )
        escalation.add_metric([], reading.escalation_due_seconds)
        yield escalation
        if reading.sessions is not None:
            sessions = GaugeMetricFamily(
                "hotline_sessions_active",
                "Conversations whose session has not expired, by channel.",
                labels=["channel"],
            )
            for channel, count in sorted(reading.sessions.items()):
                sessions.add_metric([channel], float(count))
            yield sessions
