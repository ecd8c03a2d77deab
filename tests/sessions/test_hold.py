"""Contract tests of ``hold`` (lock, read, write on release) and of notes, on every backend."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.sessions import SessionBusy, SessionStore

STATE = {"flow": "main", "state": "menu", "lang": "fr", "inputs": ["2"]}


async def test_hold_reads_the_session_and_saves_what_was_staged(store: SessionStore) -> None:
    """The body sees the stored session; what it stages is written when the lock is let go."""
    async with store.hold("ussd:abc") as held:
        assert held.value is None
        held.save(STATE, 60)
        assert await store.get("ussd:abc") is None, "nothing is written before the release"
    assert await store.get("ussd:abc") == STATE
    async with store.hold("ussd:abc") as held:
        assert held.value == STATE
        held.value["state"] = "changed"  # a copy: changing it changes nothing stored
    assert await store.get("ussd:abc") == STATE


async def test_hold_without_staged_writes_leaves_the_session_alone(store: SessionStore) -> None:
    """Only what is staged is written."""
    await store.set("ussd:abc", STATE, ttl=60)
    async with store.hold("ussd:abc") as held:
        assert held.write is None
    assert await store.get("ussd:abc") == STATE


async def test_hold_can_delete_the_session(store: SessionStore) -> None:
    """A staged delete forgets the session on release."""
    await store.set("ussd:abc", STATE, ttl=60)
    async with store.hold("ussd:abc") as held:
        held.delete()
    assert await store.get("ussd:abc") is None
    async with store.hold("ussd:never") as held:
        held.delete()  # deleting what is not there is fine
    assert await store.get("ussd:never") is None


async def test_nothing_is_written_when_the_body_raises_and_the_lock_is_free(
    store: SessionStore,
) -> None:
    """A failure after staging writes nothing (nothing was acknowledged) and unlocks."""
    await store.set("ussd:abc", STATE, ttl=60)
    with pytest.raises(RuntimeError, match="boom"):
        async with store.hold("ussd:abc", recall=["lang:x"]) as held:
            held.save({"state": "lost"}, 60)
            held.remember("lang:x", "st", 60)
            raise RuntimeError("boom")
    assert await store.get("ussd:abc") == STATE
    assert await store.recall("lang:x") is None
    async with store.hold("ussd:abc", wait=0):
        pass


async def test_hold_is_the_session_lock(store: SessionStore) -> None:
    """While one request holds a session, another waits (or gives up with SessionBusy), and
    lock() and hold() exclude each other."""
    async with store.hold("ussd:abc"):
        with pytest.raises(SessionBusy):
            async with store.hold("ussd:abc", wait=0.1):
                pytest.fail("entered a held session")
        with pytest.raises(SessionBusy):
            async with store.lock("ussd:abc", wait=0):
                pytest.fail("locked a held session")
    async with store.lock("ussd:abc"):
        with pytest.raises(SessionBusy):
            async with store.hold("ussd:abc", wait=0):
                pytest.fail("held a locked session")


async def test_concurrent_holds_apply_one_after_the_other(store: SessionStore) -> None:
    """Read-modify-write under hold loses no update."""

    async def increment() -> None:
        async with store.hold("ussd:abc") as held:
            count = (held.value or {"count": 0})["count"]
            await asyncio.sleep(0.05)
            held.save({"count": count + 1}, 60)

    await asyncio.gather(increment(), increment(), increment())
    assert await store.get("ussd:abc") == {"count": 3}


async def test_a_late_release_still_writes_but_never_frees_the_next_holder(
    store: SessionStore, caplog: pytest.LogCaptureFixture
) -> None:
    """A holder whose lock expired writes as before (and warns); the lock it lost stays with
    whoever took it."""
    first_in = asyncio.Event()
    first_out = asyncio.Event()

    async def stuck() -> None:
        async with store.hold("ussd:abc", timeout=0.2) as held:
            first_in.set()
            await asyncio.sleep(0.5)
            held.save({"by": "stuck"}, 60)
        first_out.set()

    async def next_holder() -> None:
        await first_in.wait()
        async with store.hold("ussd:abc", timeout=5.0, wait=2.0):
            await first_out.wait()
            with pytest.raises(SessionBusy):
                async with store.lock("ussd:abc", wait=0):
                    pytest.fail("a late release freed someone else's lock")

    with caplog.at_level(logging.WARNING, logger="bot.sessions"):
        await asyncio.gather(stuck(), next_holder())
    assert await store.get("ussd:abc") == {"by": "stuck"}
    assert any("expired" in r.getMessage() for r in caplog.records)


async def test_staged_values_are_checked_at_once(store: SessionStore) -> None:
    """Non-JSON values, bad TTLs and non-text notes fail where they are staged."""
    async with store.hold("ussd:abc") as held:
        with pytest.raises(TypeError):
            held.save({"state": {1, 2}}, 60)
        with pytest.raises(ValueError, match="ttl"):
            held.save(STATE, 0)
        with pytest.raises(ValueError, match="ttl"):
            held.remember("lang:x", "fr", -1)
        with pytest.raises(TypeError):
            held.remember("lang:x", 7, 60)  # type: ignore[arg-type]
    assert await store.get("ussd:abc") is None


async def test_hold_rejects_nonsense_timings(store: SessionStore) -> None:
    """The same checks as lock()."""
    with pytest.raises(ValueError, match="timeout"):
        store.hold("ussd:abc", timeout=0)
    with pytest.raises(ValueError, match="wait"):
        store.hold("ussd:abc", wait=-1)


async def test_notes_round_trip_apart_from_sessions(store: SessionStore) -> None:
    """A note is short text under its own key: not a session, not a seen-id."""
    assert await store.recall("lang:abc") is None
    await store.remember("lang:abc", "ln", ttl=60)
    assert await store.recall("lang:abc") == "ln"
    await store.remember("lang:abc", "st", ttl=60)
    assert await store.recall("lang:abc") == "st"
    assert await store.get("lang:abc") is None
    assert await store.add_once("lang:abc", ttl=60) is True
    with pytest.raises(ValueError, match="ttl"):
        await store.remember("lang:abc", "fr", ttl=0)


async def test_hold_recalls_and_remembers_notes(store: SessionStore) -> None:
    """Notes asked for are read with the session; notes staged are kept with it."""
    await store.remember("lang:known", "fr", ttl=60)
    async with store.hold("ussd:abc", recall=["lang:known", "lang:unknown"]) as held:
        assert held.notes == {"lang:known": "fr", "lang:unknown": None}
        held.remember("lang:unknown", "ln", 60)
        held.save(STATE, 60)
    assert await store.recall("lang:unknown") == "ln"
    assert await store.recall("lang:known") == "fr"
    assert await store.get("ussd:abc") == STATE
    async with store.hold("ussd:abc") as held:
        assert held.notes == {}, "notes are read only when asked for"


async def test_a_rewritten_note_keeps_its_expiry_and_a_gone_one_stays_gone(
    store: SessionStore,
) -> None:
    """Rewriting a note (a session naming itself in it) never lengthens how long it is kept."""
    await store.remember("lang:kept", "fr", ttl=1)
    await store.rewrite("lang:kept", "fr:1a2b3c4d:fr")
    assert await store.recall("lang:kept") == "fr:1a2b3c4d:fr"
    async with store.hold("ussd:abc", recall=["lang:kept"]) as held:
        held.rewrite("lang:kept", "fr:5e6f7a8b:fr")
        held.rewrite("lang:gone", "ln:5e6f7a8b:ln")
    assert await store.recall("lang:kept") == "fr:5e6f7a8b:fr"
    assert await store.recall("lang:gone") is None, "a rewrite never creates a note"
    await asyncio.sleep(1.1)
    assert await store.recall("lang:kept") is None, "the expiry of the first write holds"
    await store.rewrite("lang:kept", "st")
    assert await store.recall("lang:kept") is None
