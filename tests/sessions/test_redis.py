"""Redis store specifics: server-side TTLs, key layout and real expiry."""

from __future__ import annotations

import asyncio

from bot.sessions import RedisSessionStore, make_store
from tests.conftest import REDIS_URL


async def test_session_key_layout_and_ttl(redis_store: RedisSessionStore) -> None:
    """Sessions live at {prefix}session:{key} as JSON with a server-side TTL."""
    await redis_store.set("ussd:abc", {"step": 1}, ttl=30)
    key = f"{redis_store.prefix}session:ussd:abc"
    assert await redis_store.client.get(key) == b'{"step":1}'
    pttl = await redis_store.client.pttl(key)
    assert 0 < pttl <= 30_000


async def test_add_once_key_layout_and_ttl(redis_store: RedisSessionStore) -> None:
    """Seen-ids live at {prefix}seen:{key} with a TTL, apart from sessions."""
    assert await redis_store.add_once("tg:update:7", ttl=60)
    pttl = await redis_store.client.pttl(f"{redis_store.prefix}seen:tg:update:7")
    assert 0 < pttl <= 60_000


async def test_lock_key_layout_and_expiry(redis_store: RedisSessionStore) -> None:
    """The lock lives at {prefix}lock:{key} with a PX expiry and is deleted on release."""
    key = f"{redis_store.prefix}lock:ussd:abc"
    async with redis_store.lock("ussd:abc", timeout=3.0):
        assert 0 < await redis_store.client.pttl(key) <= 3_000
    assert await redis_store.client.exists(key) == 0


async def test_one_second_ttl_really_expires(redis_store: RedisSessionStore) -> None:
    """Slow test: Redis drops a 1 s session and seen-id after ~1.2 s."""
    await redis_store.set("ussd:abc", {"step": 1}, ttl=1)
    assert await redis_store.add_once("sms:msg-1", ttl=1) is True
    assert await redis_store.add_once("sms:msg-1", ttl=1) is False
    await asyncio.sleep(1.2)
    assert await redis_store.get("ussd:abc") is None
    assert await redis_store.add_once("sms:msg-1", ttl=1) is True


async def test_two_stores_share_state_through_redis(redis_store: RedisSessionStore) -> None:
    """A second process (store instance) with the same prefix sees the same sessions and locks."""
    other = RedisSessionStore(REDIS_URL, prefix=redis_store.prefix)
    try:
        await redis_store.set("ussd:abc", {"step": 4}, ttl=30)
        assert await other.get("ussd:abc") == {"step": 4}
        assert await redis_store.add_once("tg:update:9", ttl=30) is True
        assert await other.add_once("tg:update:9", ttl=30) is False
    finally:
        await other.close()


async def test_ping_false_when_unreachable() -> None:
    """An unreachable server makes ping False instead of raising, for health checks."""
    store = RedisSessionStore("redis://127.0.0.1:1/0")
    try:
        assert await store.ping() is False
    finally:
        await store.close()


async def test_make_store_with_url_is_redis() -> None:
    """A configured Redis URL selects the Redis backend (no connection needed to construct)."""
    store = make_store(REDIS_URL)
    assert isinstance(store, RedisSessionStore)
    assert store.prefix == "hotline:"
    await store.close()
