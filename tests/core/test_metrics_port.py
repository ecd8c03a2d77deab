"""``/metrics`` on a port of its own: the token, nothing else served, a clash survived."""

from __future__ import annotations

import asyncio

from bot.core import metrics_port
from bot.core.metrics import authorised, exposition, label

TOKEN = "metrics-token-for-tests-0123456789"


async def get(port: int, head: str) -> str:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head.encode("latin-1"))
    await writer.drain()
    answer = await reader.read()
    writer.close()
    return answer.decode("latin-1")


async def render() -> bytes:
    return exposition()


async def test_the_port_serves_metrics_with_the_token_only() -> None:
    server = await metrics_port.serve("127.0.0.1", 0, render, token=TOKEN)
    port = server.sockets[0].getsockname()[1]
    try:
        ok = await get(port, f"GET /metrics HTTP/1.1\r\nAuthorization: Bearer {TOKEN}\r\n\r\n")
        assert ok.startswith("HTTP/1.1 200 OK")
        assert "hotline_http_requests" in ok
        refused = await get(port, "GET /metrics HTTP/1.1\r\n\r\n")
        assert refused.startswith("HTTP/1.1 401")
        assert "hotline_" not in refused
        other = await get(port, f"GET /healthz HTTP/1.1\r\nAuthorization: Bearer {TOKEN}\r\n\r\n")
        assert other.startswith("HTTP/1.1 404")
        posted = await get(port, f"POST /metrics HTTP/1.1\r\nAuthorization: Bearer {TOKEN}\r\n\r\n")
        assert posted.startswith("HTTP/1.1 404")
        huge = await get(port, "GET /metrics HTTP/1.1\r\nX: " + "a" * 20_000 + "\r\n\r\n")
        assert huge == ""  # dropped
    finally:
        server.close()


async def test_without_a_token_the_port_is_open_to_its_network() -> None:
    server = await metrics_port.serve("127.0.0.1", 0, render)
    port = server.sockets[0].getsockname()[1]
    try:
        assert (await get(port, "GET /metrics HTTP/1.1\r\n\r\n")).startswith("HTTP/1.1 200")
    finally:
        server.close()


async def test_a_port_in_use_is_logged_not_fatal() -> None:
    first = await metrics_port.serve("127.0.0.1", 0, render)
    port = first.sockets[0].getsockname()[1]
    try:
        assert await metrics_port.serve_or_warn("127.0.0.1", port, render) is None
    finally:
        first.close()


def test_labels_take_only_known_values() -> None:
    assert label("P1", {"P1", "P2"}) == "P1"
    assert label("+243000000001", {"P1"}) == "other"
    assert label(None, {"P1"}) == "other"
    assert authorised(f"Bearer {TOKEN}", TOKEN)
    assert authorised(f"bearer  {TOKEN} ", TOKEN)
    assert not authorised(f"Bearer {TOKEN}x", TOKEN)
    assert not authorised(f"Bearer {TOKEN}", None)
    assert not authorised(None, TOKEN)
