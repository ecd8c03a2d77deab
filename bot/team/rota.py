"""The on-call rota: shifts with a primary, an optional backup and an optional supervisor.

Rules: a shift ends after it starts and lasts at most ``MAX_SHIFT``; its times carry a time
zone (stored in UTC); everyone on it is an active member of the team; the backup is not the
primary; the supervisor is a supervisor or an admin. Who is on call now is ``bot.team.oncall``.

Functions work in the caller's session, never commit, and raise ``InvalidShift`` (naming the
field) for a broken rule, ``NoSuchShift`` for an unknown id. Every change is audited.
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


class NoSuchShift(LookupError):
    """No shift has this id."""

    def __init__(self, shift_id: int) -> None:
        self.shift_id = shift_id
        super().__init__(f"no shift {shift_id}")


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


def people(
    session: Session, primary: str, backup: str | None, supervisor: str | None
) -> tuple[Operator, Operator | None, Operator | None]:
    """The shift's primary, backup and supervisor, checked (InvalidShift naming the position)."""
    first = on_rota(session, primary, "primary")
    second = on_rota(session, backup, "backup")
    assert first is not None and first.id is not None
    if second is not None and second.id == first.id:
        raise InvalidShift("backup", "the backup must not be the primary")
    return first, second, on_rota(session, supervisor, "supervisor")


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
    first, second, boss = people(session, primary, backup, supervisor)
    assert first.id is not None
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


def get_shift(session: Session, shift_id: int) -> Shift:
    """The shift with this id; else NoSuchShift."""
    shift = session.get(Shift, shift_id)
    if shift is None:
        raise NoSuchShift(shift_id)
    return shift


def planned(session: Session, shift: Shift) -> PlannedShift:
    """A stored shift with its people by username."""

    def name(operator_id: int | None) -> str | None:
        operator = session.get(Operator, operator_id) if operator_id is not None else None
        return operator.username if operator is not None else None

    assert shift.id is not None
    return PlannedShift(
        id=shift.id,
        starts_at=as_utc(shift.starts_at),
        ends_at=as_utc(shift.ends_at),
        primary=name(shift.primary_id) or "",
        backup=name(shift.backup_id),
        supervisor=name(shift.supervisor_id),
    )


def as_utc(at: datetime) -> datetime:
    """A stored time in UTC (SQLite gives it back without its zone)."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def change_shift(
    session: Session,
    shift: Shift,
    *,
    starts_at: datetime,
    ends_at: datetime,
    primary: str,
    backup: str | None = None,
    supervisor: str | None = None,
    actor: str,
) -> PlannedShift:
    """Replace a shift's times and people (the rules of ``add_shift``); audited when anything
    changed. InvalidShift; the caller commits."""
    starts, ends = check_times(starts_at, ends_at)
    first, second, boss = people(session, primary, backup, supervisor)
    assert first.id is not None
    before = planned(session, shift)
    shift.starts_at, shift.ends_at = starts, ends
    shift.primary_id = first.id
    shift.backup_id = second.id if second else None
    shift.supervisor_id = boss.id if boss else None
    after = planned(session, shift)
    if after != before:
        session.add(shift)
        audit.record(
            session,
            actor=actor,
            action="change_shift",
            reason=f"shift {shift.id}: {starts.isoformat()} to {ends.isoformat()}",
        )
        log.info("shift %s changed by %s", shift.id, actor)
    return after


def remove_shift(session: Session, shift: Shift, *, actor: str) -> None:
    """Take a shift off the rota; audited with its times. The caller commits."""
    removed = planned(session, shift)
    session.delete(shift)
    audit.record(
        session,
        actor=actor,
        action="remove_shift",
        reason=(
            f"shift {removed.id}: {removed.starts_at.isoformat()} to {removed.ends_at.isoformat()}"
        ),
    )
    log.info("shift %s removed by %s", removed.id, actor)
