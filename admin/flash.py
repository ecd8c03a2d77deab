"""One-time messages shown on the page after a change (post, redirect, get): by key, never text.

A route that wants a message on the next page calls ``flash(response, settings, "key")`` on its
redirect; the next page rendered shows the key's message in the reader's language and clears
it. Keys and their messages are registered once, in the module that uses them:
``SAVED = register("account.saved", N_("Saved."))`` — only a registered key is ever shown, so
a forged cookie shows nothing of its own.
"""

from __future__ import annotations

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from admin import session
from bot.core.settings import Settings

MESSAGES: dict[str, str] = {}
"""Every message a page may flash, by key (msgids of the ``web`` catalog)."""


def N_(message: str) -> str:
    """Marks ``message`` for translation; translated when the page shows it."""
    return message


def register(key: str, message: str) -> str:
    """Make ``key`` flashable with ``message`` (an ``N_`` msgid); returns the key."""
    MESSAGES[key] = message
    return key


def flash(response: Response, settings: Settings, key: str) -> None:
    """Show ``key``'s message on the next page (ValueError for a key never registered)."""
    if key not in MESSAGES:
        raise ValueError(f"no flash message {key!r}")
    session.put(response, settings, key, name=session.FLASH, max_age=300)


def redirect(target: str, settings: Settings, key: str) -> Response:
    """Post/redirect/get: a 303 to ``target`` that shows ``key``'s message there."""
    response = RedirectResponse(target, status_code=303)
    flash(response, settings, key)
    return response


def pending(request: Request, settings: Settings) -> str | None:
    """The message (msgid) waiting for this request's page, if any."""
    return MESSAGES.get(session.read(request, settings, session.FLASH))
