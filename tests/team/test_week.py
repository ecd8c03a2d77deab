"""The rota as a week: shifts by day and the gaps when no active primary is on call."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, delete, select

from bot.models import Operator, Shift
from bot.team.rota import add_shift
from bot.team.week import Gap, gaps, monday_of, rota_week
from tests.api import seed_team

MONDAY = date(2027, 3, 1)
START = datetime(2027, 3, 1, tzinfo=UTC)


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """The test team with an empty rota."""
    seed_team(engine)
    with Session(engine) as session:
        session.exec(delete(Shift))
        session.commit()
        yield session


def at(hours: float) -> datetime:
    return START + timedelta(hours=hours)


def test_gaps_are_what_no_interval_covers() -> None:
    assert gaps([], at(0), at(10)) == [Gap(at(0), at(10))]
    assert gaps([(at(2), at(4)), (at(3), at(6)), (at(8), at(12))], at(0), at(10)) == [
        Gap(at(0), at(2)),
        Gap(at(6), at(8)),
    ]
    assert gaps([(at(-5), at(15))], at(0), at(10)) == []


def test_monday_of() -> None:
    assert monday_of(date(2027, 3, 7)) == MONDAY
    assert monday_of(MONDAY) == MONDAY


def test_a_week_of_shifts_by_day_with_its_gaps(db: Session) -> None:
    night = add_shift(db, starts_at=at(20), ends_at=at(32), primary="amani", actor="joseph")
    add_shift(db, starts_at=at(-48), ends_at=at(-40), primary="lerato", actor="joseph")
    add_shift(db, starts_at=at(7 * 24), ends_at=at(7 * 24 + 8), primary="lerato", actor="joseph")
    db.commit()
    week = rota_week(db, date(2027, 3, 3))
    assert (week.monday, week.previous, week.next) == (
        MONDAY,
        MONDAY - timedelta(days=7),
        MONDAY + timedelta(days=7),
    )
    assert [d.day.weekday() for d in week.days] == list(range(7))
    assert [s.id for s in week.days[0].shifts] == [night.id]
    assert [s.id for s in week.days[1].shifts] == [night.id]
    assert week.days[2].shifts == ()
    assert week.gaps == (Gap(at(0), at(20)), Gap(at(32), at(7 * 24)))
    assert week.days[0].gaps == (Gap(at(0), at(20)),)
    assert week.days[1].gaps == (Gap(at(32), at(48)),)
    assert week.days[3].gaps == (Gap(at(72), at(96)),)


def test_a_shift_whose_primary_left_is_a_gap(db: Session) -> None:
    add_shift(db, starts_at=at(0), ends_at=at(7 * 24), primary="amani", actor="joseph")
    db.commit()
    assert rota_week(db, MONDAY).gaps == ()
    amani = db.exec(select(Operator).where(col(Operator.username) == "amani")).one()
    amani.active = False
    db.add(amani)
    db.commit()
    assert rota_week(db, MONDAY).gaps == (Gap(at(0), at(7 * 24)),)
