"""Pages, styles and scripts go gzipped to a browser that accepts it; streams and small or
other answers go as they are."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from fastapi.testclient import TestClient

from bot.http.compress import CompressPages

PAGE = "<p>" + "hello team " * 500 + "</p>"


def make() -> TestClient:
    app = FastAPI()
    app.add_middleware(CompressPages)

    @app.get("/page")
    async def page() -> HTMLResponse:
        return HTMLResponse(PAGE)

    @app.get("/small")
    async def small() -> HTMLResponse:
        return HTMLResponse("<p>hi</p>")

    @app.get("/json")
    async def data() -> JSONResponse:
        return JSONResponse({"text": PAGE})

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def events() -> AsyncIterator[str]:
            yield "event: queue\ndata: 1\n\n" * 100
            yield "event: queue\ndata: 2\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return TestClient(app)


def raw(client: TestClient, path: str, encoding: str = "gzip") -> tuple[dict[str, str], bytes]:
    with client.stream("GET", path, headers={"Accept-Encoding": encoding}) as response:
        return dict(response.headers), b"".join(response.iter_raw())


def test_a_page_is_gzipped_for_a_browser_that_accepts_it() -> None:
    client = make()
    headers, body = raw(client, "/page")
    assert headers["content-encoding"] == "gzip" and "accept-encoding" in headers["vary"].lower()
    assert gzip.decompress(body).decode() == PAGE and len(body) < len(PAGE) / 10
    assert int(headers["content-length"]) == len(body)
    headers, body = raw(client, "/page", encoding="identity")
    assert "content-encoding" not in headers and body.decode() == PAGE


def test_small_json_and_streamed_answers_go_as_they_are() -> None:
    client = make()
    for path in ("/small", "/json", "/stream"):
        headers, _ = raw(client, path)
        assert "content-encoding" not in headers, path
    assert b"data: 2" in raw(client, "/stream")[1]
