"""The statistics roll-up kept ready (``bot.stats.rollup``): every few minutes the months of this
year and the last whose cases changed are counted again, and any month counted more than a day
ago (a safety net for clocks that disagree between hosts), so a page seldom counts anything but
the month running now. In ``hotline worker``, and in ``hotline serve`` when there is no worker.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.core.clock import utcnow
from bot.core.concurrency import finish_in_thread
from bot.core.metrics import JOBS
from bot.stats.rollup import year_counts

log = logging.getLogger(__name__)

ROLLUP_SECONDS = 600.0
MAX_AGE = timedelta(days=1)


def refresh(engine: Engine, *, max_age: timedelta = MAX_AGE) -> list[str]:
    """Count again what changed in this year and the last; the months counted (2026-03, …)."""
    now = utcnow()
    done: list[str] = []
    with Session(engine) as session:
        for year in (now.year - 1, now.year):
            found = year_counts(session, year, now=now, max_age=max_age)
            done.extend(f"{year:04d}-{m:02d}" for m in found.counted)
            session.rollback()  # end the read before the next year's
    return done


async def rollup_forever(engine: Engine, *, interval: float = ROLLUP_SECONDS) -> None:
    """The loop: refresh at start, then every ``interval`` seconds; survives errors."""
    while True:
        try:
            months = await finish_in_thread(refresh, engine)
        except Exception:  # the database is away: the next round tries again
            JOBS.labels("stats-rollup", "error").inc()
            log.exception("statistics roll-up failed; retrying in %s s", interval)
        else:
            JOBS.labels("stats-rollup", "ok").inc()
            if months:
                log.info("statistics roll-up: %d months counted", len(months))
        await asyncio.sleep(interval)
