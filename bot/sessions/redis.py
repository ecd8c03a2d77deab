"""Redis-backed session store for production: shared by every worker process."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import LockError, LockNotOwnedError, RedisError

from bot.sessions.base import (
    SessionBusy,
    SessionStore,
    check_lock_args,
    check_ttl,
    decode_state,
    encode_state,
)

logger = logging.getLogger(__name__)

LOCK_POLL_SECONDS = 0.05


class RedisSessionStore(SessionStore):
    """Sessions as JSON strings with EX, seen-ids via SET NX EX, locks via redis-py's Lock."""

    def __init__(self, url: str, *, prefix: str = "hotline:") -> None:
        """Create a lazily-connecting client for `url`; every key is namespaced under `prefix`."""
        self._prefix = prefix
        self._client: Redis = Redis.from_url(url)

    @classmethod
    def from_url(cls, url: str, *, prefix: str = "hotline:") -> RedisSessionStore:
        """Alternative constructor mirroring redis-py's naming."""
        return cls(url, prefix=prefix)

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

    async def get(self, key: str) -> dict[str, Any] | None:
        """Return the decoded session under `key`, or None if missing or expired."""
        raw = await self._client.get(self.session_key(key))
        return None if raw is None else decode_state(raw)

    async def set(self, key: str, value: dict[str, Any], ttl: int) -> None:
        """Store `value` as JSON with `SET key value EX ttl`; non-JSON values raise before I/O."""
        check_ttl(ttl)
        await self._client.set(self.session_key(key), encode_state(value), ex=ttl)

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
        """Close the client and its connection pool."""
        await self._client.aclose()

    @asynccontextmanager
    async def _locked(self, key: str, timeout: float, wait: float) -> AsyncIterator[None]:
        """Acquire redis-py's token lock, yield, and release tolerating expiry."""
        lock = self._client.lock(
            self.lock_key(key),
            timeout=timeout,
            sleep=LOCK_POLL_SECONDS,
            blocking=True,
            blocking_timeout=wait,
            thread_local=False,  # one Lock object per acquisition; tasks share a thread
        )
        try:
            acquired = await lock.acquire()
        except LockError as exc:
            raise SessionBusy(key) from exc
        if not acquired:
            raise SessionBusy(key)
        try:
            yield
        finally:
            try:
                await lock.release()
            except LockNotOwnedError:
                # The token check in redis-py's release script means we never delete another
                # holder's lock; the key is a pseudonym, so it is safe to log.
                logger.warning("session lock %r expired before release", key)
