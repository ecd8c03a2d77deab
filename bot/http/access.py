"""One access line and the request metrics per request, under a request id.

The id: the caller's ``X-Request-ID`` when it is sane (8 to 64 letters, digits and ``._-``,
with no 8 digits in a row, which could be a phone number), else a new one; it is returned in
the response's ``X-Request-ID`` and put on every log line written while the request runs
(``bot.core.logconfig.REQUEST_ID``). The line and the metrics name the route TEMPLATE
(``/ussd/{token}``), never the path with its token, and nothing of the query or the body.
Health and metrics probes are logged at DEBUG unless they fail (a load balancer asks every few
seconds).
"""

from __future__ import annotations

import logging
import random
import re
import time
import weakref
from typing import Any

from fastapi.routing import iter_route_contexts
from prometheus_client import Counter, Histogram
from starlette.routing import BaseRoute, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.core.logconfig import REQUEST_ID, stamp_request_ids
from bot.core.metrics import LATENCY, REQUESTS
from bot.http.scope import header

log = logging.getLogger(__name__)

HEADER = "x-request-id"
HEADER_NAME = HEADER.encode()
SANE = re.compile(r"[A-Za-z0-9._-]{8,64}")
DIGITS = re.compile(r"[0-9]{8}")
UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
CHANNEL_PREFIXES = (
    ("/ussd/", "ussd"),
    ("/sms/", "sms"),
    ("/telegram/", "telegram"),
    ("/api/", "api"),
)
MAX_SERIES = 4096
"""Children kept at hand; routes are templates and statuses few, so this is never reached."""
OPS = frozenset({"/healthz", "/healthz/details", "/livez", "/readyz", "/metrics"})


def request_id(given: str | None) -> str:
    """The caller's id if sane, else a new one (32 hex digits: unique, not secret; ``uuid4``
    asked the kernel for randomness on every request)."""
    if given and SANE.fullmatch(given) and not DIGITS.search(given):
        return given
    return f"{_ids.getrandbits(128):032x}"


_ids = random.Random()  # noqa: S311 - request ids tell lines apart; they guard nothing


def route_of(scope: Scope) -> str:
    """The matched route's template (``/ussd/{token}``), or ``unmatched``.

    FastAPI's routes put themselves in the scope; a plain Starlette route (the USSD callback)
    leaves only its endpoint there, found in a table of the app's routes built once."""
    path = getattr(scope.get("route"), "path_format", None)
    if isinstance(path, str) and path:
        return path
    endpoint, app = scope.get("endpoint"), scope.get("app")
    if endpoint is None or app is None:
        return UNMATCHED
    if app not in _TEMPLATES:
        _TEMPLATES[app] = _templates(app.routes)
    candidates = _TEMPLATES[app].get(endpoint, ())
    if len(candidates) == 1:
        return candidates[0][0]
    for template, pattern in candidates:  # one endpoint behind several paths: the one matched
        if pattern.fullmatch(scope.get("path", "")):
            return template
    return UNMATCHED


_TEMPLATES: weakref.WeakKeyDictionary[Any, dict[Any, list[tuple[str, re.Pattern[str]]]]] = (
    weakref.WeakKeyDictionary()
)


def _templates(routes: list[BaseRoute]) -> dict[Any, list[tuple[str, re.Pattern[str]]]]:
    """Each endpoint's route templates, with the pattern of each."""
    table: dict[Any, list[tuple[str, re.Pattern[str]]]] = {}
    for context in iter_route_contexts(routes):
        template = context.path_format or context.path
        if context.endpoint is not None and template:
            pattern = compile_path(template)[0]
            table.setdefault(context.endpoint, []).append((template, pattern))
    return table


def channel_of(route: str) -> str:
    """Which channel a route template serves: ussd, sms, telegram, api, ops or web."""
    if route == UNMATCHED:
        return "other"
    if route in OPS:
        return "ops"
    for prefix, channel in CHANNEL_PREFIXES:
        if route.startswith(prefix) or route == prefix.rstrip("/"):
            return channel
    return "web"


class AccessLog:
    """The outermost middleware: request id, one access line, request count and latency."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        """The request counter's and latency histogram's children, by route, method, status."""
        stamp_request_ids()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id(header(scope, HEADER_NAME))
        token = REQUEST_ID.set(rid)
        started = time.perf_counter()
        status = 500  # an answer that never started counts as an error

        async def tagged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() != HEADER_NAME
                ]
                headers.append((HEADER_NAME, rid.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, tagged)
        finally:
            self.record(scope, status, time.perf_counter() - started)
            REQUEST_ID.reset(token)

    def record(self, scope: Scope, status: int, seconds: float) -> None:
        """Count the request, observe its latency and write its access line."""
        route = route_of(scope)
        channel = channel_of(route)
        method = scope.get("method", "")
        method = method if method in METHODS else "other"
        key = (route, method, status)
        series = self.series.get(key)
        if series is None:  # labels() takes a lock and builds keys: once per route and status
            series = (
                REQUESTS.labels(channel, route, method, str(status)),
                LATENCY.labels(channel, route),
            )
            if len(self.series) < MAX_SERIES:
                self.series[key] = series
        series[0].inc()
        series[1].observe(seconds)
        level = logging.DEBUG if channel == "ops" and status < 500 else logging.INFO
        if not log.isEnabledFor(level):
            return
        duration_ms = round(seconds * 1000, 1)
        log.log(
            level,
            "%s %s %d %.1f ms",
            method,
            route,
            status,
            duration_ms,
            extra={
                "fields": {
                    "method": method,
                    "route": route,
                    "channel": channel,
                    "status": status,
                    "duration_ms": duration_ms,
                }
            },
        )
