"""``/metrics`` on a port of its own (``HOTLINE_METRICS_PORT``), for the app and the worker.

A worker has no web server, and an app may keep its metrics off the public port: this small
server answers ``GET /metrics`` (with the bearer token when ``HOTLINE_METRICS_TOKEN`` is set)
and 404 to anything else, one request per connection, headers read within 5 s and 16 KB.
It listens on ``HOTLINE_METRICS_HOST`` (127.0.0.1 unless a container network needs more).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.core.metrics import CONTENT_TYPE, authorised

log = logging.getLogger(__name__)

READ_SECONDS = 5.0
LIMIT = 16 * 1024
REASONS = {200: "OK", 401: "Unauthorized", 404: "Not Found", 500: "Internal Server Error"}


def answer(status: int, body: bytes, content_type: str = "text/plain; charset=utf-8") -> bytes:
    """An HTTP/1.1 response that closes the connection."""
    head = (
        f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        "Cache-Control: no-store\r\nConnection: close\r\n"
    )
    if status == 401:
        head += 'WWW-Authenticate: Bearer realm="metrics"\r\n'
    return (head + "\r\n").encode("latin-1") + body


async def respond(head: bytes, render: Callable[[], Awaitable[bytes]], token: str | None) -> bytes:
    """The response to one request's head (request line and headers)."""
    lines = head.decode("latin-1").split("\r\n")
    method, _, rest = lines[0].partition(" ")
    path = rest.partition(" ")[0].partition("?")[0]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if method not in ("GET", "HEAD") or path != "/metrics":
        return answer(404, b"not found\n")
    if token and not authorised(headers.get("authorization"), token):
        return answer(401, b"a bearer token is needed\n")
    try:
        body = await render()
    except Exception as exc:  # the exposition failed: say so, keep serving
        log.error("metrics exposition failed (%s)", type(exc).__name__)
        return answer(500, b"metrics unavailable\n")
    return answer(200, b"" if method == "HEAD" else body, CONTENT_TYPE)


async def serve(
    host: str, port: int, render: Callable[[], Awaitable[bytes]], *, token: str | None = None
) -> asyncio.Server:
    """Start answering ``/metrics`` on ``host:port``; close the returned server to stop."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(READ_SECONDS):
                head = await reader.readuntil(b"\r\n\r\n")
            writer.write(await respond(head, render, token))
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
            pass  # a slow, cut or oversized request: drop it
        finally:
            writer.close()

    server = await asyncio.start_server(handle, host, port, limit=LIMIT)
    log.info("metrics on http://%s:%d/metrics", host, port)
    return server


async def serve_or_warn(
    host: str, port: int, render: Callable[[], Awaitable[bytes]], *, token: str | None = None
) -> asyncio.Server | None:
    """``serve``, or None with an error logged when the port cannot be opened: a port clash
    must not stop a process's deliveries or answers."""
    try:
        return await serve(host, port, render, token=token)
    except OSError as exc:
        log.error("metrics port %s:%d not opened (%s)", host, port, exc.strerror or exc)
        return None
