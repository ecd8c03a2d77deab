"""Error answers that say what is wrong without repeating what was sent, and a last resort.

Every error answer has one shape: ``{"detail": "<one sentence>"}`` — ``detail`` is always a
string — with, for some, one more field: ``errors`` (a validation error's problems) or
``allowed`` (an illegal status change's allowed moves).

- A body or parameter that does not validate: 422 whose ``detail`` names the first problem
  and whose ``errors`` list each problem's location, message and type — never the ``input``
  (10 MB in must not mean 10 MB out, nor a password echoed back), nor pydantic's ``ctx`` or
  ``url``.
- Any HTTP error (401, 403, 404, 405, 409, 413, 429, 503...): ``{"detail": str}``, headers
  such as ``Retry-After`` kept.
- Text that cannot be encoded (a lone surrogate that got past ``limits``): 400.
- The database or Redis out of reach (a connection refused or lost, the pool exhausted):
  503 ``{"detail": "temporarily unavailable, try again"}`` with ``Retry-After``, so a provider
  or a client retries instead of taking it as a bug; logged as below.
- Anything else a handler raises: 500 ``{"detail": "internal error"}``. The log line names the
  exception's type, the route and the frames it went through; never the exception's message,
  which may quote a request value (a database error quotes its parameters). Repeated failures
  (a database outage) are logged in full once per ``TRACE_INTERVAL`` per type and route, then
  counted (``bot.http.logs``).

``CatchAll`` is middleware rather than an ``Exception`` handler: Starlette re-raises after such
a handler, and the server then logs the whole traceback, message included.
"""

from __future__ import annotations

import logging
import time
import traceback
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from redis import exceptions as redis_exc
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

TRACE_INTERVAL = 60.0
"""Seconds between two full tracebacks of the same failure (type and route)."""
RETRY_AFTER = 5
"""Seconds a client is asked to wait when a service the request needs is out of reach."""


def unreachable(exc: BaseException) -> bool:
    """Is this a service out of reach (retry later) rather than a bug?

    SQLAlchemy: a connection that could not be made (no statement yet) or was lost
    (``connection_invalidated``), or no connection free in the pool; "no such table" and the
    like are bugs. Redis: a connection refused, lost or timed out."""
    if isinstance(exc, sa_exc.TimeoutError):
        return True
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
        return bool(exc.connection_invalidated or exc.statement is None)
    return isinstance(exc, redis_exc.ConnectionError | redis_exc.TimeoutError)


MAX_ERRORS = 20
"""Validation problems listed in one answer (a body of 10,000 bad items gets 20)."""


def problems(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Each validation problem as location, message and type: no input, no context."""
    found: list[dict[str, Any]] = []
    for error in exc.errors()[:MAX_ERRORS]:
        found.append(
            {
                "loc": [part if isinstance(part, int) else str(part)[:64] for part in error["loc"]],
                "msg": str(error.get("msg", "invalid"))[:200],
                "type": str(error.get("type", "invalid"))[:64],
            }
        )
    return found


def summary(found: list[dict[str, Any]]) -> str:
    """One sentence for ``detail``: the first problem, where it is, and how many more."""
    if not found:
        return "invalid request"
    first = found[0]
    where = ".".join(str(part) for part in first["loc"]) or "request"
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    return f"invalid request: {where}: {first['msg']}{more}"[:300]


def error_body(detail: str, **more: Any) -> dict[str, Any]:
    """The one documented error shape: ``{"detail": str}``, and any extra fields given."""
    return {"detail": detail, **more}


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 naming what is wrong and where, never the value sent."""
    assert isinstance(exc, RequestValidationError)
    found = problems(exc)
    return JSONResponse(status_code=422, content=error_body(summary(found), errors=found))


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    """Any HTTP error a route or the router raises (401, 403, 404, 405, 409, 413, 422, 429,
    503...), in the one shape, its headers (``Retry-After``, ``WWW-Authenticate``) kept."""
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else "request refused"
    return JSONResponse(
        status_code=exc.status_code, content=error_body(detail), headers=exc.headers
    )


async def unencodable(request: Request, exc: Exception) -> JSONResponse:
    """400: the request held text that cannot be encoded (a lone surrogate)."""
    log.warning("request refused: text that cannot be encoded (%s)", type(exc).__name__)
    return JSONResponse(status_code=400, content={"detail": "text that is not valid Unicode"})


def install_error_handlers(app: FastAPI) -> None:
    """Validation and encoding errors answered without echo (``CatchAll`` is middleware)."""
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(UnicodeError, unencodable)


def _route(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "an unmatched path"


def frames(exc: BaseException) -> str:
    """The traceback's frames (file, line, function, source line) without the message."""
    return "".join(traceback.format_tb(exc.__traceback__)).rstrip()


class CatchAll:
    """500 without the exception's message in the answer or the log; full traces rate-limited."""

    def __init__(self, app: ASGIApp, interval: float = TRACE_INTERVAL) -> None:
        self.app = app
        self.interval = interval
        self.last: dict[tuple[str, str], float] = {}
        self.suppressed: dict[tuple[str, str], int] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as exc:
            away = unreachable(exc)
            self.report(scope, exc, 503 if away else 500)
            if started:
                return
            if away:
                response = JSONResponse(
                    status_code=503,
                    content={"detail": "temporarily unavailable, try again"},
                    headers={"Retry-After": str(RETRY_AFTER)},
                )
            else:
                response = JSONResponse(status_code=500, content={"detail": "internal error"})
            await response(scope, receive, send)

    def report(self, scope: Scope, exc: Exception, status: int = 500) -> None:
        """One line per failure; the frames at most once per interval per type and route."""
        key = (type(exc).__name__, _route(scope))
        now = time.monotonic()
        if now - self.last.get(key, -self.interval) < self.interval:
            self.suppressed[key] = self.suppressed.get(key, 0) + 1
            return
        self.last[key] = now
        skipped = self.suppressed.pop(key, 0)
        more = f" ({skipped} more since the last report)" if skipped else ""
        log.error(
            "unhandled %s in %s %s%s; answered %d\n%s",
            key[0],
            scope.get("method", ""),
            key[1],
            more,
            status,
            frames(exc),
        )
