"""Is anyone delivering? Worker heartbeats, and how long the oldest due work has waited.

``report`` (shown on ``/healthz``) fails when:

- a message has been due (``bot.outbox.queue.oldest_due``), or an escalation step or a case's
  triage deadline has been due, for longer than ``max_lag`` seconds: nobody is delivering,
  whatever the cause (no worker, a worker stuck, a database it cannot reach);
- workers have beaten here and none has within ``stale_after`` seconds: the worker died. A
  worker that stops cleanly removes its row, so one taken away on purpose raises no alarm;
  a deployment that never ran one is caught by the first check as soon as something is due.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.core.clock import utcnow
from bot.models import Case, Escalation
from bot.models.outbox import WorkerHeartbeat
from bot.outbox import queue

PRUNE_AFTER = timedelta(days=1)
"""Rows of workers gone this long are removed by a live worker (never while none is alive)."""


def worker_name() -> str:
    """This process's heartbeat name: ``host:pid`` (a restarted worker gets a row of its own)."""
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def beat(
    engine: Engine, name: str, *, started_at: datetime, redis: str, now: datetime | None = None
) -> None:
    """Refresh this worker's row (and drop rows of workers gone for ``PRUNE_AFTER``)."""
    now = now or utcnow()
    with Session(engine) as session:
        row = session.get(WorkerHeartbeat, name)
        if row is None:
            row = WorkerHeartbeat(name=name, started_at=started_at, redis=redis)
        row.seen_at, row.redis = now, redis
        session.add(row)
        session.execute(
            delete(WorkerHeartbeat).where(
                col(WorkerHeartbeat.seen_at) < now - PRUNE_AFTER,
                col(WorkerHeartbeat.name) != name,
            )
        )
        try:
            session.commit()
        except IntegrityError:  # a row of the same name appeared meanwhile: next beat updates it
            session.rollback()


def forget(engine: Engine, name: str) -> None:
    """Remove this worker's row: it stops on purpose, no alarm is owed."""
    with Session(engine) as session:
        session.execute(delete(WorkerHeartbeat).where(col(WorkerHeartbeat.name) == name))
        session.commit()


def oldest_due_escalation(engine: Engine, *, now: datetime | None = None) -> datetime | None:
    """Since when the longest-waiting escalation work has been due: a ladder step not taken by
    its deadline, or a new case past its triage target with no ladder yet (what
    ``bot.cases.escalation.sweep`` acts on). None when nothing waits."""
    now = now or utcnow()
    with Session(engine) as session:
        step = session.exec(
            select(func.min(Escalation.due_at)).where(
                col(Escalation.done).is_(False), col(Escalation.due_at) <= now
            )
        ).one()
        case = session.exec(
            select(func.min(Case.due_at)).where(
                col(Case.status) == "new",
                col(Case.acknowledged_at).is_(None),
                col(Case.due_at) <= now,
                col(Case.id).not_in(select(Escalation.case_id)),
            )
        ).one()
    found = [moment for moment in (step, case) if moment is not None]
    return min(found) if found else None


def _seconds(since: datetime | None, now: datetime) -> float | None:
    return None if since is None else round((now - since).total_seconds(), 1)


def report(
    engine: Engine, *, max_lag: float, stale_after: float, now: datetime | None = None
) -> dict[str, Any]:
    """What ``/healthz`` shows of delivery: waits, live workers, and problems (empty: ok)."""
    now = now or utcnow()
    outbox_wait = _seconds(queue.oldest_due(engine, now=now), now)
    escalation_wait = _seconds(oldest_due_escalation(engine, now=now), now)
    with Session(engine) as session:
        rows = session.exec(
            select(WorkerHeartbeat).order_by(col(WorkerHeartbeat.seen_at).desc())
        ).all()
    workers = [
        {
            "seen_seconds_ago": _seconds(row.seen_at, now),
            "up_seconds": _seconds(row.started_at, now),
            "redis": row.redis,
        }
        for row in rows
    ]
    problems = []
    if outbox_wait is not None and outbox_wait > max_lag:
        problems.append(f"an outbox message has been due for {outbox_wait:.0f} s")
    if escalation_wait is not None and escalation_wait > max_lag:
        problems.append(f"an escalation has been due for {escalation_wait:.0f} s")
    if rows and (now - rows[0].seen_at).total_seconds() > stale_after:
        problems.append(f"no worker heartbeat for {_seconds(rows[0].seen_at, now):.0f} s")
    return {
        "ok": not problems,
        "problems": problems,
        "outbox_due_seconds": outbox_wait,
        "escalation_due_seconds": escalation_wait,
        "max_lag_seconds": max_lag,
        "workers": workers,
        "worker_stale_after_seconds": stale_after,
    }
