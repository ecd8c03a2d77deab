"""The team and its rota over JSON: operators (admin) and on-call shifts (supervisor).

The rules live in ``bot.team.operators`` and ``bot.team.rota`` (shared with the team web and
``hotline users add``); these routes map their errors: a bad field 422, a taken username 409,
an unknown operator 404, removing the last active admin 409. An operator's phone (for on-call
alerts) is never returned.
"""

from __future__ import annotations

import logging
from datetime import datetime

from fastapi import APIRouter, HTTPException
from pydantic import AwareDatetime, BaseModel, Field

from bot.api.auth import Admin, Supervisor
from bot.api.request import DbSession, Username
from bot.auth.passwords import MAX_PASSWORD
from bot.core.languages import Language
from bot.deps import CipherDep
from bot.models import Operator
from bot.team import operators as team
from bot.team import rota
from bot.team.roles import Role

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api", tags=["team"])


# --- operators ------------------------------------------------------------------------------


class OperatorIn(BaseModel):
    """A new member of the team."""

    username: str = Field(min_length=2, max_length=64)
    name: str = Field(min_length=1, max_length=team.MAX_NAME)
    role: Role
    password: str = Field(min_length=1, max_length=MAX_PASSWORD)
    lang: Language = "en"
    phone: str | None = Field(default=None, max_length=32)


class OperatorChange(BaseModel):
    """What an admin changes about an operator (only the fields given)."""

    active: bool | None = None
    role: Role | None = None
    password: str | None = Field(default=None, min_length=1, max_length=MAX_PASSWORD)


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


@router.get("/operators")
def list_operators(me: Supervisor, db: DbSession) -> list[OperatorOut]:
    """The team, for building the rota."""
    return [_out(o) for o in team.list_operators(db)]


@router.post("/operators", status_code=201)
def create_operator(body: OperatorIn, me: Admin, db: DbSession, cipher: CipherDep) -> OperatorOut:
    """Add an operator, supervisor or admin with a password."""
    try:
        operator = team.add_operator(
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
    except team.UsernameTaken as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    except team.InvalidOperator as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    db.commit()
    db.refresh(operator)
    return _out(operator)


@router.patch("/operators/{username}")
def change_operator(
    username: Username, body: OperatorChange, me: Admin, db: DbSession
) -> OperatorOut:
    """Deactivate (revokes their tokens at once), change role, or set a new password."""
    try:
        operator = team.find_operator(db, username)
        changes = team.change_operator(
            db,
            operator,
            actor=me.username,
            active=body.active,
            role=body.role,
            password=body.password,
        )
    except team.NoSuchOperator as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    except team.InvalidOperator as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    except team.LastAdmin as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    if changes:
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


@router.post("/shifts", status_code=201)
def create_shift(body: ShiftIn, me: Supervisor, db: DbSession) -> ShiftOut:
    """Add a shift: a primary, an optional backup and supervisor, by username."""
    try:
        shift = rota.add_shift(
            db,
            starts_at=body.starts_at,
            ends_at=body.ends_at,
            primary=body.primary,
            backup=body.backup,
            supervisor=body.supervisor,
            actor=me.username,
        )
    except rota.InvalidShift as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    db.commit()
    return ShiftOut(
        id=shift.id,
        starts_at=shift.starts_at,
        ends_at=shift.ends_at,
        primary=shift.primary,
        backup=shift.backup,
        supervisor=shift.supervisor,
    )
