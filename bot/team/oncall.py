"""Who is on call now, from the rota: a primary, a backup and a supervisor per shift."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from bot.models import Operator, Shift

LEVELS = ("primary", "backup", "supervisor")


@dataclass(frozen=True)
class OnCall:
    """The people to alert, by escalation level."""

    primary: Operator | None = None
    backup: Operator | None = None
    supervisor: Operator | None = None
    shift: Shift | None = None
    """The shift covering the moment asked about (its id and start bound the alert budget)."""

    def at_level(self, level: int) -> Operator | None:
        """Level 0 primary, 1 backup, 2 supervisor."""
        return (self.primary, self.backup, self.supervisor)[level]


def on_call(session: Session, now: datetime) -> OnCall:
    """The shift covering ``now`` (the latest started if shifts overlap); empty when none."""
    shift = session.exec(
        select(Shift)
        .where(col(Shift.starts_at) <= now, col(Shift.ends_at) > now)
        .order_by(col(Shift.starts_at).desc())
    ).first()
    if shift is None:
        return OnCall()

    def active(operator_id: int | None) -> Operator | None:
        operator = session.get(Operator, operator_id) if operator_id is not None else None
        return operator if operator is not None and operator.active else None

    return OnCall(
        active(shift.primary_id), active(shift.backup_id), active(shift.supervisor_id), shift
    )
