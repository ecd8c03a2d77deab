"""Redis store specifics: server-side TTLs, key layout and real expiry."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection, Connection

from bot.sessions import RedisSessionStore, make_store
from bot.sessions.pipe import Pipe, pack
from tests.conftest import REDIS_URL
from tests.sessions.conftest import CIPHER, open_redis_store


async def test_session_key_layout_and_ttl(redis_store: RedisSessionStore) -> None:
    """Sessions live at {prefix}session:{key} as sealed JSON with a server-side TTL."""
    await redis_store.set("ussd:abc", {"step": 1}, ttl=30)
    key = f"{redis_store.prefix}session:ussd:abc"
    raw = await redis_store.client.get(key)
    assert CIPHER.decrypt(raw.decode(), "session.state:ussd:abc") == '{"step":1}'
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
    other = RedisSessionStore(REDIS_URL, cipher=CIPHER, prefix=redis_store.prefix)
    try:
        await redis_store.set("ussd:abc", {"step": 4}, ttl=30)
        assert await other.get("ussd:abc") == {"step": 4}
        assert await redis_store.add_once("tg:update:9", ttl=30) is True
        assert await other.add_once("tg:update:9", ttl=30) is False
    finally:
        await other.close()


async def test_ping_false_when_unreachable() -> None:
    """An unreachable server makes ping False instead of raising, for health checks."""
    store = RedisSessionStore("redis://127.0.0.1:1/0", cipher=CIPHER)
    try:
        assert await store.ping() is False
    finally:
        await store.close()


async def test_make_store_with_url_is_redis() -> None:
    """A configured Redis URL selects the Redis backend (no connection needed to construct)."""
    store = make_store(REDIS_URL, cipher=CIPHER)
    assert isinstance(store, RedisSessionStore)
    assert store.prefix == "hotline:"
    await store.close()


async def test_note_key_layout_and_ttl(redis_store: RedisSessionStore) -> None:
    """Notes live at {prefix}note:{key} sealed, with a server-side TTL."""
    await redis_store.remember("lang:abc", "fr", ttl=90 * 86400)
    key = f"{redis_store.prefix}note:lang:abc"
    raw = await redis_store.client.get(key)
    assert CIPHER.decrypt(raw.decode(), "session.note:lang:abc") == "fr"
    assert 89 * 86400 < await redis_store.client.ttl(key) <= 90 * 86400


async def test_hold_writes_session_and_note_with_their_ttls(
    redis_store: RedisSessionStore,
) -> None:
    """One release writes the session (session TTL), the note (its own TTL) and unlocks."""
    async with redis_store.hold("ussd:abc", recall=["lang:abc"]) as held:
        assert await redis_store.client.exists(f"{redis_store.prefix}lock:ussd:abc") == 1
        held.save({"step": 1}, 30)
        held.remember("lang:abc", "ln", 86400)
    client = redis_store.client
    assert await redis_store.get("ussd:abc") == {"step": 1}
    assert await redis_store.recall("lang:abc") == "ln"
    assert 0 < await client.ttl(f"{redis_store.prefix}session:ussd:abc") <= 30
    assert 86000 < await client.ttl(f"{redis_store.prefix}note:lang:abc") <= 86400
    assert await client.exists(f"{redis_store.prefix}lock:ussd:abc") == 0


async def test_hold_takes_two_round_trips(
    redis_store: RedisSessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lock and read in one command, write and unlock in one more: every command sent to Redis
    during a held request is counted, and there are two."""
    await redis_store.set("ussd:abc", {"step": 1}, ttl=30)
    async with redis_store.hold("ussd:warm-up"):  # scripts loaded, a connection made
        pass
    sent: list[bytes] = []
    real = Pipe.call

    async def counting(self: Pipe, packed: bytes) -> Any:
        sent.append(packed[:40])
        return await real(self, packed)

    monkeypatch.setattr(Pipe, "call", counting)
    async with redis_store.hold("ussd:abc", recall=["lang:abc"]) as held:
        held.save({"step": 2}, 30)
        held.remember("lang:abc", "fr", 60)
    assert len(sent) == 2, sent
    assert await redis_store.get("ussd:abc") == {"step": 2}


