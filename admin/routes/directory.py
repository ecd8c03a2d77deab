"""``/directory``: the service directory — read by the whole team, kept by admins.

The list filters by area, type and active; an admin adds, edits, marks verified (a date) and
deactivates a service, imports a CSV (a bad file is refused whole, with an error per row) and
exports one (formula cells neutralised). The rules are ``bot.directory``'s (``manage``,
``validate``, ``csv_io``); every change is audited there.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, HTTPException, Path, Query, Request, UploadFile
from fastapi.responses import Response

from admin import flash
from admin.deps import Admin, Staff
from admin.flash import N_
from admin.render import render
from bot.deps import DbSession, EngineDep, Now, SettingsDep
from bot.directory import manage
from bot.directory.csv_io import import_text, write_csv
from bot.directory.validate import (
    FIELDS,
    GENDERS,
    SERVICE_TYPES,
    STATUSES,
    InvalidService,
    ServiceFields,
)
from bot.http.limits import IMPORT_LIMIT

log = logging.getLogger(__name__)
router = APIRouter(tags=["team web"])

ADDED = flash.register("directory.added", N_("Service added."))
SAVED = flash.register("directory.saved", N_("Service saved."))
VERIFIED = flash.register("directory.verified", N_("Verification date recorded."))
DEACTIVATED = flash.register("directory.deactivated", N_("Service deactivated."))
ACTIVATED = flash.register("directory.activated", N_("Service active again."))
IMPORTED = flash.register("directory.imported", N_("Directory imported."))
TOO_LARGE = N_("The file is larger than 5 MiB.")
NOT_UTF8 = N_("The file is not UTF-8 text: save it as “CSV UTF-8”.")

ServiceId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Text = Annotated[str, Form(max_length=1200)]


@dataclass(frozen=True)
class Filters:
    """The list's filters as sent; anything unknown is ignored."""

    area: str = ""
    service_type: str = ""
    active: str = ""

    def params(self) -> str:
        """The filters as a query string (to come back to the same list)."""
        values = {"area": self.area, "type": self.service_type, "active": self.active}
        return urlencode({k: v for k, v in values.items() if v})


def filters(
    area: Annotated[str, Query(max_length=120)] = "",
    service_type: Annotated[str, Query(alias="type", max_length=32)] = "",
    active: Annotated[str, Query(max_length=8)] = "",
) -> Filters:
    """The filters from the query string."""
    return Filters(
        area=area.strip(),
        service_type=service_type if service_type in SERVICE_TYPES else "",
        active=active if active in ("yes", "no") else "",
    )


DirectoryFilters = Annotated[Filters, Depends(filters)]


def choices() -> dict[str, Any]:
    """What the service form offers."""
    return {"service_types": SERVICE_TYPES, "genders": GENDERS, "statuses": STATUSES}


def list_page(
    request: Request,
    db: DbSession,
    now: Now,
    chosen: Filters,
    *,
    bad_date: bool = False,
    status: int = 200,
) -> Response:
    """The services, filtered; an admin also sees what they can change."""
    active = {"yes": True, "no": False}.get(chosen.active)
    services = manage.list_services(
        db, area=chosen.area, service_type=chosen.service_type, active=active
    )
    return render(
        request,
        "directory.html",
        {
            "services": [(s, ServiceFields.of(s)) for s in services],
            "filters": chosen,
            "areas": manage.areas(db),
            "today": now.date().isoformat(),
            "bad_date": bad_date,
            **choices(),
        },
        status=status,
    )


@router.get("/directory")
def directory_page(
    request: Request, me: Staff, db: DbSession, now: Now, chosen: DirectoryFilters
) -> Response:
    """The directory, filtered by area, type and active."""
    return list_page(request, db, now, chosen)


def form_values(service: ServiceFields | None) -> dict[str, str]:
    """A service's fields as the form shows them (lists separated by '; ')."""
    if service is None:
        return {name: "" for name in FIELDS} | {"status": "active", "genders": "any"}
    shown: dict[str, str] = {}
    for name in FIELDS:
        value = getattr(service, name)
        if isinstance(value, tuple):
            shown[name] = "; ".join(value)
        elif isinstance(value, date):
            shown[name] = value.isoformat()
        else:
            shown[name] = "" if value is None else str(value)
    return shown


def form_page(
    request: Request,
    *,
    values: dict[str, str],
    service_id: int | None,
    errors: dict[str, list[str]] | None = None,
    duplicate: bool = False,
    status: int = 200,
) -> Response:
    """The add or edit form, with the values typed and each field's problems."""
    return render(
        request,
        "directory_form.html",
        {
            "values": values,
            "service_id": service_id,
            "errors": errors or {},
            "duplicate": duplicate,
            **choices(),
        },
        status=status,
    )


@router.get("/directory/new")
def new_service(request: Request, me: Admin) -> Response:
    """An empty form for a new service."""
    return form_page(request, values=form_values(None), service_id=None)


@router.get("/directory/import")
def import_page(request: Request, me: Admin) -> Response:
    """The CSV upload form."""
    return render(request, "directory_import.html", {"columns": FIELDS})


@router.post("/directory/import")
async def import_file(
    request: Request,
    me: Admin,
    engine: EngineDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File()],
) -> Response:
    """Import a CSV: every row checked first; one bad row and nothing is imported (422).
    A file that cannot be read is said in the reader's language; the rows' problems are the
    directory service's (English, each naming its row and column)."""
    data = await file.read(IMPORT_LIMIT + 1)
    unreadable = ""
    errors: list[str] = []
    if len(data) > IMPORT_LIMIT:
        unreadable = TOO_LARGE
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            unreadable = NOT_UTF8
        else:
            result = import_text(engine, text, actor=me.username)
            if result.ok:
                log.info("directory imported from the team web by %s", me.username)
                return back(settings, IMPORTED)
            errors = result.errors
    context = {"columns": FIELDS, "errors": errors, "unreadable": unreadable}
    return render(request, "directory_import.html", context, status=422)


