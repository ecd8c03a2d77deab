"""The team web's session cookie: its name, how it is set and cleared, and the service's timeouts.

Outside development the cookie is ``__Host-hotline``: Secure, HttpOnly, SameSite=Lax, Path=/,
no Domain, so no other host or path may set or read it. In development the app is served over
plain http (``make run``), where a browser refuses a Secure cookie and so a ``__Host-`` name:
there it is ``hotline``, HttpOnly, SameSite=Lax, Path=/, not Secure.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import Request, Response

from bot.auth.web_sessions import Timeouts
from bot.core.settings import Settings


def secure(settings: Settings) -> bool:
    """Secure cookies (and their ``__Host-`` names): everywhere but development."""
    return settings.env != "development"


def cookie_name(settings: Settings, name: str = "hotline") -> str:
    """``__Host-<name>`` outside development, ``<name>`` in development (plain http)."""
    return f"__Host-{name}" if secure(settings) else name


SESSION = "hotline"
SIGNIN = "hotline-signin"
"""Before sign-in: a random value the sign-in form's CSRF token is bound to."""
FLASH = "hotline-flash"
"""A message to show once on the next page (a key of ``admin.flash``, never free text)."""


def timeouts(settings: Settings) -> Timeouts:
    """The idle and absolute timeouts of a team web session."""
    return Timeouts(
        idle=timedelta(minutes=settings.web_idle_minutes),
        absolute=timedelta(hours=settings.web_session_hours),
    )


def read(request: Request, settings: Settings, name: str = SESSION) -> str:
    """The cookie's value ("" when absent)."""
    return request.cookies.get(cookie_name(settings, name), "")


def put(
    response: Response,
    settings: Settings,
    value: str,
    *,
    name: str = SESSION,
    max_age: int | None = None,
) -> None:
    """Set a cookie the way every team web cookie is set (a session cookie unless ``max_age``)."""
    response.set_cookie(
        cookie_name(settings, name),
        value,
        max_age=max_age,
        path="/",
        secure=secure(settings),
        httponly=True,
        samesite="lax",
    )


def clear(response: Response, settings: Settings, name: str = SESSION) -> None:
    """Remove a cookie from the browser."""
    response.delete_cookie(
        cookie_name(settings, name),
        path="/",
        secure=secure(settings),
        httponly=True,
        samesite="lax",
    )
