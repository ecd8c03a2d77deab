"""Figures about the service, in full for supervisors: how fast cases were acknowledged and
triaged against their targets, escalations, rota gaps, referrals and failed deliveries.

Times to acknowledge and to triage come from the months' counts (``bot.stats.rollup``), in a
ladder of buckets (``bot.stats.timing``); the rest is counted from its table (indexed by time).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from bot.models import (
    Escalation,
    Operator,
    OutboundMessage,
    Referral,
    Service,
    Shift,
)
from bot.stats.periods import Period
from bot.stats.rollup import YearCounts, year_counts
from bot.stats.timing import LADDER, median_of
from bot.team.rota import as_utc
from bot.team.week import gaps

TARGETS = {
    "P1": timedelta(minutes=10),
    "P2": timedelta(hours=24),
    "P3": timedelta(hours=72),
    "P4": timedelta(days=7),
}
"""Time to acknowledge and to triage, by priority (../shared/DESIGN.md §8)."""
PRIORITIES = tuple(TARGETS)


@dataclass(frozen=True)
class Timing:
    """How many cases reached a step, how many within target, and the median time."""

    reached: int
    within: int
    median_seconds: float | None

    @property
    def within_rate(self) -> float | None:
        return self.within / self.reached if self.reached else None


@dataclass(frozen=True)
class PriorityFigures:
    """One priority's cases of the period and their times."""

    priority: str
    target: timedelta
    cases: int
    acknowledged: Timing
    triaged: Timing


@dataclass(frozen=True)
class Coverage:
    """The rota over the period (up to now): shifts, and stretches with no active primary."""

    shifts: int
    gaps: int
    gap_hours: float


@dataclass(frozen=True)
class ServiceFigures:
    """Everything a supervisor sees about how the service ran in the period."""

    period: Period
    priorities: tuple[PriorityFigures, ...]
    escalations: tuple[tuple[int, int, int], ...]
    """(level, alerts, acknowledged at that level)."""
    coverage: Coverage
    referrals: tuple[tuple[str, dict[str, int]], ...]
    """(service type, {outcome: count})."""
    deliveries: tuple[tuple[str, int, int], ...]
    """(channel, messages, failed for good or unknown)."""


def _timings(counts: YearCounts, period: Period) -> tuple[PriorityFigures, ...]:
    cases, buckets = counts.timings(period.months())
    found = []
    for priority in PRIORITIES:
        target = TARGETS[priority].total_seconds()
        timing = {}
        for name in ("ack", "triage"):
            per = buckets[name].get(priority, {})
            inside = sum(n for i, n in per.items() if LADDER[i] <= target)
            timing[name] = Timing(sum(per.values()), inside, median_of(per))
        found.append(
            PriorityFigures(
                priority,
                TARGETS[priority],
                cases.get(priority, 0),
                timing["ack"],
                timing["triage"],
            )
        )
    return tuple(found)


def _escalations(
    session: Session, start: datetime, end: datetime
) -> tuple[tuple[int, int, int], ...]:
    acked = func.count(col(Escalation.acknowledged_at))
    rows = session.execute(
        sa_select(col(Escalation.level), func.count(), acked)
        .where(col(Escalation.notified_at) >= start, col(Escalation.notified_at) < end)
        .group_by(col(Escalation.level))
        .order_by(col(Escalation.level))
    ).all()
    found = {int(level): (int(n), int(a)) for level, n, a in rows}
    return tuple((level, *found.get(level, (0, 0))) for level in sorted({0, 1, 2, *found}))


def _coverage(session: Session, start: datetime, end: datetime) -> Coverage:
    rows = session.execute(
        sa_select(col(Shift.starts_at), col(Shift.ends_at), col(Operator.active))
        .join(Operator, col(Operator.id) == col(Shift.primary_id))
        .where(col(Shift.starts_at) < end, col(Shift.ends_at) > start)
    ).all()
    covered = [(as_utc(a), as_utc(b)) for a, b, active in rows if active]
    holes = gaps(covered, start, end) if start < end else []
    hours = sum((g.ends_at - g.starts_at).total_seconds() for g in holes) / 3600
    return Coverage(len(rows), len(holes), round(hours, 1))


def _referrals(
    session: Session, start: datetime, end: datetime
) -> tuple[tuple[str, dict[str, int]], ...]:
    outcome = case(
        (col(Referral.status) == "done", func.coalesce(col(Referral.outcome), "successful")),
        else_=col(Referral.status),
    )
    rows = session.execute(
        sa_select(col(Service.service_type), outcome, func.count())
        .join(Service, col(Service.id) == col(Referral.service_id))
        .where(col(Referral.created_at) >= start, col(Referral.created_at) < end)
        .group_by(col(Service.service_type), outcome)
    ).all()
    found: dict[str, dict[str, int]] = {}
    for kind, result, n in rows:
        found.setdefault(str(kind), {})[str(result)] = int(n)
    return tuple(sorted(found.items()))


def _deliveries(
    session: Session, start: datetime, end: datetime
) -> tuple[tuple[str, int, int], ...]:
    failed = func.sum(case((col(OutboundMessage.status).in_(("failed", "unknown")), 1), else_=0))
    rows = session.execute(
        sa_select(col(OutboundMessage.channel), func.count(), failed)
        .where(col(OutboundMessage.created_at) >= start, col(OutboundMessage.created_at) < end)
        .group_by(col(OutboundMessage.channel))
        .order_by(col(OutboundMessage.channel))
    ).all()
    return tuple((str(c), int(n), int(f or 0)) for c, n, f in rows)


def service_figures(
    session: Session, period: Period, *, now: datetime, counts: YearCounts | None = None
) -> ServiceFigures:
    """The period's service figures (up to ``now`` for the rota's gaps; ``counts``: the
    period's year, if already read)."""
    start, end = period.bounds()
    return ServiceFigures(
        period,
        _timings(counts or year_counts(session, period.year, now=now), period),
        _escalations(session, start, end),
        _coverage(session, start, min(end, max(start, as_utc(now)))),
        _referrals(session, start, end),
        _deliveries(session, start, end),
    )
