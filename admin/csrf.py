"""CSRF tokens: one per session (a keyed hash of its id, nothing stored), masked afresh on each
page so a compressed page never repeats it byte for byte; checked on every unsafe request.

A form sends it as the ``csrf`` field, an htmx request as the ``X-CSRF-Token`` header (set on
``<body hx-headers>``). The sign-in form, before any session, is bound the same way to a random
value in its own cookie.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

from fastapi import Request

from bot.auth.tokens import derive_key
from bot.core.settings import Settings

FIELD = "csrf"
HEADER = "x-csrf-token"
SIZE = 32
MAX_TOKEN = 200


class CsrfRefused(Exception):
    """An unsafe request without the right CSRF token: refused, nothing changed."""


def secret_for(settings: Settings, bound_to: str) -> bytes:
    """The unmasked token of a session (or of a sign-in form's cookie value)."""
    key = derive_key(settings, b"web-csrf")
    return hmac.new(key, bound_to.encode(), hashlib.sha256).digest()


def mask(secret: bytes) -> str:
    """The token as a page carries it: a fresh random pad, and the secret under it."""
    pad = secrets.token_bytes(SIZE)
    masked = bytes(a ^ b for a, b in zip(pad, secret, strict=True))
    return base64.urlsafe_b64encode(pad + masked).decode().rstrip("=")


def unmask(token: str) -> bytes | None:
    """The secret a masked token carries, or None when it is not one of ours."""
    if not token or len(token) > MAX_TOKEN:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 2 * SIZE:
        return None
    return bytes(a ^ b for a, b in zip(raw[:SIZE], raw[SIZE:], strict=True))


def token_for(settings: Settings, bound_to: str) -> str:
    """A masked token for a page of this session (or sign-in form)."""
    return mask(secret_for(settings, bound_to))


async def sent_token(request: Request) -> str:
    """The token the request carries: the header, else the form field ("" when none)."""
    header = request.headers.get(HEADER, "")
    if header:
        return header
    if request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()  # Starlette keeps it: the route reads the same form
        value = form.get(FIELD)
        return value if isinstance(value, str) else ""
    return ""


async def check(request: Request, settings: Settings, bound_to: str) -> None:
    """CsrfRefused unless the request carries a token of ``bound_to`` (constant-time)."""
    secret = unmask(await sent_token(request))
    if not bound_to or secret is None:
        raise CsrfRefused("missing or malformed CSRF token")
    if not hmac.compare_digest(secret, secret_for(settings, bound_to)):
        raise CsrfRefused("wrong CSRF token")
