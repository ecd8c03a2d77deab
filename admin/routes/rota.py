"""``/rota``: the on-call rota by week — who is on call now, each day's shifts, the gaps.

The whole team sees it; supervisors and admins add, change and remove shifts. Times are typed
and shown in UTC (the rota stores UTC; the hotline may span time zones). The rules are
``bot.team.rota``'s, the week and its gaps ``bot.team.week``'s; every change is audited there.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from admin import flash
from admin.deps import Staff, Supervisor
from admin.flash import N_
from admin.render import render
from bot.deps import DbSession, Now, SettingsDep
from bot.models import Shift
from bot.team import oncall, rota
from bot.team.operators import list_operators
from bot.team.roles import SUPERVISORS
from bot.team.week import monday_of, rota_week

log = logging.getLogger(__name__)
router = APIRouter(tags=["team web"])

ADDED = flash.register("rota.added", N_("Shift added."))
CHANGED = flash.register("rota.changed", N_("Shift changed."))
REMOVED = flash.register("rota.removed", N_("Shift removed."))

ShiftId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Name = Annotated[str, Form(max_length=64)]
When = Annotated[str, Form(max_length=32)]
FIELD_LABELS = {
    "starts_at": N_("Starts"),
    "ends_at": N_("Ends"),
    "primary": N_("Primary"),
    "backup": N_("Backup"),
    "supervisor": N_("Supervisor"),
}


def parse_day(text: str, today: date) -> date:
    """A ``YYYY-MM-DD`` from the query string; today for anything else."""
    try:
        return date.fromisoformat(text) if text else today
    except ValueError:
        return today


class UnreadableTime(rota.InvalidShift):
    """A time the form sent that is not one (the page says so in the reader's language)."""


def parse_time(text: str, field: str) -> datetime:
    """A form's ``YYYY-MM-DDTHH:MM`` (``datetime-local``) as UTC; UnreadableTime otherwise."""
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UnreadableTime(field, f"{field} is not a date and time") from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def local_input(at: datetime) -> str:
    """A UTC time as a ``datetime-local`` input's value."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


@router.get("/rota")
def rota_page(
    request: Request,
    me: Staff,
    db: DbSession,
    now: Now,
    week: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    """A week of the rota (this one by default), who is on call now, and the gaps."""
    shown = rota_week(db, parse_day(week, now.date()))
    return render(
        request,
        "rota.html",
        {
            "week": shown,
            "now": now,
            "on_call": oncall.on_call(db, now),
            "this_week": monday_of(now.date()),
            "may_change": me.role in SUPERVISORS,
        },
    )


def form_page(
    request: Request,
    db: DbSession,
    *,
    values: dict[str, str],
    shift_id: int | None,
    error: rota.InvalidShift | None = None,
    status: int = 200,
) -> Response:
    """The add or change form, with the active team to choose from."""
    team = [o for o in list_operators(db) if o.active]
    return render(
        request,
        "rota_form.html",
        {
            "values": values,
            "shift_id": shift_id,
            "team": team,
            "supervisors": [o for o in team if o.role in SUPERVISORS],
            "error": error,
            "error_field": FIELD_LABELS.get(error.field, "") if error else "",
            "error_unreadable": isinstance(error, UnreadableTime),
        },
        status=status,
    )


@router.get("/rota/new")
def new_shift(
    request: Request,
    me: Supervisor,
    db: DbSession,
    now: Now,
    day: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    """An empty shift form, starting on ``day`` at 08:00 UTC for 12 hours."""
    start = datetime.combine(parse_day(day, now.date()), datetime.min.time(), tzinfo=UTC)
    start += timedelta(hours=8)
    values = {
        "starts_at": local_input(start),
        "ends_at": local_input(start + timedelta(hours=12)),
        "primary": "",
        "backup": "",
        "supervisor": "",
    }
    return form_page(request, db, values=values, shift_id=None)


def found(db: DbSession, shift_id: int) -> Shift:
    """The shift, or 404."""
    try:
        return rota.get_shift(db, shift_id)
    except rota.NoSuchShift:
        raise HTTPException(status_code=404, detail="no such shift") from None


@router.get("/rota/{shift_id}")
def edit_shift(request: Request, me: Supervisor, db: DbSession, shift_id: ShiftId) -> Response:
    """A shift's form, filled in."""
    shift = rota.planned(db, found(db, shift_id))
    values = {
        "starts_at": local_input(shift.starts_at),
        "ends_at": local_input(shift.ends_at),
        "primary": shift.primary,
        "backup": shift.backup or "",
        "supervisor": shift.supervisor or "",
    }
    return form_page(request, db, values=values, shift_id=shift_id)


def back(settings: SettingsDep, key: str, at: datetime) -> Response:
    """To the week of the shift, with a message."""
    return flash.redirect(f"/rota?week={monday_of(at.date()).isoformat()}", settings, key)


def fields(starts_at: str, ends_at: str, primary: str, backup: str, supervisor: str) -> Any:
    """The form's fields for the rota service (times as UTC, blanks as nobody)."""
    return {
        "starts_at": parse_time(starts_at, "starts_at"),
        "ends_at": parse_time(ends_at, "ends_at"),
        "primary": primary,
        "backup": backup or None,
        "supervisor": supervisor or None,
    }


@router.post("/rota")
def create_shift(
    request: Request,
    me: Supervisor,
    db: DbSession,
    settings: SettingsDep,
    starts_at: When = "",
    ends_at: When = "",
    primary: Name = "",
    backup: Name = "",
    supervisor: Name = "",
) -> Response:
    """Add a shift (the form again, 422, naming what breaks a rule)."""
    typed = {
        "starts_at": starts_at,
        "ends_at": ends_at,
        "primary": primary,
        "backup": backup,
        "supervisor": supervisor,
    }
    try:
        shift = rota.add_shift(
            db, **fields(starts_at, ends_at, primary, backup, supervisor), actor=me.username
        )
    except rota.InvalidShift as exc:
        db.rollback()
        log.info("shift refused: %s", exc.field)
        return form_page(request, db, values=typed, shift_id=None, error=exc, status=422)
    db.commit()
    return back(settings, ADDED, shift.starts_at)


@router.post("/rota/{shift_id}")
def change_shift(
    request: Request,
    me: Supervisor,
    db: DbSession,
    settings: SettingsDep,
    shift_id: ShiftId,
    starts_at: When = "",
    ends_at: When = "",
    primary: Name = "",
    backup: Name = "",
    supervisor: Name = "",
) -> Response:
    """Change a shift's times or people."""
    stored = found(db, shift_id)
    typed = {
        "starts_at": starts_at,
        "ends_at": ends_at,
        "primary": primary,
        "backup": backup,
        "supervisor": supervisor,
    }
    try:
        shift = rota.change_shift(
            db,
            stored,
            **fields(starts_at, ends_at, primary, backup, supervisor),
            actor=me.username,
        )
    except rota.InvalidShift as exc:
        db.rollback()
        log.info("shift %s change refused: %s", shift_id, exc.field)
        return form_page(request, db, values=typed, shift_id=shift_id, error=exc, status=422)
    db.commit()
    return back(settings, CHANGED, shift.starts_at)


@router.post("/rota/{shift_id}/remove")
def remove_shift(
    me: Supervisor, db: DbSession, settings: SettingsDep, shift_id: ShiftId
) -> Response:
    """Take a shift off the rota (a shift already gone: back to the rota, nothing changes)."""
    try:
        shift = rota.get_shift(db, shift_id)
    except rota.NoSuchShift:
        return RedirectResponse("/rota", status_code=303)
    starts = rota.as_utc(shift.starts_at)
    rota.remove_shift(db, shift, actor=me.username)
    db.commit()
    return back(settings, REMOVED, starts)
