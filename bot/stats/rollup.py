"""Each month's case counts, kept in ``stats_counts`` so that a year's figures read a few hundred
rows instead of counting its cases (a year of 318,000 cases took 3-10 s to count).

A month is counted again when it is not kept, was counted by another ``LAYOUT``, or its cases
changed: their number or their latest ``updated_at`` differs from what was kept (every change
to a case bumps ``updated_at``; ``bot.models.case``). That check reads one index
(``ix_cases_created_updated``) for the whole year, before anything is counted, so a change
made while a month is being counted makes it counted again the next time, never kept stale.
Usually only the month running now is counted; ``bot.jobs.stats`` keeps the rest ready.

The counts are raw: what is read from here goes through ``bot.stats.suppression`` like any
other figure (``bot.stats.cases``, ``bot.stats.service``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, extract, func, insert, text, tuple_
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col

from bot.core.clock import utcnow
from bot.models import Case, CaseEvent, StatsCount, StatsMonth
from bot.stats.periods import Period, month_node
from bot.stats.timing import bucket, seconds_between
from bot.team.rota import as_utc

log = logging.getLogger(__name__)

LAYOUT = 1
"""What the kept rows mean (the groupings below, ``LADDER``): change it when they change."""

CASE_SETS: dict[str, tuple[Any, ...]] = {
    "area": (col(Case.area),),
    "type": (col(Case.exploitation_type), col(Case.minor)),
    "kind": (col(Case.kind),),
    "channel": (col(Case.channel),),
    "language": (col(Case.lang),),
}
"""What cases are counted by (each per month)."""
TIMINGS = ("priority", "ack", "triage")
"""Cases per priority; time to acknowledge and to triage, in ``LADDER`` buckets, per priority."""

Row = tuple[int, str, str, str, int]
"""(month 1-12, grouping, a, b, cases): a and b are the grouping's values, "" for none."""


def _utc(at: datetime | None) -> datetime | None:
    return None if at is None else as_utc(at)


def _bounds(year: int, first: int = 1, last: int = 12) -> tuple[datetime, datetime]:
    """[start, end) of months ``first``..``last`` of ``year``."""
    return Period(year, "month", first).bounds()[0], Period(year, "month", last).bounds()[1]


def _value(value: object) -> str:
    """A counted value as kept: text, "" for none, "1"/"0" for yes/no."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


@dataclass(frozen=True)
class Seen:
    """A month's cases as the check saw them: how many, and their latest change."""

    cases: int
    newest: datetime | None


def _month(at: Any) -> ColumnElement[int]:
    return extract("month", at)


def seen(session: Session, year: int) -> dict[int, Seen]:
    """Each month of ``year`` that has cases: how many and their latest ``updated_at``."""
    start, end = _bounds(year)
    month = _month(col(Case.created_at))
    rows = session.execute(
        sa_select(month, func.count(), func.max(col(Case.updated_at)))
        .where(col(Case.created_at) >= start, col(Case.created_at) < end)
        .group_by(month)
    ).all()
    return {int(m): Seen(int(n), _utc(newest)) for m, n, newest in rows}


