"""The retention purge as a job: nightly on arq, or a daily loop in ``hotline serve`` (no Redis)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine

from bot.core.clock import utcnow
from bot.core.concurrency import finish_in_thread
from bot.core.metrics import JOBS
from bot.core.settings import Settings
from bot.governance.retention import PURGE_INTERVAL, purge

log = logging.getLogger(__name__)


async def purge_job(ctx: dict[str, Any]) -> dict[str, int]:
    """arq cron job (and the in-process hook): run ``purge`` now with the configured periods.

    Reads the engine from ``ctx["engine"]`` and the periods from ``Settings()``
    (``HOTLINE_RETENTION_CONTACT_DAYS``, ``HOTLINE_RETENTION_CLOSED_DAYS``).
    """
    settings = Settings()
    engine: Engine = ctx["engine"]
    report = await finish_in_thread(
        purge,
        engine,
        now=utcnow(),
        contact_days=settings.retention_contact_days,
        closed_days=settings.retention_closed_days,
    )
    return report.counts()


async def purge_forever(engine: Engine, *, interval: timedelta = PURGE_INTERVAL) -> None:
    """The in-process loop (no Redis): purge at start, then every ``interval``; survives errors."""
    ctx: dict[str, Any] = {"engine": engine}
    while True:
        try:
            await purge_job(ctx)  # bot.governance.retention logs what it cleared
        except Exception:  # a database hiccup: try again at the next round
            JOBS.labels("purge", "error").inc()
            log.exception("retention purge failed; retrying in %s", interval)
        else:
            JOBS.labels("purge", "ok").inc()
        await asyncio.sleep(interval.total_seconds())
