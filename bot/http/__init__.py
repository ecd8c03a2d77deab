"""The HTTP surface's hardening, installed on the app by ``bot.app`` with ``install``.

- ``limits``: a body size limit per route (counted as it streams, not only Content-Length),
  and JSON bodies with a lone surrogate refused (they cannot be encoded, stored or hashed).
- ``errors``: error answers that never echo what was sent, and a last-resort handler that
  answers 500 without logging a request value (a traceback of frames, never the message).
- ``headers``: security headers on every response, ``Cache-Control: no-store`` on ``/api/``
  and on every page.
- ``compress``: pages, styles and scripts gzipped for browsers that accept it.
- ``logs``: repeated log lines (a database outage, a flood) are limited per interval.
- ``shed``: while password hashing is saturated, sign-ins get 503 before their body is read.
- ``access``: outermost, a request id, one access line and the request metrics per request.
- ``metrics`` and ``probes`` (installed by ``bot.app``): ``/metrics``, ``/livez``, ``/readyz``.

Pure ASGI middleware (no ``BaseHTTPMiddleware``): the USSD path stays cheap.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from bot.http.access import AccessLog
from bot.http.compress import CompressPages
from bot.http.errors import CatchAll, install_error_handlers
from bot.http.headers import SecurityHeaders
from bot.http.limits import BodyLimit, LoneSurrogates
from bot.http.logs import limit_repeated_logs
from bot.http.shed import ShedSignIns


def install(app: FastAPI, *, production: bool) -> None:
    """Add the error handlers and middleware, outermost first: the access line and metrics,
    security headers (on every answer, errors included), compression of pages, the catch-all,
    the body limit, sign-ins shed while the hashing gate is full, the surrogate check.
    Repeated log lines are limited while the app runs (its lifespan), per app."""
    install_error_handlers(app)
    app.add_middleware(LoneSurrogates)
    app.add_middleware(ShedSignIns)
    app.add_middleware(BodyLimit)
    app.add_middleware(CatchAll)
    app.add_middleware(CompressPages)
    app.add_middleware(SecurityHeaders, hsts=production)
    app.add_middleware(AccessLog)
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(running: Any) -> AsyncIterator[Any]:
        with limit_repeated_logs():
            async with inner(running) as state:
                yield state

    app.router.lifespan_context = lifespan


__all__ = ["install"]
