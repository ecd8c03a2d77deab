"""Shed sign-ins early: while the hashing gate is full, a request that would check a password
gets 503 before its body is read or validated.

A storm of sign-ins is then refused for the price of reading a request line and headers, which
keeps the event loop (and so the channels answering on it) responsive. The route itself still
asks the gate (``bot.auth.hashing``), which is the real bound; this is only the cheap door.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

from bot.auth.hashing import GATE, HashGate, HashingBusy

PASSWORD_PATHS = frozenset({"/api/login", "/api/me/password", "/signin"})
"""Routes that run argon2 (the API's and the team web's sign-in)."""
BUSY = json.dumps({"detail": str(HashingBusy())}).encode()


class ShedSignIns:
    """503 with ``Retry-After`` for a password route while ``gate`` has no room."""

    def __init__(self, app: ASGIApp, gate: HashGate = GATE) -> None:
        self.app = app
        self.gate = gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope.get("path") not in PASSWORD_PATHS
            or self.gate.in_flight < self.gate.limit
        ):
            await self.app(scope, receive, send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(BUSY)).encode()),
                    (b"retry-after", str(HashingBusy.retry_after).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": BUSY})