def _case_rows(session: Session, start: datetime, end: datetime) -> list[Row]:
    """Every ``CASE_SETS`` count of the cases made in [start, end), per month.

    PostgreSQL counts them all in one pass (``GROUPING SETS``); SQLite, one query each."""
    month = _month(col(Case.created_at))
    within = (col(Case.created_at) >= start, col(Case.created_at) < end)
    found: list[Row] = []

    def add(name: str, m: object, values: Sequence[object], n: object) -> None:
        a = _value(values[0])
        b = _value(values[1]) if len(values) > 1 else ""
        found.append((int(str(m)), name, a, b, int(str(n))))

    if session.get_bind().dialect.name != "postgresql":
        for name, columns in CASE_SETS.items():
            statement = sa_select(month, *columns, func.count()).where(*within)
            for m, *values, n in session.execute(statement.group_by(month, *columns)).all():
                add(name, m, values, n)
        return found
    singles = [columns[0] for columns in CASE_SETS.values()]  # one telltale column per set
    everything = [c for columns in CASE_SETS.values() for c in columns]
    sets = func.grouping_sets(*(tuple_(month, *columns) for columns in CASE_SETS.values()))
    statement = (
        sa_select(month, *everything, func.grouping(*singles), func.count())
        .where(*within)
        .group_by(sets)
    )
    # its sorts fit in memory instead of spilling to disk (3 s instead of 5 s for 320,000 cases)
    session.execute(text("SET LOCAL work_mem = '64MB'"))
    width = len(singles)
    which = {  # GROUPING(): a 1 bit for each telltale column left out of the row's set
        (2**width - 1) ^ (1 << (width - 1 - i)): name for i, name in enumerate(CASE_SETS)
    }
    offsets, at = {}, 1
    for name, columns in CASE_SETS.items():
        offsets[name] = (at, at + len(columns))
        at += len(columns)
    for row in session.execute(statement).all():
        name = which[int(row[-2])]
        first, last = offsets[name]
        add(name, row[0], row[first:last], row[-1])
    return found


def _timing_rows(session: Session, start: datetime, end: datetime) -> list[Row]:
    """Cases per priority, and their times to acknowledge and to triage in ``LADDER``
    buckets, per month of the cases made in [start, end)."""
    dialect = session.get_bind().dialect.name
    month = _month(col(Case.created_at))
    within = and_(col(Case.created_at) >= start, col(Case.created_at) < end)
    found: list[Row] = [
        (int(str(m)), "priority", str(p), "", int(n))
        for m, p, n in session.execute(
            sa_select(month, col(Case.priority), func.count())
            .where(within)
            .group_by(month, col(Case.priority))
        ).all()
    ]
    ack = seconds_between(dialect, col(Case.acknowledged_at), col(Case.created_at))
    triage = seconds_between(dialect, col(CaseEvent.at), col(Case.created_at))
    acknowledged = sa_select(month, col(Case.priority)).where(
        within, col(Case.acknowledged_at).is_not(None)
    )
    triaged = (  # a case leaves "new" once: its triage
        sa_select(month, col(Case.priority))
        .join(CaseEvent, col(CaseEvent.case_id) == col(Case.id))
        .where(
            within,
            col(CaseEvent.kind) == "status",
            col(CaseEvent.from_status) == "new",
            col(CaseEvent.at) >= start,  # never before its case
        )
    )
    for name, seconds, statement in (("ack", ack, acknowledged), ("triage", triage, triaged)):
        index = bucket(seconds)
        rows = session.execute(
            statement.add_columns(index, func.count()).group_by(month, col(Case.priority), index)
        ).all()
        found.extend((int(str(m)), name, str(p), str(int(i)), int(n)) for m, p, i, n in rows)
    return found


def count(session: Session, year: int, first: int, last: int) -> list[Row]:
    """Count months ``first``..``last`` of ``year`` from the cases (the expensive part)."""
    start, end = _bounds(year, first, last)
    return _case_rows(session, start, end) + _timing_rows(session, start, end)


def _keep(
    session: Session,
    year: int,
    months: dict[int, Seen],
    gone: Iterable[int],
    rows: list[Row],
    now: datetime,
) -> bool:
    """Replace what is kept for ``months`` (and forget months with no cases left) in one
    transaction of a session of its own; False when another count got there first."""
    keys = [month_node(year, m) for m in (*months, *gone)]
    with Session(session.get_bind()) as writer:
        try:
            if writer.get_bind().dialect.name == "postgresql":
                writer.execute(text("SET LOCAL lock_timeout = '2s'"))
            writer.execute(delete(StatsCount).where(col(StatsCount.month).in_(keys)))
            writer.execute(delete(StatsMonth).where(col(StatsMonth.month).in_(keys)))
            if months:
                writer.execute(
                    insert(StatsMonth),
                    [
                        {
                            "month": month_node(year, m),
                            "layout": LAYOUT,
                            "cases": s.cases,
                            "newest": s.newest,
                            "counted_at": now,
                        }
                        for m, s in months.items()
                    ],
                )
            kept = [r for r in rows if r[0] in months]
            if kept:
                writer.execute(
                    insert(StatsCount),
                    [
                        {"month": month_node(year, m), "grouping": g, "a": a, "b": b, "cases": n}
                        for m, g, a, b, n in kept
                    ],
                )
            writer.commit()
        except (IntegrityError, OperationalError):
            writer.rollback()
            log.info("stats: months of %d not kept this time (another count was writing)", year)
            return False
    return True


