"""The roll-up job: it counts this year's and last year's changed months, and survives a
database that is away."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.core.clock import utcnow
from bot.jobs import stats as job
from bot.models import StatsMonth
from tests.stats.helpers import add_cases


def test_refresh_counts_what_changed_then_nothing(engine: Engine) -> None:
    now = utcnow()
    last_year = now.replace(year=now.year - 1, month=5, day=3)
    add_cases(engine, 12, at=now)
    add_cases(engine, 4, at=last_year)
    months = job.refresh(engine)
    assert months == [f"{now.year - 1:04d}-05", f"{now.year:04d}-{now.month:02d}"]
    assert job.refresh(engine) == []
    add_cases(engine, 1, at=now)
    assert job.refresh(engine) == [f"{now.year:04d}-{now.month:02d}"]
    assert job.refresh(engine, max_age=timedelta(0)) == months  # the daily safety net
    with Session(engine) as session:
        assert len(session.exec(select(StatsMonth)).all()) == 2


def test_the_loop_survives_an_error(monkeypatch: pytest.MonkeyPatch, engine: Engine) -> None:
    calls: list[int] = []

    def broken(engine: Engine) -> list[str]:
        calls.append(1)
        raise RuntimeError("database away")

    monkeypatch.setattr(job, "refresh", broken)

    async def run() -> None:
        task = asyncio.create_task(job.rollup_forever(engine, interval=0.01))
        while len(calls) < 3:
            await asyncio.sleep(0.01)
        task.cancel()

    asyncio.run(run())
    assert len(calls) >= 3
