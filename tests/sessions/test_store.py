"""Contract tests every SessionStore backend must pass (memory and real Redis)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from bot.sessions import SessionBusy, SessionStore

STATE: dict[str, Any] = {
    "flow": "report",
    "step": 3,
    "lang": "ln",
    "answers": {"what": "Nazali na posa ya lisalisi", "where": "Kinshasa – Gombe"},
    "history": ["start", "lang", 2, None, True, 1.5],
}


async def test_round_trip_of_nested_json_state(store: SessionStore) -> None:
    """A nested state with unicode, lists and ints comes back equal."""
    await store.set("ussd:abc", STATE, ttl=60)
    assert await store.get("ussd:abc") == STATE


async def test_missing_key_is_none(store: SessionStore) -> None:
    """A key never written reads as None."""
    assert await store.get("ussd:nobody") is None


async def test_set_replaces_previous_value(store: SessionStore) -> None:
    """A second set overwrites the first rather than merging."""
    await store.set("ussd:abc", {"step": 1, "old": True}, ttl=60)
    await store.set("ussd:abc", {"step": 2}, ttl=60)
    assert await store.get("ussd:abc") == {"step": 2}


async def test_delete(store: SessionStore) -> None:
    """Deleted sessions read as None and deleting twice is harmless."""
    await store.set("ussd:abc", STATE, ttl=60)
    await store.delete("ussd:abc")
    assert await store.get("ussd:abc") is None
    await store.delete("ussd:abc")


async def test_channels_are_independent(store: SessionStore) -> None:
    """The same pseudonym on two channels is two separate sessions."""
    await store.set("ussd:abc", {"channel": "ussd"}, ttl=60)
    await store.set("sms:abc", {"channel": "sms"}, ttl=60)
    await store.delete("sms:abc")
    assert await store.get("ussd:abc") == {"channel": "ussd"}
    assert await store.get("sms:abc") is None


async def test_mutating_returned_or_passed_dict_does_not_change_store(store: SessionStore) -> None:
    """Callers get copies: mutating either side of set/get leaves stored state alone."""
    value: dict[str, Any] = {"answers": ["a"], "step": 1}
    await store.set("ussd:abc", value, ttl=60)
    value["answers"].append("mutated-after-set")
    got = await store.get("ussd:abc")
    assert got == {"answers": ["a"], "step": 1}
    got["answers"].append("mutated-after-get")
    got["step"] = 99
    assert await store.get("ussd:abc") == {"answers": ["a"], "step": 1}


@pytest.mark.parametrize("bad", [{1, 2}, object(), b"bytes"])
async def test_non_json_value_raises_type_error(store: SessionStore, bad: object) -> None:
    """Values JSON cannot encode fail loudly on set and nothing is stored."""
    with pytest.raises(TypeError):
        await store.set("ussd:abc", {"state": bad}, ttl=60)
    assert await store.get("ussd:abc") is None


@pytest.mark.parametrize("ttl", [0, -1])
async def test_non_positive_ttl_is_rejected(store: SessionStore, ttl: int) -> None:
    """A zero or negative TTL is a programming error, rejected the same way by every backend."""
    with pytest.raises(ValueError, match="ttl"):
        await store.set("ussd:abc", {"step": 1}, ttl=ttl)
    with pytest.raises(ValueError, match="ttl"):
        await store.add_once("tg:update:1", ttl=ttl)


async def test_add_once_true_then_false(store: SessionStore) -> None:
    """The first sighting of a provider message id wins; retries are recognised."""
    assert await store.add_once("tg:update:42", ttl=60) is True
    assert await store.add_once("tg:update:42", ttl=60) is False
    assert await store.add_once("tg:update:43", ttl=60) is True


async def test_add_once_namespace_is_separate_from_sessions(store: SessionStore) -> None:
    """Seen-ids and sessions with the same key do not collide."""
    assert await store.add_once("ussd:abc", ttl=60) is True
    assert await store.get("ussd:abc") is None
    await store.set("sms:abc", {"step": 1}, ttl=60)
    assert await store.add_once("sms:abc", ttl=60) is True
    await store.delete("ussd:abc")
    assert await store.add_once("ussd:abc", ttl=60) is False


async def _increment(store: SessionStore, key: str) -> None:
    """Read-modify-write with a yield in the middle, the shape that loses updates."""
    state = await store.get(key) or {"count": 0}
    await asyncio.sleep(0.05)
    await store.set(key, {"count": state["count"] + 1}, ttl=60)


async def _locked_increment(store: SessionStore, key: str) -> None:
    """The same read-modify-write, serialised by the session lock."""
    async with store.lock(key):
        await _increment(store, key)


async def test_lock_serialises_read_modify_write(store: SessionStore) -> None:
    """Two concurrent locked increments both count (no lost update)."""
    await asyncio.gather(_locked_increment(store, "ussd:abc"), _locked_increment(store, "ussd:abc"))
    assert await store.get("ussd:abc") == {"count": 2}


async def test_locks_of_different_sessions_do_not_block_each_other(store: SessionStore) -> None:
    """Holding one session's lock does not delay another session."""
    async with store.lock("ussd:abc", wait=0), store.lock("sms:abc", wait=0):
        pass


