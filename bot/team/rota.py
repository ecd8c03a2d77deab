"""The on-call rota: shifts with a primary, an optional backup and an optional supervisor.

Rules: a shift ends after it starts and lasts at most ``MAX_SHIFT``; its times carry a time
zone (stored in UTC); everyone on it is an active member of the team; the backup is not the
primary; the supervisor is a supervisor or an admin. Who is on call now is ``bot.team.oncall``.

Functions work in the caller's session, never commit, and raise ``InvalidShift`` (naming the
field) for a broken rule.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from bot.governance import audit
from bot.models import Operator, Shift
from bot.team.roles import SUPERVISORS

log = logging.getLogger(__name__)

MAX_SHIFT = timedelta(days=7)


class InvalidShift(ValueError):
    """A shift breaks a rule of the rota; ``field`` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class PlannedShift:
    """A shift on the rota, with its people by username."""

    id: int
    starts_at: datetime
    ends_at: datetime
    primary: str
    backup: str | None
    supervisor: str | None


def check_times(starts_at: datetime, ends_at: datetime) -> tuple[datetime, datetime]:
    """The shift's start and end in UTC, when they follow the rules; else InvalidShift."""
    for field, at in (("starts_at", starts_at), ("ends_at", ends_at)):
        if at.tzinfo is None or at.utcoffset() is None:
            raise InvalidShift(field, f"{field} needs a time zone")
    starts, ends = starts_at.astimezone(UTC), ends_at.astimezone(UTC)
    if ends <= starts:
        raise InvalidShift("ends_at", "a shift ends after it starts")
    if ends - starts > MAX_SHIFT:
        raise InvalidShift("ends_at", f"a shift lasts at most {MAX_SHIFT.days} days")
    return starts, ends


def on_rota(session: Session, username: str | None, position: str) -> Operator | None:
    """The active operator named for ``position`` (primary, backup, supervisor); None for no
    one; InvalidShift when no active operator has the name, or a supervisor is not one."""
    if username is None:
        return None
    operator = session.exec(
        select(Operator).where(col(Operator.username) == username.strip().lower())
    ).first()
    if operator is None or not operator.active:
        raise InvalidShift(position, f"{position}: no active operator {username!r}")
    if position == "supervisor" and operator.role not in SUPERVISORS:
        raise InvalidShift(position, f"{operator.username} is not a supervisor or admin")
    return operator


def add_shift(
    session: Session,
    *,
    starts_at: datetime,
    ends_at: datetime,
    primary: str,
    backup: str | None = None,
    supervisor: str | None = None,
    actor: str,
) -> PlannedShift:
    """Add a shift (people by username) and audit it; InvalidShift; the caller commits."""
    starts, ends = check_times(starts_at, ends_at)
    first = on_rota(session, primary, "primary")
    second = on_rota(session, backup, "backup")
    assert first is not None and first.id is not None
    if second is not None and second.id == first.id:
        raise InvalidShift("backup", "the backup must not be the primary")
    boss = on_rota(session, supervisor, "supervisor")
    shift = Shift(
        starts_at=starts,
        ends_at=ends,
        primary_id=first.id,
        backup_id=second.id if second else None,
        supervisor_id=boss.id if boss else None,
    )
    session.add(shift)
    session.flush()
    assert shift.id is not None
    audit.record(
        session,
        actor=actor,
        action="add_shift",
        reason=f"shift {shift.id}: {starts.isoformat()} to {ends.isoformat()}",
    )
    log.info("shift %s added by %s", shift.id, actor)
    return PlannedShift(
        id=shift.id,
        starts_at=starts,
        ends_at=ends,
        primary=first.username,
        backup=second.username if second else None,
        supervisor=boss.username if boss else None,
    )
