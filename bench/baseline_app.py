"""The floor for the USSD load test: parse the same form, one Redis GET and SET, answer CON.

Run by ``bench.ussd_load`` as ``uvicorn bench.baseline_app:create_app --factory``; it reads
``HOTLINE_REDIS_URL`` like the hotline and keeps its keys under ``bench:baseline:``.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import PlainTextResponse
from redis.asyncio import Redis

PREFIX = "bench:baseline:"
TTL = 300
SCREEN = (
    "Anti-trafficking hotline. Free and anonymous. Choose:\n1 Report something\n"
    "2 Check my situation\n3 Learn the signs\n4 Get help now\n5 Follow a report\n"
    "6 Change language\n00 Back"
)


def value_for(text: str, stored: bytes | None) -> bytes:
    """A stored value of realistic size (~300 bytes), shaped like a session: state and memo."""
    value = {
        "flow": "main",
        "version": "3f9a1c2e7b4d",
        "state": "menu",
        "lang": "en",
        "seen": stored is not None,
        "inputs": text.split("*") if text else [],
        "memo": {"request": text, "screen": SCREEN, "end": False, "page": 0, "pages": 1},
    }
    return json.dumps(value, separators=(",", ":")).encode()


def create_app(redis_url: str | None = None) -> FastAPI:
    """A bare FastAPI app with ``POST /ussd/{token}`` over one redis.asyncio client."""
    url = redis_url or os.environ.get("HOTLINE_REDIS_URL", "redis://127.0.0.1:6379/13")
    client = Redis.from_url(url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await client.aclose()

    app = FastAPI(title="USSD baseline", lifespan=lifespan, docs_url=None, redoc_url=None)

    @app.get("/healthz")
    async def healthz() -> dict[str, bool]:
        """Is Redis answering?"""
        return {"ok": bool(await client.ping())}

    @app.post("/ussd/{token}")
    async def ussd(token: str, request: Request) -> PlainTextResponse:
        """Parse the form, GET then SET the session key, answer with a menu."""
        form = await request.form()
        session_id, text = form.get("sessionId"), form.get("text")
        if not isinstance(session_id, str) or not session_id or not isinstance(text, str):
            raise HTTPException(status_code=400, detail="missing sessionId or text")
        key = PREFIX + session_id
        stored = await client.get(key)
        await client.set(key, value_for(text, stored), ex=TTL)
        return PlainTextResponse("CON " + SCREEN)

    return app