async def test_hold_on_a_pooled_connection_takes_two_round_trips(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same without the pipe (a TLS URL): two commands on the connection held."""
    async with open_redis_store(pipelined=False) as store:
        await store.set("ussd:abc", {"step": 1}, ttl=30)
        async with store.hold("ussd:warm-up"):
            pass
        sent: list[str] = []
        real = AbstractConnection.send_packed_command

        async def counting(
            self: AbstractConnection, command: Any, check_health: bool = True
        ) -> None:
            sent.append(repr(command)[:40])
            await real(self, command, check_health)

        monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)
        async with store.hold("ussd:abc", recall=["lang:abc"]) as held:
            held.save({"step": 2}, 30)
            held.remember("lang:abc", "fr", 60)
        assert len(sent) == 2, sent
        assert await store.get("ussd:abc") == {"step": 2}


async def test_hold_survives_a_script_flush(redis_store: RedisSessionStore) -> None:
    """After a Redis restart (or SCRIPT FLUSH) the scripts are loaded again, not failed on."""
    async with redis_store.hold("ussd:abc") as held:
        held.save({"step": 1}, 30)
    await redis_store.client.script_flush()
    async with redis_store.hold("ussd:abc") as held:
        assert held.value == {"step": 1}
        await redis_store.client.script_flush()  # gone again before the release
        held.save({"step": 2}, 30)
    assert await redis_store.get("ussd:abc") == {"step": 2}
    await redis_store.client.script_flush()
    async with redis_store.lock("ussd:abc", wait=0):
        pass
    assert await redis_store.client.exists(f"{redis_store.prefix}lock:ussd:abc") == 0


async def test_a_cancelled_hold_leaves_no_connection_out_of_step(
    redis_store: RedisSessionStore,
) -> None:
    """A request cancelled mid-way (a client gone) does not leave an answer unread on a pooled
    connection that the next request would then read as its own."""
    await redis_store.set("ussd:abc", {"step": 1}, ttl=30)

    async def slow() -> None:
        async with redis_store.hold("ussd:abc", timeout=0.5) as held:
            await asyncio.sleep(10)
            held.save({"step": 99}, 30)

    task = asyncio.create_task(slow())
    await asyncio.sleep(0.1)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    for _ in range(20):
        async with redis_store.hold("ussd:abc", wait=1.0) as held:
            assert held.value == {"step": 1}
        assert await redis_store.get("ussd:abc") == {"step": 1}


async def test_a_connection_the_server_closed_is_replaced_without_an_error(
    pooled_redis_store: RedisSessionStore,
) -> None:
    """After a Redis restart or an idle timeout (here: CLIENT KILL of the pooled connections),
    the next request still gets its session, on a new connection."""
    async with pooled_redis_store.hold("ussd:abc") as held:
        held.save({"step": 1}, 30)
    pool = pooled_redis_store.client.connection_pool
    idle = list(pool._available_connections)  # white-box: what the next request would take
    assert idle
    admin = Redis.from_url(REDIS_URL)
    try:
        for conn in idle:
            await conn.send_command("CLIENT", "ID")
            assert await admin.client_kill_filter(_id=await conn.read_response()) == 1
    finally:
        await admin.aclose()
    async with pooled_redis_store.hold("ussd:abc") as held:
        assert held.value == {"step": 1}
        held.save({"step": 2}, 30)
    assert await pooled_redis_store.get("ussd:abc") == {"step": 2}


def test_a_command_is_packed_as_redis_py_packs_it() -> None:
    """The store's own packer writes what redis-py's general one writes (RESP), and refuses
    an argument it does not know how to write."""
    conn = Connection()
    for args in [
        ("EVALSHA", "0" * 40, 2, "hotline:lock:k", "hotline:session:k", "token", 10_000),
        ("SCRIPT", "LOAD", "return 'é'\n"),
        ("SET", b"\x00\xff", "v1.x", -1),
    ]:
        assert pack(args) == b"".join(conn.pack_command(*args))

    class Name(str):
        pass

    assert pack((Name("GET"), Name("k"))) == b"".join(conn.pack_command("GET", "k"))
    for wrong in (1.5, True, None):
        with pytest.raises(TypeError):
            pack(("SET", "k", wrong))


async def test_an_idle_connection_is_handed_out_without_a_read(
    pooled_redis_store: RedisSessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A quiet pooled connection is reused without redis-py's zero-timeout read; one with an
    answer left unread is checked, dropped and connected again, never read as the next
    request's answer."""
    async with pooled_redis_store.hold("ussd:abc") as held:
        held.save({"step": 1}, 30)
    pool = pooled_redis_store.client.connection_pool
    (idle,) = list(pool._available_connections)  # white-box: what the next request takes
    checks: list[int] = []
    real: Any = idle.can_read_destructive

    async def counted() -> bool:
        checks.append(1)
        return bool(await real())

    monkeypatch.setattr(idle, "can_read_destructive", counted)
    async with pooled_redis_store.hold("ussd:abc") as held:
        assert held.value == {"step": 1}
    assert checks == []
    await idle.send_command("PING")  # an answer nobody reads
    await asyncio.sleep(0.2)
    async with pooled_redis_store.hold("ussd:abc") as held:
        assert held.value == {"step": 1}
        held.save({"step": 2}, 30)
    assert checks, "a connection with unread data is checked"
    assert await pooled_redis_store.get("ussd:abc") == {"step": 2}
