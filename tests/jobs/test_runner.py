"""``hotline worker`` under faults: a private Redis killed and restarted while the worker runs.

The outbox table is the source of truth: while Redis is away the worker keeps sweeping it (and
runs escalations and the purge), reconnects with back-off when Redis is back, and its heartbeat
row says which of these it is doing.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.cases import escalation as cases_escalation
from bot.content.files import Content
from bot.core.privacy import Cipher, new_key
from bot.jobs import escalation as escalation_jobs
from bot.jobs import health
from bot.jobs import purge as purge_jobs
from bot.jobs.runner import Intervals, Runner
from bot.models import OutboxStatus
from bot.models.outbox import WorkerHeartbeat
from bot.outbox.notify import ArqNotifier, Backoff
from bot.outbox.worker import OutboxWorker
from tests.conftest import service_missing
from tests.jobs.private_redis import PrivateRedis
from tests.outbox.test_worker import FakeSender, add, load, wait_status


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    """A redis-server of this test's own (fails in CI, skips elsewhere, if not installed)."""
    try:
        server = PrivateRedis()
    except FileNotFoundError as exc:
        service_missing("redis-server", str(exc))
    server.start()
    try:
        yield server
    finally:
        server.kill()


async def until(check: Callable[[], bool], timeout: float, what: str) -> float:
    """Seconds until ``check()`` is true; fails after ``timeout``."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not {what} after {timeout} s")
        await asyncio.sleep(0.02)
    return time.monotonic() - started


def heartbeats(engine: Engine) -> list[WorkerHeartbeat]:
    with Session(engine) as session:
        return list(session.exec(select(WorkerHeartbeat)).all())


FAST = Intervals(escalate=0.2, heartbeat=0.1, steady=60)


async def test_the_worker_survives_a_redis_restart_and_delivers_throughout(
    engine: Engine,
    private_redis: PrivateRedis,
    shipped_content: Content,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cipher = Cipher((new_key(),))
    sweeps: list[float] = []
    purges: list[float] = []
    real_sweep = cases_escalation.sweep

    def counted_sweep(*args: Any, **kwargs: Any) -> list[int]:
        sweeps.append(time.monotonic())
        return real_sweep(*args, **kwargs)

    async def counted_purge(ctx: dict[str, Any]) -> dict[str, int]:
        purges.append(time.monotonic())
        return {}

    monkeypatch.setattr(escalation_jobs, "sweep", counted_sweep)
    monkeypatch.setattr(purge_jobs, "purge_job", counted_purge)
    sender = FakeSender()
    outbox = OutboxWorker(engine, cipher, sender, poll=0.3)
    runner = Runner(
        engine,
        outbox,
        shipped_content.tr,
        redis_url=private_redis.url,
        name="test-worker",
        intervals=FAST,
        backoff=Backoff(base=0.1, cap=0.4),
    )
    notifier = ArqNotifier(private_redis.url, backoff=Backoff(base=0.1, cap=0.2))
    task = asyncio.create_task(runner.run())
    try:
        await until(lambda: runner.redis == "connected", 10, "connected to Redis")
        first = add(engine, cipher, key="before")
        await notifier.notify([first])
        await wait_status(engine, first, OutboxStatus.SENT, timeout=5)

        private_redis.kill()  # Redis crashes: the arq worker loses its connection
        await until(lambda: runner.redis == "reconnecting", 10, "aware Redis is gone")
        during = add(engine, cipher, key="during")
        await notifier.notify([during])  # cannot enqueue: only the sweep can deliver it
        await wait_status(engine, during, OutboxStatus.SENT, timeout=5)
        outage_started = time.monotonic()
        await asyncio.sleep(0.5)
        assert [s for s in sweeps if s > outage_started], "escalations run without Redis"
        assert purges, "the purge runs without Redis"
        [row] = heartbeats(engine)
        assert row.redis == "reconnecting"
        assert (await asyncio.to_thread(health.report, engine, max_lag=60, stale_after=5))["ok"]

        private_redis.start()  # back, and empty: every queued job is gone
        await until(lambda: runner.redis == "connected", 10, "reconnected")
        assert runner.connections == 2
        outbox.poll = 60  # from now on only a deliver job can be this quick
        await asyncio.sleep(0.6)
        after = add(engine, cipher, key="after")
        await notifier.notify([after])
        took = await wait_status(engine, after, OutboxStatus.SENT, timeout=5)
        assert took < 5
        assert [r.redis for r in heartbeats(engine)] == ["connected"]
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await notifier.close()
    assert len(sender.sent) == 3, "each message once"
    assert heartbeats(engine) == [], "a clean stop removes the heartbeat"
    assert "lost Redis" in caplog.text and "Redis is back" in caplog.text


async def test_the_worker_starts_without_redis_and_connects_when_it_comes(
    engine: Engine, shipped_content: Content
) -> None:
    """Redis down at start (a worker restarted during the outage) is no reason to stop."""
    try:
        server = PrivateRedis()
    except FileNotFoundError as exc:
        service_missing("redis-server", str(exc))
    cipher = Cipher((new_key(),))
    sender = FakeSender()
    outbox = OutboxWorker(engine, cipher, sender, poll=0.2)
    runner = Runner(
        engine,
        outbox,
        shipped_content.tr,
        redis_url=server.url,
        intervals=FAST,
        backoff=Backoff(base=0.1, cap=0.3),
    )
    task = asyncio.create_task(runner.run())
    try:
        message = add(engine, cipher)
        await wait_status(engine, message, OutboxStatus.SENT, timeout=5)
        await until(lambda: runner.redis == "reconnecting", 5, "trying Redis")
        server.start()
        await until(lambda: runner.redis == "connected", 10, "connected")
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        server.kill()
    assert len(sender.sent) == 1


async def test_a_worker_without_redis_beats_and_says_so(
    engine: Engine, shipped_content: Content
) -> None:
    cipher = Cipher((new_key(),))
    runner = Runner(
        engine, OutboxWorker(engine, cipher, FakeSender()), shipped_content.tr, intervals=FAST
    )
    task = asyncio.create_task(runner.run())
    try:
        await until(lambda: bool(heartbeats(engine)), 5, "beating")
        [row] = heartbeats(engine)
        assert row.redis == "none" and row.name == health.worker_name()
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert heartbeats(engine) == []


def test_hotline_worker_survives_a_one_second_redis_restart(
    tmp_path: Path, database_url: str, engine: Engine, private_redis: PrivateRedis
) -> None:
    """The command itself, in its own process: Redis restarts, the worker goes on; SIGTERM
    stops it cleanly (exit 0, heartbeat removed)."""
    key = new_key()
    cipher = Cipher((key,))
    env = {
        **os.environ,
        "HOTLINE_DATABASE_URL": database_url,
        "HOTLINE_REDIS_URL": private_redis.url,
        "HOTLINE_ENCRYPTION_KEYS": key,
        "HOTLINE_PSEUDONYM_KEY": "k" * 32,
        "HOTLINE_CALLBACK_TOKEN": "t0k3n-for-tests",
        "HOTLINE_TELEGRAM_WEBHOOK_SECRET": "telegram-secret-for-tests",
        "HOTLINE_SECRETS_FILE": str(tmp_path / "s.json"),
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while not heartbeats(engine) or heartbeats(engine)[0].redis != "connected":
            assert worker.poll() is None and time.monotonic() < deadline, "worker not up"
            time.sleep(0.1)
        private_redis.restart(down_for=1.0)
        time.sleep(0.5)
        assert worker.poll() is None, "the worker is still running after Redis restarted"
        message = add(engine, cipher, key="after-restart")
        deadline = time.monotonic() + 20
        while load(engine, message).status != OutboxStatus.SENT:
            assert time.monotonic() < deadline, "not delivered after the Redis restart"
            time.sleep(0.1)
        while heartbeats(engine)[0].redis != "connected":
            assert time.monotonic() < deadline, "did not reconnect to Redis"
            time.sleep(0.1)
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
    assert worker.returncode == 0, output.decode()
    assert b"hotline worker stopped" in output
    assert heartbeats(engine) == []
    assert load(engine, message).provider_message_id == "demo-1"
