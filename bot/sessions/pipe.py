"""Commands of concurrent requests on one Redis connection, written together once per turn of
the event loop (what ioredis calls auto-pipelining).

Every USSD request makes two round trips to Redis (``bot.sessions.redis``). On a connection of
its own each is a write and a read system call, and on loopback the write also runs the
receiving side's TCP stack: sampled under load, writing to Redis was 13% of the event loop's
time. Here a command is queued with a future; the commands the loop's tasks queue in one turn
leave in one write at the end of it, and the answers, which Redis sends in the order the
commands came, resolve the futures in that order as they are read. A caller that gave up
(cancelled) has its answer read and dropped, so the order is never lost.

One connection per event loop, connected when first needed and again after it is lost; a lost
connection fails every command waiting on it with redis-py's ``ConnectionError`` (a command
may or may not have run, as with any client). ``redis://`` and ``unix://`` URLs only: the
store keeps redis-py's pool for others (TLS).
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import hiredis
from redis import exceptions as errors
from redis.asyncio.connection import parse_url

CONNECT_SECONDS = 5.0


class Pipe:
    """A Redis connection per event loop shared by every caller; ``call`` sends one packed
    command (RESP) and returns its answer (hiredis' types: bytes, int, list, None)."""

    def __init__(self, url: str) -> None:
        if not supports(url):
            raise ValueError("a pipe needs a redis:// or unix:// URL")
        self._options: dict[str, Any] = dict(parse_url(url))
        self._links: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Link] = (
            weakref.WeakKeyDictionary()
        )
        self._opening: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task[_Link]] = (
            weakref.WeakKeyDictionary()
        )

    async def call(self, packed: bytes) -> Any:
        """Send a command with the others of this turn and wait for its answer."""
        link = self._links.get(asyncio.get_running_loop())
        if link is None or link.closed:
            link = await self._connect()
        return await link.send(packed)

    async def close(self) -> None:
        """Close this loop's connection (others close with their loops)."""
        link = self._links.pop(asyncio.get_running_loop(), None)
        if link is not None:
            link.close()

    async def _connect(self) -> _Link:
        """This loop's connection, opened by one attempt that every caller arriving meanwhile
        shares: when Redis is away they all fail together, none waits behind another's try."""
        loop = asyncio.get_running_loop()
        opening = self._opening.get(loop)
        if opening is None:
            opening = self._opening[loop] = loop.create_task(self._open(loop))
            opening.add_done_callback(self._opened)
        return await asyncio.shield(opening)  # a caller that gives up leaves it to the others

    def _opened(self, opening: asyncio.Task[_Link]) -> None:
        self._opening.pop(opening.get_loop(), None)
        if not opening.cancelled() and opening.exception() is None:
            self._links[opening.get_loop()] = opening.result()

    async def _open(self, loop: asyncio.AbstractEventLoop) -> _Link:
        link = _Link(loop)
        options = self._options
        try:
            async with asyncio.timeout(CONNECT_SECONDS):
                if "path" in options:
                    await loop.create_unix_connection(lambda: link, options["path"])
                else:
                    host, port = options.get("host", "localhost"), options.get("port", 6379)
                    await loop.create_connection(lambda: link, host, port)
                for command in _hello(options):
                    await link.send(command)
        except TimeoutError as exc:  # asyncio's, the builtin
            link.close()
            raise errors.TimeoutError("Timeout connecting to Redis") from exc
        except OSError as exc:
            link.close()
            raise errors.ConnectionError(f"Error connecting to Redis: {exc.strerror}") from exc
        except BaseException:
            link.close()
            raise
        return link


def supports(url: str) -> bool:
    """Can a pipe talk to this Redis (plain TCP or a Unix socket)?"""
    return urlsplit(url).scheme in ("redis", "unix")


def _hello(options: dict[str, Any]) -> list[bytes]:
    """What a new connection sends first: AUTH when the URL has a password, SELECT a db."""
    commands = []
    if options.get("password"):
        user = options.get("username")
        commands.append(pack(["AUTH", *([user] if user else []), options["password"]]))
    if options.get("db"):
        commands.append(pack(["SELECT", int(options["db"])]))
    return commands


class _Link(asyncio.Protocol):
    """One connection: commands queued this turn, futures waiting in the order sent."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.parser = hiredis.Reader()
        self.waiting: deque[asyncio.Future[Any]] = deque()
        self.outgoing: list[bytes] = []
        self.flushing = False
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self, packed: bytes) -> asyncio.Future[Any]:
        """Queue a command; its answer resolves the future returned."""
        if self.closed:
            raise errors.ConnectionError("Redis connection lost")
        future = self.loop.create_future()
        self.waiting.append(future)
        self.outgoing.append(packed)
        if not self.flushing:
            self.flushing = True
            self.loop.call_soon(self._flush)
        return future

    def _flush(self) -> None:
        self.flushing = False
        if self.outgoing and self.transport is not None and not self.closed:
            self.transport.write(b"".join(self.outgoing))
        self.outgoing.clear()

    def data_received(self, data: bytes) -> None:
        self.parser.feed(data)
        while True:
            try:
                reply = self.parser.gets()
            except hiredis.ProtocolError:
                self.close()  # out of step: every waiting caller fails, a new connection follows
                return
            if reply is False:
                return
            future = self.waiting.popleft()
            if future.done():  # its caller gave up; the answer is dropped, the order kept
                continue
            if isinstance(reply, hiredis.ReplyError):
                message = str(reply)
                error = (
                    errors.NoScriptError if message.startswith("NOSCRIPT") else errors.ResponseError
                )
                future.set_exception(error(message))
            else:
                future.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.outgoing.clear()
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(errors.ConnectionError("Redis connection lost"))

    def close(self) -> None:
        """Close the connection; waiting callers fail."""
        if self.transport is not None:
            self.transport.close()
        self.connection_lost(None)


def pack(args: Sequence[Any]) -> bytes:
    """A command in Redis's protocol (RESP), in one string: the store's commands are a few
    text, bytes and int arguments, which redis-py's general packer took a tenth of a request to
    encode (an encoder call and a copy per argument)."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        kind = type(arg)
        if kind is str:
            data = arg.encode()
        elif kind is bytes:
            data = arg
        elif kind is int:
            data = b"%d" % arg
        elif isinstance(arg, str):  # subclasses (an enum's value), rarely
            data = str(arg).encode()
        elif isinstance(arg, bytes):
            data = bytes(arg)
        elif isinstance(arg, int) and kind is not bool:
            data = b"%d" % arg
        else:
            raise TypeError(f"a Redis argument is str, bytes or int, not {kind.__name__}")
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)