async def test_waiter_raises_session_busy_after_wait(store: SessionStore) -> None:
    """A second request gives up with SessionBusy once `wait` has passed."""
    loop = asyncio.get_running_loop()
    async with store.lock("ussd:abc", timeout=5.0):
        started = loop.time()
        with pytest.raises(SessionBusy):
            async with store.lock("ussd:abc", wait=0.3):
                pytest.fail("entered a lock that is held")
        waited = loop.time() - started
    assert 0.2 <= waited < 1.5


async def test_lock_is_released_when_body_raises(store: SessionStore) -> None:
    """An exception inside the lock propagates and leaves the session unlocked."""
    with pytest.raises(RuntimeError, match="boom"):
        async with store.lock("ussd:abc"):
            raise RuntimeError("boom")
    async with store.lock("ussd:abc", wait=0):
        pass


async def test_expired_lock_lets_next_holder_in_and_late_release_is_harmless(
    store: SessionStore, caplog: pytest.LogCaptureFixture
) -> None:
    """A stuck holder loses the lock at `timeout`; late release neither raises nor frees ours."""
    loop = asyncio.get_running_loop()
    first_in = asyncio.Event()
    first_out = asyncio.Event()
    entered_at: list[float] = []

    async def stuck_holder() -> None:
        async with store.lock("ussd:abc", timeout=0.2):
            first_in.set()
            await asyncio.sleep(0.5)
        first_out.set()

    async def next_holder() -> None:
        await first_in.wait()
        async with store.lock("ussd:abc", timeout=5.0, wait=2.0):
            entered_at.append(loop.time())
            await first_out.wait()
            # The stuck holder has now "released": the lock must still be ours.
            with pytest.raises(SessionBusy):
                async with store.lock("ussd:abc", wait=0):
                    pytest.fail("late release freed someone else's lock")

    started = loop.time()
    with caplog.at_level(logging.WARNING, logger="bot.sessions"):
        await asyncio.gather(stuck_holder(), next_holder())
    assert 0.1 <= entered_at[0] - started < 0.5
    assert any("ussd:abc" in r.getMessage() and "expired" in r.getMessage() for r in caplog.records)
    async with store.lock("ussd:abc", wait=0):
        pass


async def test_lock_rejects_nonsense_timings(store: SessionStore) -> None:
    """A lock that never expires or waits negative time is refused."""
    with pytest.raises(ValueError, match="timeout"):
        store.lock("ussd:abc", timeout=0)
    with pytest.raises(ValueError, match="wait"):
        store.lock("ussd:abc", wait=-1)


async def test_ping(store: SessionStore) -> None:
    """A working backend answers ping."""
    assert await store.ping() is True


async def test_forget_lets_a_retry_through(store: SessionStore) -> None:
    """After failed work, forgetting an id makes the provider's retry count as new."""
    assert await store.add_once("sms-in:ATXid_1", ttl=60) is True
    await store.forget("sms-in:ATXid_1")
    assert await store.add_once("sms-in:ATXid_1", ttl=60) is True
    assert await store.add_once("sms-in:ATXid_1", ttl=60) is False
    await store.forget("sms-in:never-seen")
