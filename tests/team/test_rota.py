"""Shifts on the rota: their length, time zones, and who may be on one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, timedelta, timezone

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.models import AuditEntry, Operator, Shift
from bot.team.oncall import on_call
from bot.team.rota import (
    MAX_SHIFT,
    InvalidShift,
    NoSuchShift,
    add_shift,
    change_shift,
    get_shift,
    planned,
    remove_shift,
)
from tests.api import seed_team
from tests.cases.helpers import T0

START = T0 + timedelta(days=2)


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session on a database with the test team (amani, lerato, joseph; ada the admin)."""
    seed_team(engine)
    with Session(engine) as session:
        yield session


def test_a_shift_is_stored_in_utc_audited_and_on_call(db: Session) -> None:
    kinshasa = timezone(timedelta(hours=1))
    shift = add_shift(
        db,
        starts_at=START.astimezone(kinshasa),
        ends_at=(START + timedelta(hours=12)).astimezone(kinshasa),
        primary=" Lerato ",
        backup="amani",
        supervisor="joseph",
        actor="joseph",
    )
    db.commit()
    assert (shift.primary, shift.backup, shift.supervisor) == ("lerato", "amani", "joseph")
    assert shift.starts_at == START and shift.starts_at.tzinfo is UTC
    now = on_call(db, START + timedelta(hours=1))
    assert now.primary is not None and now.primary.username == "lerato"
    assert now.supervisor is not None and now.supervisor.username == "joseph"
    entry = db.exec(select(AuditEntry).where(col(AuditEntry.action) == "add_shift")).one()
    assert (entry.actor, entry.reason) == (
        "joseph",
        f"shift {shift.id}: {START.isoformat()} to {(START + timedelta(hours=12)).isoformat()}",
    )


def test_only_a_primary_is_needed(db: Session) -> None:
    shift = add_shift(db, starts_at=START, ends_at=START + MAX_SHIFT, primary="amani", actor="ada")
    assert (shift.backup, shift.supervisor) == (None, None)


def deactivated(db: Session, username: str) -> str:
    operator = db.exec(select(Operator).where(col(Operator.username) == username)).one()
    operator.active = False
    db.add(operator)
    db.flush()
    return username


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"ends_at": START}, "ends_at", "a shift ends after it starts"),
        ({"ends_at": START + MAX_SHIFT + timedelta(seconds=1)}, "ends_at", "at most 7 days"),
        ({"starts_at": START.replace(tzinfo=None)}, "starts_at", "starts_at needs a time zone"),
        ({"primary": "ghost"}, "primary", "primary: no active operator 'ghost'"),
        ({"backup": "lerato"}, "backup", "the backup must not be the primary"),
        ({"supervisor": "amani"}, "supervisor", "amani is not a supervisor or admin"),
        ({"backup": "inactive"}, "backup", "backup: no active operator 'amani'"),
    ],
)
def test_a_broken_rule_names_its_field(
    db: Session, change: dict[str, object], field: str, message: str
) -> None:
    given: dict[str, object] = {
        "starts_at": START,
        "ends_at": START + timedelta(hours=8),
        "primary": "lerato",
        "backup": "amani",
        "supervisor": "joseph",
        **change,
    }
    if given["backup"] == "inactive":
        given["backup"] = deactivated(db, "amani")
    with pytest.raises(InvalidShift, match=message) as refused:
        add_shift(db, actor="joseph", **given)  # type: ignore[arg-type]
    assert refused.value.field == field
    assert db.exec(select(Shift).where(col(Shift.starts_at) == START)).first() is None


def test_a_shift_is_changed_and_removed_with_an_audit(db: Session) -> None:
    shift = add_shift(
        db, starts_at=START, ends_at=START + timedelta(hours=8), primary="amani", actor="joseph"
    )
    stored = get_shift(db, shift.id)
    later = START + timedelta(hours=1)
    changed = change_shift(
        db,
        stored,
        starts_at=later,
        ends_at=later + timedelta(hours=8),
        primary="lerato",
        backup="amani",
        supervisor="joseph",
        actor="joseph",
    )
    db.commit()
    assert (changed.starts_at, changed.primary, changed.backup) == (later, "lerato", "amani")
    assert planned(db, get_shift(db, shift.id)) == changed
    with pytest.raises(InvalidShift, match="the backup must not be the primary"):
        change_shift(
            db,
            stored,
            starts_at=later,
            ends_at=later + timedelta(hours=1),
            primary="amani",
            backup="amani",
            actor="joseph",
        )
    db.rollback()
    remove_shift(db, get_shift(db, shift.id), actor="joseph")
    db.commit()
    with pytest.raises(NoSuchShift, match=f"no shift {shift.id}"):
        get_shift(db, shift.id)
    reasons = [
        (e.action, e.reason) for e in db.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all()
    ]
    window = f"{later.isoformat()} to {(later + timedelta(hours=8)).isoformat()}"
    assert reasons[1:] == [
        ("change_shift", f"shift {shift.id}: {window}"),
        ("remove_shift", f"shift {shift.id}: {window}"),
    ]


def test_an_unchanged_shift_is_not_audited(db: Session) -> None:
    shift = add_shift(
        db, starts_at=START, ends_at=START + timedelta(hours=8), primary="amani", actor="joseph"
    )
    change_shift(
        db,
        get_shift(db, shift.id),
        starts_at=START,
        ends_at=START + timedelta(hours=8),
        primary="amani",
        actor="joseph",
    )
    assert (
        db.exec(select(AuditEntry).where(col(AuditEntry.action) == "change_shift")).first() is None
    )
