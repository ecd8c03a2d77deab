"""Signing in to the team web and out of it, with the API's rules (``bot.auth.signin``).

``GET /signin`` shows the form (``?lang=`` switches its language; ``?next=`` is where to go
after). ``POST /signin`` checks the password under the same throttle as ``POST /api/login``
(per address, per username from an address, per username) and the same hashing gate; a wrong
username or password says so without saying which. A good one starts a new session (a new id,
whatever cookie came before) and goes to ``next`` — a local path only, never another site.
``POST /signout`` (CSRF-checked) ends this session.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from admin import csrf, flash, session
from admin.deps import PUBLIC, MaybeSignedIn, Staff
from admin.flash import N_
from admin.render import render
from bot.auth import web_sessions
from bot.auth.account import set_own_language
from bot.auth.hashing import HashingBusy
from bot.auth.passwords import MAX_PASSWORD
from bot.auth.signin import WrongCredentials, sign_in
from bot.auth.throttle import LoginThrottle, TooManyFailures
from bot.auth.tokens import token_key
from bot.core.languages import is_language
from bot.core.settings import Settings
from bot.deps import DbSession, EngineDep, Now, SettingsDep, StoreDep
from bot.models import Operator
from bot.sessions import SessionBusy

log = logging.getLogger(__name__)
router = APIRouter(tags=["team web"])

HOME = "/queue"
SIGNED_OUT = flash.register("signin.signed_out", N_("You are signed out."))
WRONG = N_("Wrong username or password.")
THROTTLED = N_("Too many failed sign-ins. Please wait a few minutes and try again.")
BUSY = N_("The hotline is busy. Please try again in a moment.")
STALE = N_("This form has expired. Please try again.")


def local_path(target: str | None) -> str:
    """``target`` when it is a path on this site, else the queue (no open redirect)."""
    if not target or len(target) > 2000 or not target.startswith("/"):
        return HOME
    if target.startswith(("//", "/\\")) or any(c in target for c in "\\\r\n\t"):
        return HOME
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path.startswith("/signin"):
        return HOME
    return target


def _form(
    request: Request,
    settings: Settings,
    *,
    next_path: str,
    chosen: str,
    error: str | None = None,
    username: str = "",
    status: int = 200,
) -> Response:
    """The sign-in form, its CSRF token bound to a fresh value in the sign-in cookie, in the
    language chosen on it (else the browser's)."""
    bound = secrets.token_urlsafe(24)
    response = render(
        request,
        "signin.html",
        {"next": next_path, "chosen": chosen, "error": error, "username": username},
        status=status,
        csrf_bound_to=bound,
        lang=chosen or None,
    )
    session.put(response, settings, bound, name=session.SIGNIN, max_age=3600)
    return response


@router.get("/signin", dependencies=[PUBLIC])
async def signin_page(
    request: Request, settings: SettingsDep, me: MaybeSignedIn, next: str | None = None
) -> Response:
    """The sign-in form (a member already signed in goes straight on)."""
    if me is not None:
        return RedirectResponse(local_path(next), status_code=303)
    chosen = request.query_params.get("lang", "")
    return _form(
        request,
        settings,
        next_path=local_path(next),
        chosen=chosen if is_language(chosen) else "",
    )


def _begin(db: Session, operator_id: int, settings: Settings, chosen: str, now: datetime) -> str:
    """Start the session (and keep a language chosen on the form); commit; its id."""
    operator = db.get(Operator, operator_id)
    assert operator is not None
    if is_language(chosen) and chosen != operator.lang:
        set_own_language(db, operator, chosen)
    session_id = web_sessions.start(db, operator, now=now, timeouts=session.timeouts(settings))
    db.commit()
    return session_id


@router.post("/signin", dependencies=[PUBLIC])
async def signin(
    request: Request,
    settings: SettingsDep,
    engine: EngineDep,
    store: StoreDep,
    db: DbSession,
    now: Now,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=MAX_PASSWORD)] = "",
    next: Annotated[str, Form(max_length=2000)] = HOME,
    lang: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Check the password; on success a new session and on to ``next``."""
    chosen = lang if is_language(lang) else ""
    target = local_path(next)

    def again(error: str, status: int) -> Response:
        return _form(
            request,
            settings,
            next_path=target,
            chosen=chosen,
            error=error,
            username=username[:64],
            status=status,
        )

    try:
        await csrf.check(request, settings, session.read(request, settings, session.SIGNIN))
    except csrf.CsrfRefused:
        log.warning("team web sign-in refused: stale or missing form token")
        return again(STALE, 403)
    if not username.strip() or not password:
        return again(WRONG, 401)
    address = request.client.host if request.client else None
    try:
        operator = await sign_in(
            engine,
            LoginThrottle(store, token_key(settings)),
            username,
            password,
            now=now,
            address=address,
        )
    except TooManyFailures as exc:
        response = again(THROTTLED, 429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except WrongCredentials:
        return again(WRONG, 401)
    except (HashingBusy, SessionBusy):
        response = again(BUSY, 503)
        response.headers["Retry-After"] = "1"
        return response
    assert operator.id is not None
    session_id = await asyncio.to_thread(_begin, db, operator.id, settings, chosen, now)
    response = RedirectResponse(target, status_code=303)
    session.put(response, settings, session_id)
    session.clear(response, settings, session.SIGNIN)
    return response


@router.post("/signout")
def signout(me: Staff, db: DbSession, settings: SettingsDep) -> Response:
    """End this session; back to the sign-in page."""
    web_sessions.end(db, me.session_id)
    db.commit()
    log.info("%s signed out of the team web", me.username)
    response = RedirectResponse("/signin", status_code=303)
    session.clear(response, settings)
    flash.flash(response, settings, SIGNED_OUT)
    return response
