"""``/livez`` and ``/readyz``: up or down for anyone, the checks only with the metrics token."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.core.clock import utcnow
from bot.core.privacy import Cipher
from bot.models.outbox import WorkerHeartbeat
from bot.outbox import queue
from tests.conftest import make_app, make_settings, reachable_redis

TOKEN = "metrics-token-for-tests-0123456789"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> FastAPI:
    return make_app(
        make_settings(tmp_path, database_url=database_url, metrics_token=TOKEN, delivery_max_lag=60)
    )


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as started:
        yield started


def overdue_message(engine: Engine, cipher: Cipher, seconds: int) -> None:
    """An SMS due ``seconds`` ago that nobody delivered."""
    with Session(engine) as session:
        message = queue.enqueue(
            session,
            cipher,
            key="probe-test",
            channel="sms",
            purpose="reply",
            contact="c" * 16,
            recipient="+243000000001",
            body="hello",
            lang="en",
        )
        message.next_attempt_at = utcnow() - timedelta(seconds=seconds)
        session.add(message)
        session.commit()


def test_live_and_ready_say_only_up(client: TestClient) -> None:
    assert client.get("/livez").json() == {"status": "up"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "up"}
    assert ready.headers["cache-control"] == "no-store"


def test_the_checks_are_shown_with_the_metrics_token_only(client: TestClient) -> None:
    detailed = client.get("/readyz", headers=BEARER).json()
    assert detailed["status"] == "up"
    assert detailed["checks"]["database"] is True
    assert detailed["checks"]["delivery"] is True
    assert "redis" not in detailed["checks"]  # none configured
    wrong = client.get("/readyz", headers={"Authorization": "Bearer nope"}).json()
    assert wrong == {"status": "up"}


@pytest.mark.redis
def test_work_due_too_long_is_down_and_logged(
    tmp_path: Path, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # With Redis, `hotline worker` delivers: nothing in this process sends the message.
    settings = make_settings(
        tmp_path,
        database_url=database_url,
        redis_url=reachable_redis(),
        metrics_token=TOKEN,
        delivery_max_lag=60,
    )
    app = make_app(settings)
    with TestClient(app) as client:
        assert client.get("/readyz").json() == {"status": "up"}
        overdue_message(app.state.engine, app.state.cipher, seconds=600)
        down = client.get("/readyz")
        assert down.status_code == 503
        assert down.json() == {"status": "down"}
        details = client.get("/readyz", headers=BEARER).json()
    assert details["checks"]["redis"] is True
    assert details["checks"]["delivery"] is False
    assert details["checks"]["outbox_due_seconds"] >= 600
    assert any("outbox" in problem for problem in details["checks"]["delivery_problems"])
    said = [r.getMessage() for r in caplog.records if r.name == "bot.http.probes"]
    assert any("not ready: delivery" in line for line in said), said


def test_a_stale_worker_heartbeat_is_down(app: FastAPI, client: TestClient) -> None:
    old = utcnow() - timedelta(minutes=10)
    with Session(app.state.engine) as session:
        session.add(WorkerHeartbeat(name="gone:1", started_at=old, seen_at=old, redis="none"))
        session.commit()
    assert client.get("/readyz").json() == {"status": "down"}
    problems = client.get("/readyz", headers=BEARER).json()["checks"]["delivery_problems"]
    assert any("heartbeat" in problem for problem in problems)


def test_an_unreachable_redis_is_down(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, redis_url="redis://127.0.0.1:1/0", metrics_token=TOKEN)
    with TestClient(make_app(settings)) as client:
        assert client.get("/livez").status_code == 200
        assert client.get("/readyz").json() == {"status": "down"}
        assert client.get("/readyz", headers=BEARER).json()["checks"]["redis"] is False
