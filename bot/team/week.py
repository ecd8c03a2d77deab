"""The rota as a week: each day's shifts and the gaps when no active primary is on call.

Weeks run Monday to Monday in UTC (the times the rota stores). A gap is a stretch of the week
that no shift covers with an active primary: an alert raised then would page no one, so the
team web flags it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import Session, col, select

from bot.models import Operator, Shift
from bot.team.rota import PlannedShift, as_utc, planned

WEEK = timedelta(days=7)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Gap:
    """A stretch with no active primary on call."""

    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class Day:
    """One day of the week: the shifts touching it and its gaps (clipped to the day)."""

    day: date
    shifts: tuple[PlannedShift, ...]
    gaps: tuple[Gap, ...]


@dataclass(frozen=True)
class Week:
    """Seven days from a Monday, and the Mondays before and after."""

    monday: date
    days: tuple[Day, ...]
    gaps: tuple[Gap, ...]

    @property
    def previous(self) -> date:
        """The Monday before."""
        return self.monday - WEEK

    @property
    def next(self) -> date:
        """The Monday after."""
        return self.monday + WEEK


def monday_of(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def midnight(day: date) -> datetime:
    """The start of ``day`` in UTC."""
    return datetime.combine(day, time(), tzinfo=UTC)


def gaps(covered: list[tuple[datetime, datetime]], start: datetime, end: datetime) -> list[Gap]:
    """The stretches of [start, end) outside every covered (start, end) interval."""
    found: list[Gap] = []
    at = start
    for begins, ends in sorted(covered):
        if begins > at:
            found.append(Gap(at, min(begins, end)))
        at = max(at, ends)
        if at >= end:
            break
    if at < end:
        found.append(Gap(at, end))
    return [g for g in found if g.starts_at < g.ends_at]


def rota_week(session: Session, day: date) -> Week:
    """The week holding ``day``: its shifts by day (by start time) and its gaps."""
    monday = monday_of(day)
    start, end = midnight(monday), midnight(monday + WEEK)
    shifts = session.exec(
        select(Shift)
        .where(col(Shift.starts_at) < end, col(Shift.ends_at) > start)
        .order_by(col(Shift.starts_at), col(Shift.id))
    ).all()
    active = {
        o.id for o in session.exec(select(Operator).where(col(Operator.active).is_(True))).all()
    }
    shown = [planned(session, s) for s in shifts]
    covered = [(as_utc(s.starts_at), as_utc(s.ends_at)) for s in shifts if s.primary_id in active]
    week_gaps = gaps(covered, start, end)
    days = []
    for offset in range(7):
        first = midnight(monday + offset * DAY)
        last = first + DAY
        days.append(
            Day(
                day=monday + offset * DAY,
                shifts=tuple(s for s in shown if s.starts_at < last and s.ends_at > first),
                gaps=tuple(
                    Gap(max(g.starts_at, first), min(g.ends_at, last))
                    for g in week_gaps
                    if g.starts_at < last and g.ends_at > first
                ),
            )
        )
    return Week(monday=monday, days=tuple(days), gaps=tuple(week_gaps))
