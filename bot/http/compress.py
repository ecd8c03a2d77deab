"""Pages, styles and scripts compressed (gzip) for a browser that accepts it: the team web is
used on slow, expensive mobile connections, and its budgets (DESIGN §11) are counted gzipped.

Only whole text answers of ``COMPRESSIBLE`` types of at least ``MINIMUM`` bytes: a streamed
answer (the live queue's events) passes as it is, and so does anything already encoded. A
page's CSRF token is masked afresh on every page (``admin.csrf``), so compressing a page next
to text a visitor typed gives away nothing of it (BREACH).
"""

from __future__ import annotations

import gzip

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.http.scope import header

COMPRESSIBLE = (b"text/html", b"text/css", b"text/javascript", b"application/javascript")
MINIMUM = 1024
"""Bytes below which compressing saves too little to be worth it."""
LEVEL = 6


class CompressPages:
    """gzip whole HTML, CSS and JavaScript answers for clients that accept it."""

    def __init__(self, app: ASGIApp, minimum: int = MINIMUM) -> None:
        self.app = app
        self.minimum = minimum

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or "gzip" not in (header(scope, b"accept-encoding") or ""):
            await self.app(scope, receive, send)
            return
        held: Message | None = None

        async def compressing(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                held = message
                return
            if held is None or message["type"] != "http.response.body":
                await send(message)
                return
            start, held = held, None
            headers = MutableHeaders(raw=list(start.get("headers", [])))
            body: bytes = message.get("body", b"")
            if (
                message.get("more_body", False)
                or "content-encoding" in headers
                or not headers.get("content-type", "").encode().startswith(COMPRESSIBLE)
                or len(body) < self.minimum
            ):
                await send(start)
                await send(message)
                return
            packed = gzip.compress(body, compresslevel=LEVEL, mtime=0)
            headers["content-encoding"] = "gzip"
            headers["content-length"] = str(len(packed))
            headers.add_vary_header("Accept-Encoding")
            await send({**start, "headers": headers.raw})
            await send({"type": "http.response.body", "body": packed})

        await self.app(scope, receive, compressing)
