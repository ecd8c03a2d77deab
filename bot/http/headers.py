"""Security headers on every response, and no caching of the team's API answers.

Every response: a Content-Security-Policy that loads nothing from elsewhere and may not be
framed, ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``,
``X-Frame-Options: DENY`` (for old browsers), and in production
``Strict-Transport-Security``. Answers under ``/api/`` carry case data, and so do the team web's
pages and live events: ``Cache-Control: no-store`` on those and on every HTML page or event
stream. A header the route set itself is kept.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
"""Nothing from another host, no inline script or style, never framed."""
HSTS = "max-age=31536000; includeSubDomains"
NO_STORE_PREFIXES = ("/api/", "/healthz/")
NO_STORE_TYPES = (b"text/html", b"text/event-stream")
"""Pages and event streams are never cached, wherever they are served from."""

BASE: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)


class SecurityHeaders:
    """Add the security headers (and ``no-store`` under ``/api/``) to each response."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        extra = [(b"strict-transport-security", HSTS.encode())] if hsts else []
        self.headers = (*BASE, *extra)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        wanted = list(self.headers)
        no_store = path.startswith(NO_STORE_PREFIXES) or path == "/api"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower(): value for name, value in headers}
                extra = list(wanted)
                if no_store or present.get(b"content-type", b"").startswith(NO_STORE_TYPES):
                    extra.append((b"cache-control", b"no-store"))
                headers.extend((n, v) for n, v in extra if n not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
