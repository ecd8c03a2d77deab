"""Redis-backed session store for production: shared by every worker process.

A request holds its session with ``hold``: one script takes the lock and reads the session (and
any notes asked for) in one round trip, another writes what the request staged and lets the lock
go in one more. That is two round trips per request, as few as a plain GET and SET. The lock is
a ``SET NX PX`` token, released only by its owner (a late release never frees someone else's).

Sessions and notes are stored sealed with the app's keys (``bot.sessions.base.Sealer``): Redis
never holds what a person typed, chose or was shown in clear.

The scripts touch the lock, session and note keys of one request together: on Redis Cluster
those keys would need a common hash tag. This store talks to one Redis (or Sentinel's primary).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection, ConnectionPool
from redis.exceptions import NoScriptError, RedisError, ResponseError

from bot.core.privacy import Cipher
from bot.sessions.base import (
    Held,
    Sealer,
    SessionBusy,
    SessionStore,
    check_lock_args,
    check_note,
    check_ttl,
    encode_state,
)
from bot.sessions.pipe import Pipe, pack, supports

logger = logging.getLogger(__name__)

LOCK_POLL_SECONDS = 0.05

ACQUIRE = """
if not redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
local found = {}
for i = 2, #KEYS do found[i - 1] = redis.call('get', KEYS[i]) end
return found
"""
"""KEYS: lock, then keys to read; ARGV: token, expiry (ms). Nil if the lock is taken, else the
values read (a missing key reads as nil)."""

RELEASE = """
for i = 2, #KEYS do
  local ttl = tonumber(ARGV[2 * i - 1])
  if ttl > 0 then
    redis.call('set', KEYS[i], ARGV[2 * i - 2], 'EX', ttl)
  elseif ttl < 0 then
    redis.call('set', KEYS[i], ARGV[2 * i - 2], 'XX', 'KEEPTTL')
  else
    redis.call('del', KEYS[i])
  end
end
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('del', KEYS[1])
  return 1
end
return 0
"""
"""KEYS: lock, then keys to write; ARGV: token, then a value and a TTL (s) per key to write, TTL 0
deleting it, a negative TTL replacing the value of a key that exists and keeping its expiry.
Writes, then deletes the lock if the token still owns it: 1 if it did, else 0."""


def _sha(script: str) -> str:
    """The name Redis gives a script (EVALSHA)."""
    return hashlib.sha1(script.encode(), usedforsecurity=False).hexdigest()


SHAS = {ACQUIRE: _sha(ACQUIRE), RELEASE: _sha(RELEASE)}


class QuietPool(ConnectionPool):
    """A pool that hands out an idle connection at once when nothing waits on it.

    redis-py checks every connection it hands out for unread data or a closed socket by reading
    with a zero timeout: a timer, a cancellation and a turn of the event loop, 4% of a USSD
    request. What arrived while a connection sat idle (an answer left unread, the end of a
    closed socket, an error) is already in its buffers, read by the event loop then: when they
    are empty the connection is handed out as it is, else redis-py's check runs (and connects a
    closed one again).
    """

    async def ensure_connection(self, connection: AbstractConnection) -> None:
        """Hand out a quiet connection as it is; check (and mend) any other."""
        if not _quiet(connection):
            await super().ensure_connection(connection)


def _quiet(connection: AbstractConnection) -> bool:
    """Is this a connected connection with nothing in its stream's or its parser's buffer?
    (Anything unexpected about it says no: the full check then runs.)"""
    stream = getattr(connection, "_reader", None)
    parser: Any = getattr(getattr(connection, "_parser", None), "_reader", None)  # hiredis
    return (
        connection.is_connected
        and isinstance(stream, asyncio.StreamReader)
        and stream.exception() is None
        and not stream.at_eof()
        and not getattr(stream, "_buffer", True)
        and callable(getattr(parser, "has_data", None))
        and not parser.has_data()
    )


Conn = Pipe | AbstractConnection | None
"""Where a command goes: the pipe, a connection held for the request, or the client's pool."""


def _token() -> str:
    """A lock owner's random token (uuid1, which redis-py uses, costs a system call)."""
    return secrets.token_hex(8)


