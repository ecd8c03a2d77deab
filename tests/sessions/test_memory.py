"""In-process store specifics: fake-clock expiry, sweeping and lock bookkeeping."""

from __future__ import annotations

import asyncio

import pytest

from bot.sessions import MemorySessionStore, SessionBusy, make_store
from tests.sessions.conftest import CIPHER, FakeClock
from tests.sessions.test_store import _increment, _locked_increment


async def test_session_expires_after_ttl(
    memory_store: MemorySessionStore, clock: FakeClock
) -> None:
    """A session is live until its TTL passes and gone afterwards."""
    await memory_store.set("ussd:abc", {"step": 1}, ttl=30)
    clock.advance(29.9)
    assert await memory_store.get("ussd:abc") == {"step": 1}
    clock.advance(0.2)
    assert await memory_store.get("ussd:abc") is None


async def test_set_refreshes_ttl(memory_store: MemorySessionStore, clock: FakeClock) -> None:
    """Writing a session again restarts its TTL, as SET EX does on Redis."""
    await memory_store.set("ussd:abc", {"step": 1}, ttl=30)
    clock.advance(20)
    await memory_store.set("ussd:abc", {"step": 2}, ttl=30)
    clock.advance(20)
    assert await memory_store.get("ussd:abc") == {"step": 2}


async def test_add_once_is_true_again_after_expiry(
    memory_store: MemorySessionStore, clock: FakeClock
) -> None:
    """A seen-id is forgotten after its TTL, so the id may be accepted again."""
    assert await memory_store.add_once("sms:msg-1", ttl=10) is True
    clock.advance(9)
    assert await memory_store.add_once("sms:msg-1", ttl=10) is False
    clock.advance(1)
    assert await memory_store.add_once("sms:msg-1", ttl=10) is True


async def test_expired_entries_are_swept_on_writes(clock: FakeClock) -> None:
    """Abandoned sessions and seen-ids are removed by the periodic sweep, not only on access."""
    store = MemorySessionStore(clock=clock, sweep_every=4)
    await store.set("ussd:a", {"n": 1}, ttl=5)
    await store.set("ussd:b", {"n": 2}, ttl=5)
    await store.add_once("tg:update:1", ttl=5)
    clock.advance(6)
    assert len(store._sessions) == 2  # white-box: nothing swept yet
    await store.set("ussd:c", {"n": 3}, ttl=5)  # 4th write triggers the sweep
    assert set(store._sessions) == {"ussd:c"}
    assert store._seen == {}
    assert store.sweep() == 0


async def test_lost_update_happens_without_lock() -> None:
    """Proves the lock test can detect races: unlocked increments lose one update."""
    store = MemorySessionStore()
    await asyncio.gather(_increment(store, "ussd:abc"), _increment(store, "ussd:abc"))
    assert await store.get("ussd:abc") == {"count": 1}


async def test_lock_objects_are_discarded_when_unused() -> None:
    """Per-key lock state does not accumulate after holders, busy waiters or cancelled waiters."""
    store = MemorySessionStore()
    await asyncio.gather(*(_locked_increment(store, f"ussd:{i}") for i in range(20)))
    assert store._locks == {}

    async with store.lock("ussd:abc"):
        with pytest.raises(SessionBusy):
            async with store.lock("ussd:abc", wait=0.01):
                pass
        waiter = asyncio.create_task(_locked_increment(store, "ussd:abc"))
        await asyncio.sleep(0.01)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert store._locks["ussd:abc"].users == 1
    assert store._locks == {}


async def test_many_waiters_all_get_through_in_turn() -> None:
    """Several queued requests for one session each get the lock once, none lost."""
    store = MemorySessionStore()
    await asyncio.gather(*(_locked_increment(store, "ussd:abc") for _ in range(5)))
    assert await store.get("ussd:abc") == {"count": 5}
    assert store._locks == {}


async def test_close_drops_state() -> None:
    """Closing the embedded store frees its memory."""
    store = MemorySessionStore()
    await store.set("ussd:abc", {"step": 1}, ttl=60)
    await store.close()
    assert await store.get("ussd:abc") is None


@pytest.mark.parametrize("url", [None, ""])
async def test_make_store_without_url_is_memory(url: str | None) -> None:
    """No Redis configured means the embedded store."""
    store = make_store(url, cipher=CIPHER)
    assert isinstance(store, MemorySessionStore)
    await store.close()


async def test_a_note_expires_after_its_ttl_and_is_swept(clock: FakeClock) -> None:
    """Notes live for their own TTL (days, for a language) and are swept like the rest."""
    store = MemorySessionStore(clock=clock, sweep_every=2)
    await store.remember("lang:a", "fr", ttl=90 * 86400)
    clock.advance(90 * 86400 - 1)
    assert await store.recall("lang:a") == "fr"
    clock.advance(2)
    assert store._notes, "white-box: still there until read or swept"
    await store.set("ussd:x", {"n": 1}, ttl=5)  # 2nd write triggers the sweep
    assert store._notes == {}
    await store.remember("lang:b", "ln", ttl=10)
    clock.advance(11)
    assert await store.recall("lang:b") is None


async def test_hold_writes_with_the_session_ttl(
    memory_store: MemorySessionStore, clock: FakeClock
) -> None:
    """What hold saves expires like set() would."""
    async with memory_store.hold("ussd:abc") as held:
        held.save({"step": 1}, 30)
    clock.advance(29)
    assert await memory_store.get("ussd:abc") == {"step": 1}
    clock.advance(2)
    assert await memory_store.get("ussd:abc") is None


async def test_close_drops_notes() -> None:
    """Closing the store forgets notes too."""
    store = MemorySessionStore()
    await store.remember("lang:a", "fr", ttl=60)
    await store.close()
    assert await store.recall("lang:a") is None
