"""``/team`` (admins): add a member, change a role, deactivate or reactivate, reset a password.

The rules are ``bot.team.operators``'s: usernames, roles, the password rules, and one active
admin kept (the last one cannot be deactivated or demoted: the page says so, 409). A password
reset shows the new password once, on the answer to the form (never stored in clear, never in a
redirect or a log), and with a deactivation ends the member's sessions at once. Every change is
audited by the service. A phone number is never shown: only whether one is kept.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Path, Request
from fastapi.responses import Response

from admin import flash
from admin.deps import Admin
from admin.flash import N_
from admin.render import render
from bot.auth.passwords import MAX_PASSWORD, MIN_PASSWORD
from bot.deps import CipherDep, DbSession, SettingsDep
from bot.models import Operator
from bot.team import operators as team
from bot.team.roles import ROLES

log = logging.getLogger(__name__)
router = APIRouter(tags=["team web"])

ADDED = flash.register("team.added", N_("Member added."))
CHANGED = flash.register("team.changed", N_("Saved."))
LAST_ADMIN = flash.register(
    "team.last_admin",
    N_("The team needs one active admin: make someone else an admin first."),
)

Username = Annotated[str, Path(min_length=1, max_length=64)]
Password = Annotated[str, Form(max_length=MAX_PASSWORD)]
FIELD_LABELS = {
    "username": N_("Username"),
    "role": N_("Role"),
    "name": N_("Name"),
    "lang": N_("Language"),
    "phone": N_("On-call phone"),
    "password": N_("Password"),
}


def found(db: DbSession, username: str) -> Operator:
    """The member, or 404."""
    try:
        return team.find_operator(db, username)
    except team.NoSuchOperator:
        raise HTTPException(status_code=404, detail="no such member") from None


def team_page(
    request: Request,
    db: DbSession,
    *,
    status: int = 200,
    new_password: tuple[str, str] | None = None,
    error: str = "",
    error_detail: str = "",
) -> Response:
    """The team, each member with what an admin may change."""
    return render(
        request,
        "team.html",
        {
            "members": team.list_operators(db),
            "roles": ROLES,
            "new_password": new_password,
            "min_password": MIN_PASSWORD,
            "error": error,
            "error_detail": error_detail,
        },
        status=status,
    )


@router.get("/team")
def team_list(request: Request, me: Admin, db: DbSession) -> Response:
    """The whole team, active or not."""
    return team_page(request, db)


@router.get("/team/new")
def new_member(request: Request, me: Admin) -> Response:
    """The form to add a member."""
    return render(
        request,
        "team_form.html",
        {
            "values": {"role": "operator", "lang": "en"},
            "roles": ROLES,
            "min_password": MIN_PASSWORD,
        },
    )


@router.post("/team")
def add_member(
    request: Request,
    me: Admin,
    db: DbSession,
    settings: SettingsDep,
    cipher: CipherDep,
    username: Annotated[str, Form(max_length=64)] = "",
    name: Annotated[str, Form(max_length=team.MAX_NAME)] = "",
    role: Annotated[str, Form(max_length=16)] = "",
    lang: Annotated[str, Form(max_length=8)] = "en",
    phone: Annotated[str, Form(max_length=32)] = "",
    password: Password = "",
) -> Response:
    """Add a member with the password typed, or a temporary one shown once."""
    chosen = password or team.temporary_password()
    try:
        operator = team.add_operator(
            db,
            cipher,
            username=username,
            role=role,
            display_name=name,
            password=chosen,
            lang=lang,
            phone=phone or None,
            actor=me.username,
        )
    except (team.InvalidOperator, team.UsernameTaken) as exc:
        db.rollback()
        field = exc.field if isinstance(exc, team.InvalidOperator) else "username"
        log.info("team web: new member refused (%s)", field)
        return render(
            request,
            "team_form.html",
            {
                "values": {"username": username, "name": name, "role": role, "lang": lang},
                "roles": ROLES,
                "min_password": MIN_PASSWORD,
                "error": FIELD_LABELS.get(field, field),
                "error_detail": str(exc) if field != "phone" else "",
                "taken": isinstance(exc, team.UsernameTaken),
            },
            status=409 if isinstance(exc, team.UsernameTaken) else 422,
        )
    db.commit()
    if password:
        return flash.redirect("/team", settings, ADDED)
    return team_page(request, db, new_password=(operator.username, chosen))


def refused_last_admin(settings: SettingsDep) -> Response:
    """Back to the team page saying why nothing changed (409 as a page would be a dead end)."""
    return flash.redirect("/team", settings, LAST_ADMIN)


@router.post("/team/{username}/role")
def change_role(
    request: Request,
    me: Admin,
    db: DbSession,
    settings: SettingsDep,
    username: Username,
    role: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """Give a member another role (not the last active admin's)."""
    operator = found(db, username)
    try:
        team.change_operator(db, operator, actor=me.username, role=role)
    except team.InvalidOperator as exc:
        db.rollback()
        return team_page(request, db, status=422, error=FIELD_LABELS["role"], error_detail=str(exc))
    except team.LastAdmin:
        db.rollback()
        return refused_last_admin(settings)
    db.commit()
    return flash.redirect("/team", settings, CHANGED)


@router.post("/team/{username}/deactivate")
def deactivate_member(
    me: Admin, db: DbSession, settings: SettingsDep, username: Username
) -> Response:
    """Take a member off the team: their sessions and tokens end at once."""
    operator = found(db, username)
    try:
        team.deactivate(db, operator, actor=me.username)
    except team.LastAdmin:
        db.rollback()
        return refused_last_admin(settings)
    db.commit()
    return flash.redirect("/team", settings, CHANGED)


@router.post("/team/{username}/reactivate")
def reactivate_member(
    me: Admin, db: DbSession, settings: SettingsDep, username: Username
) -> Response:
    """Take a member back on the team (with a new sign-in; no old session comes back)."""
    team.reactivate(db, found(db, username), actor=me.username)
    db.commit()
    return flash.redirect("/team", settings, CHANGED)


@router.post("/team/{username}/password")
def reset_password(
    request: Request,
    me: Admin,
    db: DbSession,
    settings: SettingsDep,
    username: Username,
    password: Password = "",
) -> Response:
    """A new password (the one typed, else a temporary one shown once); their sessions end."""
    operator = found(db, username)
    try:
        new = team.reset_password(db, operator, actor=me.username, password=password or None)
    except team.InvalidOperator as exc:
        db.rollback()
        return team_page(
            request, db, status=422, error=FIELD_LABELS["password"], error_detail=str(exc)
        )
    db.commit()
    log.info("team web: password of %s reset by %s", operator.username, me.username)
    if password:
        return flash.redirect("/team", settings, CHANGED)
    return team_page(request, db, new_password=(operator.username, new))
