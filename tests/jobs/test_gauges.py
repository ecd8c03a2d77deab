"""The gauges ``/metrics`` reads from the database and the session store, cached a few seconds."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.core.clock import utcnow
from bot.core.privacy import Cipher, new_key
from bot.jobs.gauges import StateGauges, live_sessions
from bot.models.outbox import WorkerHeartbeat
from bot.outbox import queue
from bot.sessions.memory import MemorySessionStore

CIPHER = Cipher.from_list([new_key()])


def add_message(engine: Engine, key: str, channel: str, due_seconds_ago: float) -> None:
    with Session(engine) as session:
        message = queue.enqueue(
            session,
            CIPHER,
            key=key,
            channel=channel,
            purpose="reply",
            contact="c" * 16,
            recipient="+243000000001",
            body="hello",
            lang="en",
        )
        message.next_attempt_at = utcnow() - timedelta(seconds=due_seconds_ago)
        session.add(message)
        session.commit()


def samples(gauges: StateGauges) -> dict[tuple[str, tuple[str, ...]], float]:
    return {
        (sample.name, tuple(sample.labels.values())): sample.value
        for family in gauges.collect()
        for sample in family.samples
    }


async def test_outbox_waiting_and_oldest_due_per_channel(engine: Engine) -> None:
    add_message(engine, "a", "sms", 120)
    add_message(engine, "b", "sms", 30)
    add_message(engine, "c", "sms", -600)  # a retry later: waiting, not due
    add_message(engine, "d", "telegram", 5)
    gauges = StateGauges(engine, None, stale_after=60)
    await gauges.refresh()
    found = samples(gauges)
    assert found[("hotline_outbox_pending", ("sms",))] == 3
    assert found[("hotline_outbox_pending", ("telegram",))] == 1
    assert 119 <= found[("hotline_outbox_oldest_due_seconds", ("sms",))] < 200
    assert 4 <= found[("hotline_outbox_oldest_due_seconds", ("telegram",))] < 60
    assert found[("hotline_state_up", ())] == 1
    assert found[("hotline_escalation_oldest_due_seconds", ())] == 0
    assert ("hotline_sessions_active", ("ussd",)) not in found  # no store given


async def test_workers_alive_and_the_newest_heartbeat(engine: Engine) -> None:
    gauges = StateGauges(engine, None, stale_after=60)
    await gauges.refresh()
    assert math.isnan(samples(gauges)[("hotline_worker_heartbeat_age_seconds", ())])
    now = utcnow()
    with Session(engine) as session:
        for name, ago in (("a:1", 5), ("b:2", 20), ("c:3", 600)):
            seen = now - timedelta(seconds=ago)
            session.add(WorkerHeartbeat(name=name, started_at=seen, seen_at=seen, redis="none"))
        session.commit()
    gauges.read_at = None
    await gauges.refresh()
    found = samples(gauges)
    assert found[("hotline_workers_alive", ())] == 2
    assert 4 <= found[("hotline_worker_heartbeat_age_seconds", ())] < 60


async def test_a_reading_is_reused_for_its_ttl(engine: Engine) -> None:
    now = [100.0]
    gauges = StateGauges(engine, None, stale_after=60, ttl=5, clock=lambda: now[0])
    await gauges.refresh()
    add_message(engine, "a", "sms", 10)
    now[0] += 4
    await gauges.refresh()
    assert samples(gauges)[("hotline_outbox_pending", ("sms",))] == 0  # cached
    now[0] += 2
    await gauges.refresh()
    assert samples(gauges)[("hotline_outbox_pending", ("sms",))] == 1


async def test_a_database_away_keeps_the_last_values(engine: Engine) -> None:
    gauges = StateGauges(engine, None, stale_after=60, ttl=0)
    add_message(engine, "a", "sms", 10)
    await gauges.refresh()
    gauges.engine = None  # type: ignore[assignment]  # every query now fails
    await gauges.refresh()
    found = samples(gauges)
    assert found[("hotline_state_up", ())] == 0
    assert found[("hotline_outbox_pending", ("sms",))] == 1


async def test_live_sessions_per_channel_in_memory() -> None:
    store = MemorySessionStore()
    await store.set("ussd:abc", {"a": 1}, 60)
    await store.set("ussd:def", {"a": 1}, 60)
    await store.set("telegram:xyz", {"a": 1}, 60)
    await store.set("odd-key", {"a": 1}, 60)
    assert await live_sessions(store) == {"ussd": 2, "sms": 0, "telegram": 1, "other": 1}


@pytest.mark.redis
async def test_live_sessions_per_channel_in_redis() -> None:
    from bot.sessions.redis import RedisSessionStore
    from tests.conftest import reachable_redis

    store = RedisSessionStore(reachable_redis(), cipher=CIPHER, prefix="hotline-gauges-test:")
    try:
        await store.set("sms:abc", {"a": 1}, 60)
        await store.set("ussd:abc", {"a": 1}, 60)
        await store.remember("note-key", "x", 60)  # a note is not a session
        assert await live_sessions(store) == {"ussd": 1, "sms": 1, "telegram": 0}
    finally:
        await store.delete("sms:abc")
        await store.delete("ussd:abc")
        await store.client.delete(store.note_key("note-key"))
        await store.close()
