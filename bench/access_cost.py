"""CPU per request of the access line and the request metrics (``bot.http.access.AccessLog``).

A bare Starlette route answering a USSD-sized screen, called as an ASGI app in this process,
with and without ``AccessLog`` in front; the access line written as JSON, as text, or not at all
(metrics only). CPU time (``time.process_time``), the best of five rounds, so that the figure
holds on a loaded machine. Prints microseconds per request and the load average.

    .venv/bin/python -m bench.access_cost [--requests 4000]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import os
import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message

from bot.core.logconfig import configure
from bot.http.access import AccessLog


async def screen(request: Request) -> PlainTextResponse:
    """A USSD screen, as the callback answers."""
    return PlainTextResponse("CON Helpline. Help without giving your name.\n1 Report\n0 Exit")


SCOPE: dict[str, Any] = {
    "type": "http",
    "method": "POST",
    "path": "/ussd/africastalking/secret-token",
    "raw_path": b"/ussd/africastalking/secret-token",
    "headers": [(b"x-request-id", b"bench-request-0001")],
    "query_string": b"",
    "root_path": "",
    "scheme": "http",
    "server": ("bench", 80),
    "client": ("bench", 1),
}


async def receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def send(message: Message) -> None:
    return None


async def per_request(app: ASGIApp, inner: Starlette, requests: int) -> float:
    """Microseconds of CPU per request, best of five rounds after a warm-up."""

    async def run(count: int) -> None:
        for _ in range(count):
            await app({**SCOPE, "app": inner}, receive, send)

    await run(300)
    best = float("inf")
    for _ in range(5):
        started = time.process_time()
        await run(requests)
        best = min(best, (time.process_time() - started) / requests * 1e6)
    return best


async def main(requests: int) -> None:
    inner = Starlette(routes=[Route("/ussd/africastalking/{token}", screen, methods=["POST"])])
    observed = AccessLog(inner)
    root = logging.getLogger()
    root.handlers[:] = []
    print(f"load average {os.getloadavg()[0]:.2f}; {requests} requests per round, best of 5")
    bare = await per_request(inner, inner, requests)
    print(f"bare route                     {bare:7.1f} µs CPU/request")
    for style in ("json", "text"):
        configure("INFO", style, io.StringIO())
        cost = await per_request(observed, inner, requests)
        print(f"+ access line ({style:4}) + metrics {cost:7.1f} µs  (+{cost - bare:.1f})")
    logging.getLogger("bot.http.access").setLevel(logging.WARNING)
    cost = await per_request(observed, inner, requests)
    print(f"+ metrics only                 {cost:7.1f} µs  (+{cost - bare:.1f})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000)
    asyncio.run(main(parser.parse_args().requests))
