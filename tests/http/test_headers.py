"""Security headers on every answer; case data never cached."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from fastapi.testclient import TestClient

from bot.http import install


def app(*, production: bool) -> FastAPI:
    made = FastAPI()
    install(made, production=production)

    @made.get("/api/thing")
    async def thing() -> dict[str, str]:
        return {"a": "b"}

    @made.get("/page")
    async def page() -> PlainTextResponse:
        return PlainTextResponse("hi", headers={"cache-control": "max-age=60"})

    return made


def test_every_answer_carries_the_headers_and_the_api_is_not_stored() -> None:
    with TestClient(app(production=False)) as client:
        for path in ("/api/thing", "/page", "/nowhere"):
            headers = client.get(path).headers
            assert "default-src 'self'" in headers["content-security-policy"]
            assert "frame-ancestors 'none'" in headers["content-security-policy"]
            assert headers["x-content-type-options"] == "nosniff"
            assert headers["referrer-policy"] == "no-referrer"
            assert "strict-transport-security" not in headers
        assert client.get("/api/thing").headers["cache-control"] == "no-store"
        assert client.get("/page").headers["cache-control"] == "max-age=60"


def test_production_adds_hsts() -> None:
    with TestClient(app(production=True)) as client:
        assert "max-age=" in client.get("/page").headers["strict-transport-security"]