@router.get("/directory/export")
def export_file(me: Staff, db: DbSession, chosen: DirectoryFilters) -> Response:
    """The services listed (the same filters) as CSV, in the import's format."""
    active = {"yes": True, "no": False}.get(chosen.active)
    services = manage.list_services(
        db, area=chosen.area, service_type=chosen.service_type, active=active
    )
    return Response(
        write_csv(services),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="directory.csv"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/directory/{service_id}")
def edit_service(request: Request, me: Admin, db: DbSession, service_id: ServiceId) -> Response:
    """The form of one service, filled in."""
    service = found(db, service_id)
    return form_page(request, values=form_values(ServiceFields.of(service)), service_id=service_id)


def found(db: DbSession, service_id: int) -> Any:
    """The service, or 404."""
    try:
        return manage.get_service(db, service_id)
    except manage.NoSuchService:
        raise HTTPException(status_code=404, detail="no such service") from None


def raw_fields(
    name: Text = "",
    organisation: Text = "",
    service_type: Text = "",
    areas: Text = "",
    phones: Text = "",
    hours: Text = "",
    languages: Annotated[list[str] | None, Form(max_length=8)] = None,
    min_age: Text = "",
    max_age: Text = "",
    genders: Text = "",
    status: Text = "",
    last_verified: Text = "",
) -> dict[str, Any]:
    """The form's fields as typed (the service checks them)."""
    return {
        "name": name,
        "organisation": organisation,
        "service_type": service_type,
        "areas": areas,
        "phones": phones,
        "hours": hours,
        "languages": list(languages or []),
        "min_age": min_age,
        "max_age": max_age,
        "genders": genders,
        "status": status,
        "last_verified": last_verified,
    }


RawFields = Annotated[dict[str, Any], Depends(raw_fields)]


def typed(raw: dict[str, Any]) -> dict[str, str]:
    """The raw fields as the form shows them again."""
    return {k: "; ".join(v) if isinstance(v, list) else str(v) for k, v in raw.items()}


def refused_form(
    request: Request, raw: dict[str, Any], service_id: int | None, exc: Exception
) -> Response:
    """The form again (422) with what was typed and why it was refused."""
    errors: dict[str, list[str]] = {}
    if isinstance(exc, InvalidService):
        for error in exc.errors:
            errors.setdefault(error.field, []).append(error.message)
    log.info("directory form refused: %s", ", ".join(sorted(errors)) or "duplicate")
    return form_page(
        request,
        values=typed(raw),
        service_id=service_id,
        errors=errors,
        duplicate=isinstance(exc, manage.DuplicateService),
        status=422,
    )


def back(settings: SettingsDep, key: str, target: str = "/directory") -> Response:
    """Post/redirect/get, with a message on the next page."""
    return flash.redirect(target, settings, key)


@router.post("/directory")
def create_service(
    request: Request,
    me: Admin,
    db: DbSession,
    settings: SettingsDep,
    now: Now,
    raw: RawFields,
) -> Response:
    """Add a service (the form again, 422, when a field is wrong or it exists already)."""
    try:
        manage.add_service(db, raw, actor=me.username, today=now.date())
    except (InvalidService, manage.DuplicateService) as exc:
        db.rollback()
        return refused_form(request, raw, None, exc)
    db.commit()
    return back(settings, ADDED)


@router.post("/directory/{service_id}")
def save_service(
    request: Request,
    me: Admin,
    db: DbSession,
    settings: SettingsDep,
    now: Now,
    service_id: ServiceId,
    raw: RawFields,
) -> Response:
    """Save a service's fields."""
    service = found(db, service_id)
    try:
        manage.change_service(db, service, raw, actor=me.username, today=now.date())
    except (InvalidService, manage.DuplicateService) as exc:
        db.rollback()
        return refused_form(request, raw, service_id, exc)
    db.commit()
    return back(settings, SAVED)


@router.post("/directory/{service_id}/verify")
def verify_service(
    request: Request,
    me: Admin,
    db: DbSession,
    settings: SettingsDep,
    now: Now,
    service_id: ServiceId,
    on: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Record the date the service's details were checked (today when none is given)."""
    service = found(db, service_id)
    try:
        day = date.fromisoformat(on) if on else now.date()
        manage.mark_verified(db, service, on=day, actor=me.username, today=now.date())
    except (ValueError, InvalidService):
        db.rollback()
        log.info("verification date of service %s refused", service_id)
        return list_page(request, db, now, Filters(), bad_date=True, status=422)
    db.commit()
    return back(settings, VERIFIED)


@router.post("/directory/{service_id}/deactivate")
def deactivate_service(
    me: Admin, db: DbSession, settings: SettingsDep, service_id: ServiceId
) -> Response:
    """Close a service: it is offered to no one, its referrals stay."""
    manage.deactivate(db, found(db, service_id), actor=me.username)
    db.commit()
    return back(settings, DEACTIVATED)


@router.post("/directory/{service_id}/activate")
def activate_service(
    me: Admin, db: DbSession, settings: SettingsDep, service_id: ServiceId
) -> Response:
    """Offer a closed or paused service again."""
    manage.set_status(db, found(db, service_id), "active", actor=me.username)
    db.commit()
    return back(settings, ACTIVATED)