@dataclass(frozen=True)
class YearCounts:
    """A year's counts per month, as kept (raw: suppress before showing)."""

    year: int
    rows: tuple[Row, ...]
    counted: tuple[int, ...]
    """The months counted from the cases for this answer (the rest were read as kept)."""

    def case_groups(self) -> dict[str, list[tuple[Any, ...]]]:
        """For each of ``CASE_SETS``: (month, *its values, count); none is None, yes/no a bool."""
        found: dict[str, list[tuple[Any, ...]]] = {name: [] for name in CASE_SETS}
        for m, grouping, a, b, n in self.rows:
            if grouping == "type":
                minor = None if b == "" else b == "1"
                found[grouping].append((m, a or None, minor, n))
            elif grouping in found:
                found[grouping].append((m, a or None, n))
        return found

    def timings(
        self, months: Sequence[int]
    ) -> tuple[dict[str, int], dict[str, dict[str, dict[int, int]]]]:
        """Cases per priority, and bucket counts per step ("ack", "triage") and priority, over
        ``months``."""
        cases: dict[str, int] = {}
        buckets: dict[str, dict[str, dict[int, int]]] = {"ack": {}, "triage": {}}
        wanted = set(months)
        for m, grouping, a, b, n in self.rows:
            if m not in wanted:
                continue
            if grouping == "priority":
                cases[a] = cases.get(a, 0) + n
            elif grouping in buckets:
                per = buckets[grouping].setdefault(a, {})
                per[int(b)] = per.get(int(b), 0) + n
        return cases, buckets


def year_counts(
    session: Session, year: int, *, now: datetime | None = None, max_age: timedelta | None = None
) -> YearCounts:
    """The year's counts: kept months as kept, the others counted now (and kept).

    ``max_age``: also count again months counted longer ago than that (``bot.jobs.stats``)."""
    now = now or utcnow()
    found = seen(session, year)
    first, last = month_node(year, 1), month_node(year, 12)
    kept = {
        row.month: row
        for row in session.execute(
            sa_select(StatsMonth).where(
                col(StatsMonth.month) >= first, col(StatsMonth.month) <= last
            )
        ).scalars()
    }

    def fresh(m: int, s: Seen) -> bool:
        row = kept.get(month_node(year, m))
        return (
            row is not None
            and row.layout == LAYOUT
            and row.cases == s.cases
            and _utc(row.newest) == s.newest
            and (max_age is None or now - (_utc(row.counted_at) or now) <= max_age)
        )

    stale = {m: s for m, s in found.items() if not fresh(m, s)}
    gone = [int(key[5:]) for key in kept if int(key[5:]) not in found]
    rows: list[Row] = []
    if stale:
        counted = count(session, year, min(stale), max(stale))
        rows = [r for r in counted if r[0] in stale]
    if stale or gone:
        _keep(session, year, stale, gone, rows, now)
    ready = [month_node(year, m) for m in found if m not in stale]
    if ready:
        rows.extend(
            (int(c.month[5:]), c.grouping, c.a, c.b, c.cases)
            for c in session.execute(
                sa_select(StatsCount).where(col(StatsCount.month).in_(ready))
            ).scalars()
        )
    return YearCounts(year, tuple(rows), tuple(sorted(stale)))


__all__ = ["LAYOUT", "YearCounts", "count", "seen", "year_counts"]
