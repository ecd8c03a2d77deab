"""Readiness: /healthz fails when due work waits too long or the worker's heartbeat goes stale."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.core.clock import utcnow
from bot.core.privacy import Cipher, new_key
from bot.jobs import health
from bot.models import OutboundMessage
from tests.outbox.test_worker import add


def test_nothing_due_and_no_worker_seen_is_ok(engine: Engine) -> None:
    found = health.report(engine, max_lag=120, stale_after=60)
    assert found["ok"] and found["problems"] == [] and found["workers"] == []
    assert found["outbox_due_seconds"] is None and found["escalation_due_seconds"] is None


def test_a_message_due_longer_than_the_limit_fails(engine: Engine) -> None:
    message_id = add(engine, Cipher((new_key(),)))
    now = utcnow()
    with Session(engine) as session:
        message = session.get(OutboundMessage, message_id)
        assert message is not None
        message.next_attempt_at = now - timedelta(seconds=200)
        session.add(message)
        session.commit()
    assert health.report(engine, max_lag=300, stale_after=60, now=now)["ok"]
    found = health.report(engine, max_lag=120, stale_after=60, now=now)
    assert not found["ok"] and found["outbox_due_seconds"] == 200.0
    assert found["problems"] == ["an outbox message has been due for 200 s"]


def test_a_stale_heartbeat_fails_until_a_worker_beats_or_stops_cleanly(engine: Engine) -> None:
    now = utcnow()
    started = now - timedelta(hours=1)
    health.beat(engine, "host:1", started_at=started, redis="connected", now=now)
    fresh = health.report(engine, max_lag=120, stale_after=60, now=now + timedelta(seconds=30))
    assert fresh["ok"]
    assert fresh["workers"] == [
        {"seen_seconds_ago": 30.0, "up_seconds": 3630.0, "redis": "connected"}
    ]
    later = now + timedelta(seconds=90)
    stale = health.report(engine, max_lag=120, stale_after=60, now=later)
    assert stale["problems"] == ["no worker heartbeat for 90 s"]
    health.beat(engine, "host:2", started_at=later, redis="reconnecting", now=later)
    assert health.report(engine, max_lag=120, stale_after=60, now=later)["ok"], "one is alive"
    health.forget(engine, "host:2")
    assert not health.report(engine, max_lag=120, stale_after=60, now=later)["ok"]
    # A live worker clears the rows of workers gone for a day.
    next_day = now + health.PRUNE_AFTER + timedelta(seconds=1)
    health.beat(engine, "host:3", started_at=next_day, redis="none", now=next_day)
    assert [w["redis"] for w in health.report(engine, max_lag=1, stale_after=1)["workers"]] == [
        "none"
    ]


def test_healthz_shows_delivery_and_fails_on_a_dead_worker(app: FastAPI) -> None:
    with TestClient(app) as client:
        body = client.get("/healthz").json()
        assert body["status"] == "ok" and body["delivery"]["ok"]
        assert body["outbox"]["unknown"] == 0
        engine: Engine = app.state.engine
        dead = utcnow() - timedelta(minutes=5)
        health.beat(engine, "gone:1", started_at=dead, redis="connected", now=dead)
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "degraded"
    assert response.json()["delivery"]["problems"] == ["no worker heartbeat for 300 s"]
