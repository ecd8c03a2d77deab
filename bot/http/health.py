"""The public health answer in production: up or down, nothing more.

``/healthz`` tells a load balancer whether to send traffic; the flows, the session backend and
the outbox counts it works out are for the team (``/healthz/details``, with a bearer token).
``PublicHealth`` keeps the status code and cuts the JSON body down to ``{"status": ...}``,
whatever the handler adds to it.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PATH = "/healthz"


def public_body(body: bytes) -> bytes:
    """``{"status": ...}`` of a health answer; ``{"status": "degraded"}`` if unreadable."""
    try:
        status = json.loads(body).get("status")
    except (ValueError, AttributeError):
        status = None
    if not isinstance(status, str) or len(status) > 32:
        status = "degraded"
    return json.dumps({"status": status}).encode()


class PublicHealth:
    """Answer ``GET /healthz`` with its status code and ``{"status": ...}`` only."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") != PATH:
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def cut(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = public_body(b"".join(chunks))
            headers = [
                (name, value)
                for name, value in start.get("headers", [])
                if name.lower() not in (b"content-length", b"content-type")
            ]
            headers += [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ]
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, cut)
