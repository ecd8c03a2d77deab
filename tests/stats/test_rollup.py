"""The months' roll-up: a year is counted once, then only the months whose cases changed; what
it gives is always what counting the cases gives (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.models import Case, StatsMonth
from bot.stats import rollup
from bot.stats.rollup import count, year_counts
from tests.stats.helpers import APRIL, JULY, MARCH, add_cases

NOW = datetime(2026, 12, 6, 9, tzinfo=UTC)


def counted(engine: Engine, **kw: object) -> rollup.YearCounts:
    with Session(engine) as session:
        return year_counts(session, 2026, now=NOW, **kw)  # type: ignore[arg-type]


def from_cases(engine: Engine) -> list[rollup.Row]:
    with Session(engine) as session:
        return sorted(count(session, 2026, 1, 12))


def fill(engine: Engine) -> None:
    add_cases(engine, 14, at=MARCH, area="cd-kwilu", exploitation_type="forced_labour")
    add_cases(engine, 3, at=MARCH, area="gn-conakry", minor=True, priority="P1")
    add_cases(engine, 25, at=APRIL, channel="sms", lang="ln", minor=False)
    add_cases(engine, 11, at=JULY, kind="screening", acknowledged_at=JULY + timedelta(minutes=4))


def test_a_year_is_counted_once_then_read_as_kept(engine: Engine) -> None:
    fill(engine)
    first = counted(engine)
    assert first.counted == (3, 4, 7)
    assert sorted(first.rows) == from_cases(engine)
    again = counted(engine)
    assert again.counted == ()  # nothing changed: nothing counted
    assert sorted(again.rows) == sorted(first.rows)
    groups = again.case_groups()
    assert (3, "gn-conakry", 3) in groups["area"]
    assert (4, None, False, 25) in groups["type"]  # no type, an adult
    assert (7, "screening", 11) in groups["kind"]
    cases, buckets = again.timings([7])
    assert cases == {"P3": 11}
    assert buckets["ack"] == {"P3": {2: 11}}  # 4 minutes: the 5-minute bucket


def test_a_changed_case_makes_its_month_counted_again(engine: Engine) -> None:
    fill(engine)
    counted(engine)
    with Session(engine) as session:  # a triage moves one case; updated_at is not named
        one = session.exec(select(Case).where(col(Case.area) == "gn-conakry")).first()
        assert one is not None
        session.execute(update(Case).where(col(Case.id) == one.id).values(area="cd-kwilu"))
        session.commit()
    after = counted(engine)
    assert after.counted == (3,)
    assert sorted(after.rows) == from_cases(engine)
    assert (3, "gn-conakry", 2) in after.case_groups()["area"]


def test_new_and_removed_cases_are_seen(engine: Engine) -> None:
    fill(engine)
    counted(engine)
    add_cases(engine, 2, at=APRIL, channel="sms")  # same updated_at as April's others
    assert counted(engine).counted == (4,)
    with Session(engine) as session:
        session.execute(delete(Case).where(col(Case.created_at) >= JULY))
        session.commit()
    gone = counted(engine)
    assert gone.counted == ()
    assert not [r for r in gone.rows if r[0] == 7]
    with Session(engine) as session:
        months = session.exec(select(StatsMonth.month)).all()
    assert sorted(months) == ["2026-03", "2026-04"]
    assert sorted(gone.rows) == from_cases(engine)


def test_another_layout_or_an_old_count_is_counted_again(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(engine)
    counted(engine)
    assert counted(engine, max_age=timedelta(days=1)).counted == ()
    with Session(engine) as session:
        session.execute(update(StatsMonth).values(counted_at=NOW - timedelta(days=2)))
        session.commit()
    assert counted(engine).counted == ()  # pages do not mind the age
    assert counted(engine, max_age=timedelta(days=1)).counted == (3, 4, 7)  # the job does
    monkeypatch.setattr(rollup, "LAYOUT", rollup.LAYOUT + 1)
    assert counted(engine).counted == (3, 4, 7)


def test_a_count_that_cannot_be_kept_is_still_given(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(engine)
    monkeypatch.setattr(rollup, "_keep", lambda *a, **k: False)  # another count was writing
    found = counted(engine)
    assert sorted(found.rows) == from_cases(engine)
    with Session(engine) as session:
        assert session.exec(select(StatsMonth)).all() == []