class RedisSessionStore(SessionStore):
    """Sessions as sealed JSON strings with EX, seen-ids via SET NX EX, notes as sealed strings
    with EX, and per-session token locks.

    Sessions and notes are encrypted with ``cipher``, the app's keys (``Sealer``): every process
    sharing this Redis must be given the same key list (newest first, older keys kept until
    sessions sealed with them have expired).
    """

    def __init__(
        self, url: str, *, cipher: Cipher, prefix: str = "hotline:", pipelined: bool = True
    ) -> None:
        """Create a lazily-connecting client for `url`; every key is namespaced under `prefix`.
        ``pipelined=False``: each request on a pooled connection of its own (as with TLS)."""
        self._prefix = prefix
        self._sealer = Sealer(cipher)
        self._client: Redis = Redis.from_pool(QuietPool.from_url(url))
        self._pipe = Pipe(url) if pipelined and supports(url) else None
        """Where a request's two scripts go (with other requests' commands of the same turn)."""

    @classmethod
    def from_url(cls, url: str, *, cipher: Cipher, prefix: str = "hotline:") -> RedisSessionStore:
        """Alternative constructor mirroring redis-py's naming."""
        return cls(url, cipher=cipher, prefix=prefix)

    @property
    def prefix(self) -> str:
        """Namespace prepended to every key this store touches."""
        return self._prefix

    @property
    def client(self) -> Redis:
        """Underlying redis.asyncio client, for diagnostics and tests."""
        return self._client

    def session_key(self, key: str) -> str:
        """Redis key holding the session state for `key`."""
        return f"{self._prefix}session:{key}"

    def seen_key(self, key: str) -> str:
        """Redis key recording that `key` was seen by add_once."""
        return f"{self._prefix}seen:{key}"

    def lock_key(self, key: str) -> str:
        """Redis key holding the lock token for session `key`."""
        return f"{self._prefix}lock:{key}"

    def note_key(self, key: str) -> str:
        """Redis key holding the note `key` (see recall and remember)."""
        return f"{self._prefix}note:{key}"

    async def get(self, key: str) -> dict[str, Any] | None:
        """Return the decoded session under `key`, or None if missing, expired or refused."""
        raw = await self._client.get(self.session_key(key))
        return None if raw is None else self._sealer.open_state(key, raw)

    async def set(self, key: str, value: dict[str, Any], ttl: int) -> None:
        """Store `value` as sealed JSON with `SET key value EX ttl`; non-JSON values raise before
        I/O."""
        check_ttl(ttl)
        sealed = self._sealer.seal_state(key, encode_state(value))
        await self._client.set(self.session_key(key), sealed, ex=ttl)

    async def delete(self, key: str) -> None:
        """Forget the session under `key` if present."""
        await self._client.delete(self.session_key(key))

    async def add_once(self, key: str, ttl: int) -> bool:
        """Atomically record `key` with `SET NX EX`; True only for the first sighting."""
        check_ttl(ttl)
        return bool(await self._client.set(self.seen_key(key), b"1", nx=True, ex=ttl))

    async def forget(self, key: str) -> None:
        """Drop a recorded `key` so the next `add_once` for it is True again."""
        await self._client.delete(self.seen_key(key))

    async def recall(self, key: str) -> str | None:
        """The note under `key`, or None (also when refused)."""
        return self._note(key, await self._client.get(self.note_key(key)))

    async def remember(self, key: str, value: str, ttl: int) -> None:
        """Keep `value` sealed under `key` with `SET key value EX ttl`."""
        check_ttl(ttl)
        check_note(value)
        await self._client.set(self.note_key(key), self._sealer.seal_note(key, value), ex=ttl)

    async def rewrite(self, key: str, value: str) -> None:
        """Replace the note under `key` if it exists, keeping its expiry (`SET XX KEEPTTL`)."""
        check_note(value)
        sealed = self._sealer.seal_note(key, value)
        await self._client.set(self.note_key(key), sealed, xx=True, keepttl=True)

    def lock(
        self, key: str, *, timeout: float = 10.0, wait: float = 5.0
    ) -> AbstractAsyncContextManager[None]:
        """Hold the per-session lock; SessionBusy after `wait` s, auto-expiry after `timeout` s."""
        check_lock_args(timeout, wait)
        return self._locked(key, timeout, wait)

    async def ping(self) -> bool:
        """Return True if Redis answers PING, False on any connection or server error."""
        try:
            return bool(await self._client.ping())
        except (RedisError, OSError) as exc:
            logger.warning("redis session store ping failed: %s", exc)
            return False

    async def close(self) -> None:
        """Close the client, its connection pool and this loop's pipe."""
        if self._pipe is not None:
            await self._pipe.close()
        await self._client.aclose()

    def _note(self, key: str, raw: bytes | None) -> str | None:
        """A note as read from Redis, opened."""
        return None if raw is None else self._sealer.open_note(key, raw)

    async def _script(self, conn: Conn, script: str, keys: list[str], args: list[Any]) -> Any:
        """Run a script by its hash on ``conn`` (or on any pooled connection), loading it first
        if this Redis does not know it yet (after a restart or SCRIPT FLUSH)."""
        evalsha = ("EVALSHA", SHAS[script], len(keys), *keys, *args)
        try:
            return await self._command(conn, *evalsha)
        except NoScriptError:
            await self._command(conn, "SCRIPT", "LOAD", script)
            return await self._command(conn, *evalsha)

    async def _command(self, conn: Conn, *args: Any) -> Any:
        """One command on ``conn`` (a pipe or a held connection), or through the client."""
        if conn is None:
            return await self._client.execute_command(*args)  # type: ignore[no-untyped-call]
        if isinstance(conn, Pipe):
            return await conn.call(pack(args))
        return await _call(conn, *args)

    async def _acquire(
        self,
        conn: Conn,
        key: str,
        token: str,
        timeout: float,
        wait: float,
        reads: Sequence[str],
    ) -> list[bytes | None]:
        """Take the lock (polling until `wait` has passed) and read `reads` in the same trip."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        keys = [self.lock_key(key), *reads]
        args = [token, max(1, round(timeout * 1000))]
        while True:
            found = await self._script(conn, ACQUIRE, keys, args)
            if found is not None:
                return list(found)
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise SessionBusy(key)
            await asyncio.sleep(min(LOCK_POLL_SECONDS, remaining))

    async def _release(
        self,
        conn: Conn,
        key: str,
        token: str,
        writes: Sequence[tuple[str, str, int]],
    ) -> None:
        """Make `writes` (key, value, ttl; 0 deletes, < 0 keeps the expiry), then free the lock
        if still ours."""
        keys = [self.lock_key(key)]
        args: list[Any] = [token]
        for name, value, ttl in writes:
            keys.append(name)
            args += [value, ttl]
        if not await self._script(conn, RELEASE, keys, args):
            # The token check means we never delete another holder's lock; the key is a
            # pseudonym or a hash, so it is safe to log.
            logger.warning("session lock %r expired before release", key)

    @asynccontextmanager
    async def _locked(self, key: str, timeout: float, wait: float) -> AsyncIterator[None]:
        """Take the token lock, yield, and release it tolerating expiry."""
        token = _token()
        await self._acquire(self._pipe, key, token, timeout, wait, ())
        try:
            yield
        finally:
            await self._release(self._pipe, key, token, ())

    def _hold(
        self, key: str, recall: tuple[str, ...], timeout: float, wait: float
    ) -> AbstractAsyncContextManager[Held]:
        """Lock and read in one round trip; write what was staged and unlock in one more.

        Both go through the pipe, or (a TLS URL) over one connection taken from the pool for
        the request: the pool checks a connection each time it hands one out, which costs as
        much as a command.
        """
        if self._pipe is not None:
            return self._held(self._pipe, key, recall, timeout, wait)
        return self._pooled(key, recall, timeout, wait)

    @asynccontextmanager
    async def _pooled(
        self, key: str, recall: tuple[str, ...], timeout: float, wait: float
    ) -> AsyncIterator[Held]:
        pool = self._client.connection_pool
        conn: AbstractConnection = await pool.get_connection()
        try:
            async with self._held(conn, key, recall, timeout, wait) as held:
                yield held
        finally:
            await pool.release(conn)

    @asynccontextmanager
    async def _held(
        self, conn: Conn, key: str, recall: tuple[str, ...], timeout: float, wait: float
    ) -> AsyncIterator[Held]:
        token = _token()
        session = self.session_key(key)
        notes = [self.note_key(n) for n in recall]
        raw, *values = await self._acquire(conn, key, token, timeout, wait, [session, *notes])
        held = Held(
            None if raw is None else self._sealer.open_state(key, raw),
            {n: self._note(n, v) for n, v in zip(recall, values, strict=True)},
        )
        writes: list[tuple[str, str, int]] = []
        try:
            yield held
            if held.write is not None:
                value, ttl = held.write
                if value is None:
                    writes.append((session, "", 0))
                else:
                    writes.append((session, self._sealer.seal_state(key, value), ttl))
            writes += [
                (self.note_key(n), self._sealer.seal_note(n, v), t)
                for n, (v, t) in held.remembered.items()
            ]
        finally:
            await self._release(conn, key, token, writes)


async def _call(conn: AbstractConnection, *args: Any) -> Any:
    """One command on a connection this store holds. A connection that failed between sending
    and reading is dropped (disconnected), never handed back with an answer still to come."""
    try:
        await conn.send_packed_command(pack(args))
        return await conn.read_response()
    except ResponseError:
        raise  # an error answer: the connection is in step
    except BaseException:
        await conn.disconnect()
        raise
