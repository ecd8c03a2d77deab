"""The team web on the app: its pages, static files and refusal pages, installed in one place.

``install(app)`` (called once by ``bot.app``) loads the templates and translations, includes
every screen's router (``admin.routes``), and turns the team web's refusals into pages: no
session → the sign-in page (a GET comes back after) or 403; a role or CSRF refusal → 403; any
HTTP error a browser navigates to → an error page. Everything else keeps the JSON error shape.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from admin import flash, session
from admin.csrf import CsrfRefused
from admin.deps import NotAllowed, SignInRequired
from admin.flash import N_
from admin.render import Pages, render
from admin.routes import ROUTERS
from bot.core.settings import Settings
from bot.http.access import route_of
from bot.http.errors import http_error

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


async def http_error_page(request: Request, exc: Exception) -> Response:
    """An error page for a browser; the one JSON error shape for everyone else."""
    assert isinstance(exc, StarletteHTTPException)
    if wants_html(request):
        return error_page(request, exc.status_code)
    return await http_error(request, exc)


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
