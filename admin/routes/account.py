"""``/account``: my own settings — the language the team web speaks to me in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from admin import flash
from admin.deps import Staff
from admin.flash import N_
from admin.render import render
from bot.auth.account import set_own_language
from bot.core.languages import is_language
from bot.deps import DbSession, SettingsDep

router = APIRouter(tags=["team web"])
SAVED = flash.register("account.saved", N_("Saved."))


@router.get("/account")
def account(request: Request, me: Staff) -> Response:
    """Who I am, and my language."""
    return render(request, "account.html")


@router.post("/account/language")
def change_language(
    request: Request,
    me: Staff,
    db: DbSession,
    settings: SettingsDep,
    lang: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Keep my language; 422 page for one the hotline does not speak."""
    if not is_language(lang):
        return render(request, "account.html", {"error": True}, status=422)
    set_own_language(db, me.operator, lang)
    db.commit()
    return flash.redirect("/account", settings, SAVED)
