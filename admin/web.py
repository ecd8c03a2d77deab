"""The team web on the app: its pages, static files and refusal pages, installed in one place.

``install(app)`` (called once by ``bot.app``) loads the templates and translations, includes
every screen's router (``admin.routes``), and turns the team web's refusals into pages: no
session → the sign-in page (a GET comes back after) or 403; a role or CSRF refusal → 403; any
HTTP error or unreadable form a browser navigates to → an error page, in the language of the
member signed in (even on a path no route answers). Everything else keeps the JSON error shape.
"""

from __future__ import annotations

import inspect
import logging
from datetime import datetime
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from admin import flash, session
from admin.csrf import CsrfRefused
from admin.deps import NotAllowed, SignInRequired, WebUser
from admin.flash import N_
from admin.render import Pages, reader_of, render
from admin.routes import ROUTERS
from bot.auth import web_sessions
from bot.core.settings import Settings
from bot.deps import get_now
from bot.http.access import route_of
from bot.http.errors import http_error, validation_error

log = logging.getLogger(__name__)

ENDED = flash.register("session.ended", N_("Your session has ended. Please sign in again."))
MESSAGES = {
    400: N_("This request could not be understood."),
    403: N_("You may not do this. Ask a supervisor if you need to."),
    404: N_("There is nothing here."),
    405: N_("This page cannot be used this way."),
    413: N_("What you sent is too large."),
    422: N_("Something in the form is missing or not valid."),
    429: N_("Too many attempts. Please wait a few minutes and try again."),
    503: N_("The hotline is busy. Please try again in a moment."),
}
"""What an error page says, by status (msgids of the ``web`` catalog)."""


def wants_html(request: Request) -> bool:
    """Did a browser navigate here (rather than an API client or a provider call)?"""
    return "text/html" in request.headers.get("accept", "") and not request.url.path.startswith(
        "/api"
    )


def error_page(request: Request, status: int) -> Response:
    """The error page for ``status``, in the reader's language."""
    message = MESSAGES.get(status, MESSAGES[400] if status < 500 else MESSAGES[503])
    return render(request, "error.html", {"status": status, "message": message}, status=status)


def sign_in_path(request: Request) -> str:
    """The sign-in page, asked to come back to this request's page afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/signin" if target == "/" else f"/signin?next={quote(target, safe='')}"


async def sign_in_required(request: Request, exc: Exception) -> Response:
    """A GET goes to the sign-in page (htmx: the whole page does); anything else is 403."""
    if request.method not in ("GET", "HEAD"):
        log.info(
            "team web: %s %s without a session refused", request.method, route_of(request.scope)
        )
        return error_page(request, 403)
    settings: Settings = request.app.state.settings
    target = sign_in_path(request)
    response: Response
    if request.headers.get("hx-request"):
        response = Response(status_code=204, headers={"HX-Redirect": target})
    else:
        response = RedirectResponse(target, status_code=303)
    if getattr(request.state, "session_ended", None):
        session.clear(response, settings)
        flash.flash(response, settings, ENDED)
    return response


async def refused(request: Request, exc: Exception) -> Response:
    """403: a role the route does not let in, or an unsafe request without its CSRF token."""
    if isinstance(exc, CsrfRefused):
        log.warning("team web: %s %s refused: %s", request.method, route_of(request.scope), exc)
    return error_page(request, 403)


def _member(request: Request, now: datetime) -> WebUser | None:
    """The member whose live session came with the request, read without recording activity
    (nothing is committed)."""
    settings: Settings = request.app.state.settings
    session_id = session.read(request, settings)
    if not session_id:
        return None
    with Session(request.app.state.engine) as db:
        try:
            operator = web_sessions.check(
                db, session_id, now=now, timeouts=session.timeouts(settings)
            )
        except web_sessions.SessionEnded:
            return None
        else:
            db.expunge(operator)  # as read, detached from what is rolled back
        finally:
            db.rollback()
    return WebUser(operator, session_id)


async def find_reader(request: Request) -> None:
    """Before an error page no route's dependencies saw (a path nothing answers, an unreadable
    form): who is signed in, so the page speaks their language."""
    if reader_of(request) is not None or not session.read(request, request.app.state.settings):
        return
    clock = request.app.dependency_overrides.get(get_now, get_now)  # tests run on their clock
    now = clock()
    if inspect.isawaitable(now):
        now = await now
    try:
        request.state.web_reader = await run_in_threadpool(_member, request, now)
    except SQLAlchemyError as exc:  # the page is shown anyway, in the browser's language
        log.warning("team web: error page without its reader (%s)", type(exc).__name__)


async def http_error_page(request: Request, exc: Exception) -> Response:
    """An error page for a browser; the one JSON error shape for everyone else."""
    assert isinstance(exc, StarletteHTTPException)
    if wants_html(request):
        await find_reader(request)
        return error_page(request, exc.status_code)
    return await http_error(request, exc)


async def invalid_request_page(request: Request, exc: Exception) -> Response:
    """422: a form or query a browser sent that does not fit (a page); JSON for the API."""
    if wants_html(request):
        await find_reader(request)
        return error_page(request, 422)
    return await validation_error(request, exc)


def install(app: FastAPI) -> None:
    """Add the team web to ``app`` (its settings already on ``app.state``)."""
    settings: Settings = app.state.settings
    app.state.web_pages = Pages(settings.locales_dir)
    for router in ROUTERS:
        app.include_router(router)
    app.add_exception_handler(SignInRequired, sign_in_required)
    app.add_exception_handler(NotAllowed, refused)
    app.add_exception_handler(CsrfRefused, refused)
    app.add_exception_handler(StarletteHTTPException, http_error_page)
    app.add_exception_handler(RequestValidationError, invalid_request_page)
