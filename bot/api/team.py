"""The hotline team and its rota: adding operators (admin) and on-call shifts (supervisor).

``add_operator`` is shared with ``hotline users add``. An operator's phone (for on-call
alerts) is stored encrypted and never returned by the API.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Literal

from fastapi import APIRouter, HTTPException
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from bot.api.auth import ROLES, SUPERVISORS, Admin, Supervisor, hash_password
from bot.api.request import DbSession
from bot.core.privacy import Cipher, normalise_phone
from bot.deps import CipherDep
from bot.governance import audit
from bot.models import Operator, Shift

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api", tags=["team"])

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
LANGS = ("en", "fr", "ln", "st")
MAX_SHIFT = timedelta(days=7)
Role = Literal["operator", "supervisor", "admin"]
Lang = Literal["en", "fr", "ln", "st"]


class UsernameTaken(ValueError):
    """Another operator has this username."""


def add_operator(
    session: Session,
    cipher: Cipher,
    *,
    username: str,
    role: str,
    display_name: str,
    password: str,
    lang: str = "en",
    phone: str | None = None,
    actor: str,
) -> Operator:
    """Add an operator (ValueError for a bad field, UsernameTaken); the caller commits."""
    username = username.strip().lower()
    display_name = display_name.strip()
    if not USERNAME.match(username):
        raise ValueError(
            "a username is 2-64 characters: lowercase letters, digits, '.', '_' or '-'"
        )
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if not display_name or len(display_name) > 120:
        raise ValueError("a name is 1-120 characters")
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}")
    stored_phone = None
    if phone is not None and phone.strip():
        number = normalise_phone(phone)
        if not 8 <= len(number) - 1 <= 15:
            raise ValueError("a phone number has 8 to 15 digits, with its country code")
        stored_phone = cipher.encrypt(number, "operator.phone")
    password_hash = hash_password(password)
    if session.exec(select(Operator.id).where(col(Operator.username) == username)).first():
        raise UsernameTaken(f"the username {username} is taken")
    operator = Operator(
        username=username,
        display_name=display_name,
        role=role,
        lang=lang,
        password_hash=password_hash,
        phone=stored_phone,
    )
    session.add(operator)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise UsernameTaken(f"the username {username} is taken") from None
    audit.record(session, actor=actor, action="add_operator", reason=f"{username} as {role}")
    log.info("operator %s added as %s by %s", username, role, actor)
    return operator


# --- operators ------------------------------------------------------------------------------


class OperatorIn(BaseModel):
    """A new member of the team."""

    username: str = Field(min_length=2, max_length=64)
    name: str = Field(min_length=1, max_length=120)
    role: Role
    password: str = Field(min_length=1, max_length=1024)
    lang: Lang = "en"
    phone: str | None = Field(default=None, max_length=32)


class OperatorChange(BaseModel):
    """What an admin changes about an operator (only the fields given)."""

    active: bool | None = None
    role: Role | None = None
    password: str | None = Field(default=None, min_length=1, max_length=1024)


class OperatorOut(BaseModel):
    """A member of the team, as the API shows one (no phone, no hash)."""

    id: int
    username: str
    name: str
    role: str
    lang: str
    active: bool
    has_phone: bool


def _out(operator: Operator) -> OperatorOut:
    assert operator.id is not None
    return OperatorOut(
        id=operator.id,
        username=operator.username,
        name=operator.display_name,
        role=operator.role,
        lang=operator.lang,
        active=operator.active,
        has_phone=operator.phone is not None,
    )


def _operator(db: Session, username: str) -> Operator:
    operator = db.exec(
        select(Operator).where(col(Operator.username) == username.strip().lower())
    ).first()
    if operator is None:
        raise HTTPException(status_code=404, detail=f"no operator {username!r}")
    return operator


@router.get("/operators")
def list_operators(me: Supervisor, db: DbSession) -> list[OperatorOut]:
    """The team, for building the rota."""
    return [_out(o) for o in db.exec(select(Operator).order_by(col(Operator.username))).all()]


@router.post("/operators", status_code=201)
def create_operator(body: OperatorIn, me: Admin, db: DbSession, cipher: CipherDep) -> OperatorOut:
    """Add an operator, supervisor or admin with a password."""
    try:
        operator = add_operator(
            db,
            cipher,
            username=body.username,
            role=body.role,
            display_name=body.name,
            password=body.password,
            lang=body.lang,
            phone=body.phone,
            actor=me.username,
        )
    except UsernameTaken as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    db.commit()
    db.refresh(operator)
    return _out(operator)


@router.patch("/operators/{username}")
def change_operator(username: str, body: OperatorChange, me: Admin, db: DbSession) -> OperatorOut:
    """Deactivate (revokes their tokens at once), change role, or set a new password."""
    operator = _operator(db, username)
    changes: list[str] = []
    if body.password is not None:
        try:
            operator.password_hash = hash_password(body.password)
        except ValueError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
        changes.append("password")
    if body.role is not None and body.role != operator.role:
        operator.role = body.role
        changes.append(f"role {body.role}")
    if body.active is not None and body.active != operator.active:
        operator.active = body.active
        changes.append("active" if body.active else "deactivated")
    if operator.role != "admin" or not operator.active:
        admins = db.exec(
            select(func.count())
            .select_from(Operator)
            .where(
                col(Operator.role) == "admin",
                col(Operator.active).is_(True),
                col(Operator.id) != operator.id,
            )
        ).one()
        if admins == 0:
            raise HTTPException(status_code=409, detail="the team needs one active admin")
    if changes:
        db.add(operator)
        audit.record(
            db,
            actor=me.username,
            action="change_operator",
            reason=f"{operator.username}: {', '.join(changes)}",
        )
        db.commit()
        db.refresh(operator)
    return _out(operator)


# --- shifts ---------------------------------------------------------------------------------


class ShiftIn(BaseModel):
    """Who is on call between two times."""

    starts_at: AwareDatetime
    ends_at: AwareDatetime
    primary: str = Field(min_length=1, max_length=64)
    backup: str | None = Field(default=None, max_length=64)
    supervisor: str | None = Field(default=None, max_length=64)


class ShiftOut(BaseModel):
    """A shift of the rota."""

    id: int
    starts_at: datetime
    ends_at: datetime
    primary: str
    backup: str | None
    supervisor: str | None


def _on_rota(db: Session, username: str | None, what: str) -> Operator | None:
    if username is None:
        return None
    operator = db.exec(
        select(Operator).where(col(Operator.username) == username.strip().lower())
    ).first()
    if operator is None or not operator.active:
        raise HTTPException(status_code=422, detail=f"{what}: no active operator {username!r}")
    return operator


@router.post("/shifts", status_code=201)
def create_shift(body: ShiftIn, me: Supervisor, db: DbSession) -> ShiftOut:
    """Add a shift: a primary, an optional backup and supervisor, by username."""
    starts, ends = body.starts_at.astimezone(UTC), body.ends_at.astimezone(UTC)
    if ends <= starts:
        raise HTTPException(status_code=422, detail="a shift ends after it starts")
    if ends - starts > MAX_SHIFT:
        raise HTTPException(status_code=422, detail="a shift lasts at most 7 days")
    primary = _on_rota(db, body.primary, "primary")
    backup = _on_rota(db, body.backup, "backup")
    supervisor = _on_rota(db, body.supervisor, "supervisor")
    assert primary is not None and primary.id is not None
    if backup is not None and backup.id == primary.id:
        raise HTTPException(status_code=422, detail="the backup must not be the primary")
    if supervisor is not None and supervisor.role not in SUPERVISORS:
        raise HTTPException(
            status_code=422, detail=f"{supervisor.username} is not a supervisor or admin"
        )
    shift = Shift(
        starts_at=starts,
        ends_at=ends,
        primary_id=primary.id,
        backup_id=backup.id if backup else None,
        supervisor_id=supervisor.id if supervisor else None,
    )
    db.add(shift)
    db.flush()
    assert shift.id is not None
    audit.record(
        db,
        actor=me.username,
        action="add_shift",
        reason=f"shift {shift.id}: {starts.isoformat()} to {ends.isoformat()}",
    )
    db.commit()
    return ShiftOut(
        id=shift.id,
        starts_at=starts,
        ends_at=ends,
        primary=primary.username,
        backup=backup.username if backup else None,
        supervisor=supervisor.username if supervisor else None,
    )
