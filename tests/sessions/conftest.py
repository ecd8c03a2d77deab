"""Session-store fixtures: every contract test runs on the in-process store and on real Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import uuid4

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.core.privacy import Cipher, new_key
from bot.sessions import MemorySessionStore, RedisSessionStore, SessionStore
from tests.conftest import REDIS_URL, service_missing

CIPHER = Cipher((new_key(),))
"""The app's keys, as far as these tests go: one random key for the whole test run."""


class FakeClock:
    """Manually advanced clock so memory-store TTL tests need no sleeping."""

    def __init__(self, now: float = 1000.0) -> None:
        """Start at an arbitrary non-zero time."""
        self.now = now

    def __call__(self) -> float:
        """Return the current fake time."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward by `seconds`."""
        self.now += seconds


async def _probe_redis() -> None:
    """Skip (laptop) or fail (CI) the test when the Redis server does not answer PING."""
    probe = Redis.from_url(REDIS_URL, socket_connect_timeout=2.0)
    try:
        await probe.ping()
    except (RedisError, OSError) as exc:
        service_missing("Redis", f"{REDIS_URL}: {exc}")
    finally:
        await probe.aclose()


async def _delete_prefix(client: Redis, prefix: str) -> None:
    """Delete only this test's keys; never FLUSHDB, the database may be shared."""
    keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=500)]
    if keys:
        await client.delete(*keys)


@pytest.fixture
def clock() -> FakeClock:
    """A fresh fake clock per test."""
    return FakeClock()


@pytest.fixture
async def memory_store(clock: FakeClock) -> AsyncIterator[MemorySessionStore]:
    """In-process store driven by the fake clock."""
    store = MemorySessionStore(clock=clock)
    yield store
    await store.close()


@asynccontextmanager
async def open_redis_store(*, pipelined: bool = True) -> AsyncIterator[RedisSessionStore]:
    """Redis store under a unique per-test prefix, whose keys are removed afterwards
    (``pipelined=False``: a pooled connection per request, as with a TLS URL)."""
    await _probe_redis()
    store = RedisSessionStore(
        REDIS_URL, cipher=CIPHER, prefix=f"test:{uuid4().hex}:", pipelined=pipelined
    )
    try:
        yield store
    finally:
        await _delete_prefix(store.client, store.prefix)
        await store.close()


@pytest.fixture
async def redis_store() -> AsyncIterator[RedisSessionStore]:
    """Redis-only tests (TTL on the server, key layout, real expiry)."""
    async with open_redis_store() as store:
        yield store


@pytest.fixture
async def pooled_redis_store() -> AsyncIterator[RedisSessionStore]:
    """The Redis store without its pipe: each request on a pooled connection."""
    async with open_redis_store(pipelined=False) as store:
        yield store


@pytest.fixture(params=["memory", "redis", "redis-pooled"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[SessionStore]:
    """Each backend in turn; the memory one uses the real monotonic clock like Redis does."""
    if request.param == "memory":
        memory = MemorySessionStore()
        yield memory
        await memory.close()
        return
    async with open_redis_store(pipelined=request.param == "redis") as redis_store:
        yield redis_store
