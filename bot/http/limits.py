"""Request bodies: a size limit per route, and JSON that cannot be text refused.

``BodyLimit`` answers 413 when ``Content-Length`` says a body is too large, and cuts a body
sent without one (chunked) as soon as the bytes received pass the limit, so no request holds
more than its route's limit in memory. The limit is the first of ``LIMITS`` whose prefix the
path starts with, else ``DEFAULT_LIMIT``: provider callbacks are small forms, a Telegram update
at most ``TELEGRAM_LIMIT``; a directory import may send a whole CSV file.

``LoneSurrogates`` refuses (400) a JSON body holding a lone UTF-16 surrogate (``"\\ud800"``):
Python reads it into a ``str`` that cannot be encoded, hashed or stored, and it would fail
deep inside a handler. JSON bodies are small (``BodyLimit`` runs first), so this one buffers
them; only a body with a ``\\uD8..``-``\\uDF..`` escape is parsed here.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.http.scope import header

log = logging.getLogger(__name__)

KIB = 1024
MIB = 1024 * KIB
DEFAULT_LIMIT = 64 * KIB
"""JSON API bodies and anything not listed below."""
TELEGRAM_LIMIT = 1 * MIB
"""Telegram updates (a long message with entities stays far below)."""
IMPORT_LIMIT = 5 * MIB
"""A directory import (a CSV file of services)."""
CALLBACK_LIMIT = 16 * KIB
"""Africa's Talking USSD and SMS callbacks (a few short form fields)."""
LIMITS: tuple[tuple[str, int], ...] = (
    ("/ussd/", CALLBACK_LIMIT),
    ("/sms/", CALLBACK_LIMIT),
    ("/telegram/", TELEGRAM_LIMIT),
    ("/api/services/import", IMPORT_LIMIT),
    ("/admin/directory/import", IMPORT_LIMIT),
    ("/directory/import", IMPORT_LIMIT),
)


def limit_for(path: str, limits: Sequence[tuple[str, int]] = LIMITS) -> int:
    """The largest body (bytes) a request to ``path`` may send."""
    for prefix, limit in limits:
        if path.startswith(prefix):
            return limit
    return DEFAULT_LIMIT


class BodyTooLarge(HTTPException):
    """The body passed its route's limit while it was being read (an HTTP 413, so a route
    reading its own body, and FastAPI's body parsing, answer it as such)."""

    def __init__(self) -> None:
        super().__init__(status_code=413, detail="request body too large")


async def _refuse(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """413 for a body larger than its route allows, declared or streamed."""

    def __init__(self, app: ASGIApp, limits: Sequence[tuple[str, int]] = LIMITS) -> None:
        self.app = app
        self.limits = tuple(limits)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope.get("path", ""), self.limits)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            log.warning("request body refused: %d bytes declared, limit %d", declared, limit)
            await _refuse(send, 413, "request body too large")
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge()
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            log.warning("request body refused: more than %d bytes streamed", limit)
            if not started:
                await _refuse(send, 413, "request body too large")


def _content_length(scope: Scope) -> int | None:
    value = header(scope, b"content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def has_lone_surrogate(body: bytes) -> bool:
    """Does this JSON text hold a lone surrogate (in a key or a value)? False if not JSON."""
    if not _SURROGATE_ESCAPE.search(body):
        return False
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return False  # not JSON: the route's own parsing refuses it
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _maybe_json(scope: Scope) -> bool:
    """JSON, or no content type at all (FastAPI then reads a body as JSON too); anything sent to
    the Telegram webhook, which reads its body as JSON whatever the type says."""
    if scope.get("path", "").startswith("/telegram/"):
        return True
    value = header(scope, b"content-type")
    if value is None:
        return True
    kind = value.split(";", 1)[0].strip().lower()
    return kind in ("", "application/json", "text/plain") or kind.endswith("+json")


class LoneSurrogates:
    """400 for a JSON body that holds text no encoder can write (a lone surrogate)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope.get("method") in ("GET", "HEAD")
            or not _maybe_json(scope)
        ):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _replay([message]), send)
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if has_lone_surrogate(body):
            log.warning("request refused: a JSON body held a lone surrogate")
            await _refuse(send, 400, "the body holds text that is not valid Unicode")
            return
        await self.app(scope, _replay([{"type": "http.request", "body": body}], receive), send)


def _replay(messages: list[Message], then: Receive | None = None) -> Receive:
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}

    return receive
