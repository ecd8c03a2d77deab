"""The outbox worker: in the app without Redis, as ``hotline worker``, and as arq jobs on Redis."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from click.testing import CliRunner, Result
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

import bot.core.db
from bot.cli import main
from bot.core.db import DatabaseOptions
from bot.core.db import make_engine as real_make_engine
from bot.core.privacy import Cipher, new_key
from bot.core.settings import Settings
from bot.jobs.arq import arq_worker, deliver
from bot.models import OutboundMessage, OutboxStatus
from bot.outbox import queue
from bot.outbox.notify import ArqNotifier, Backoff, NullNotifier, WakeNotifier, arq_redis
from bot.outbox.senders import make_sender
from bot.outbox.senders.africastalking import AfricasTalkingSender
from bot.outbox.senders.base import LogSender, SendResult
from bot.outbox.worker import OutboxWorker
from tests.conftest import (
    REDIS_URL,
    TEST_PHONES,
    assert_no_phone_numbers,
    database_text,
    make_app,
    make_settings,
)
from tests.conftest import service_missing as _service_missing

TO = TEST_PHONES[0]
BODY = "Call the hotline free of charge: 0800 000 000."
ARQ_DB = 14
"""A Redis database of its own for the arq tests; only its ``arq:`` keys are ever deleted."""


class FakeSender:
    """Records every send; answers ok unless told to wait or fail."""

    name = "fake"

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        self.release.set()
        self._lock = threading.Lock()

    def send(self, to: str, message: str) -> SendResult:
        self.entered.set()
        assert self.release.wait(timeout=10), "the test never released the sender"
        with self._lock:
            self.sent.append((to, message))
            return SendResult(ok=True, provider_message_id=f"ATXid_w{len(self.sent)}")


@pytest.fixture
def cipher() -> Cipher:
    return Cipher((new_key(),))


def add(engine: Engine, cipher: Cipher, key: str = "sms-reply:ATXid_1", body: str = BODY) -> int:
    with Session(engine) as session:
        message = queue.enqueue(
            session,
            cipher,
            key=key,
            channel="sms",
            purpose="reply",
            contact="ph_0123456789abcdef",
            recipient=TO,
            body=body,
            lang="en",
        )
        session.commit()
        assert message.id is not None
        return message.id


def load(engine: Engine, message_id: int) -> OutboundMessage:
    with Session(engine) as session:
        message = session.get(OutboundMessage, message_id)
        assert message is not None
        return message


async def wait_status(engine: Engine, message_id: int, status: str, timeout: float) -> float:
    """Seconds until the message reaches ``status``; fails after ``timeout``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if (await asyncio.to_thread(load, engine, message_id)).status == status:
            return time.monotonic() - started
        await asyncio.sleep(0.01)
    raise AssertionError(f"outbox {message_id} not {status} after {timeout} s")


# --- the worker itself ------------------------------------------------------------------------


async def test_run_due_delivers_what_is_due(engine: Engine, cipher: Cipher) -> None:
    sender = FakeSender()
    worker = OutboxWorker(engine, cipher, sender)
    ids = [add(engine, cipher, key=f"k{n}", body=f"text {n}") for n in range(3)]
    assert await worker.run_due() == 3
    assert await worker.run_due() == 0
    assert sorted(sender.sent) == sorted((TO, f"text {n}") for n in range(3))
    for message_id in ids:
        message = load(engine, message_id)
        assert message.status == OutboxStatus.SENT and message.recipient is None
    assert await worker.run_due(only=ids[0]) == 0


async def test_a_wake_up_delivers_at_once_not_at_the_next_poll(
    engine: Engine, cipher: Cipher
) -> None:
    sender = FakeSender()
    worker = OutboxWorker(engine, cipher, sender, poll=60)
    task = asyncio.create_task(worker.run_forever())
    try:
        await asyncio.sleep(0.2)  # the first round found nothing; the loop now sleeps
        message_id = add(engine, cipher)
        await WakeNotifier(worker).notify([message_id])
        assert await wait_status(engine, message_id, OutboxStatus.SENT, timeout=1.0) < 1.0
        await WakeNotifier(worker).notify([])  # nothing new: no round needed
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert sender.sent == [(TO, BODY)]


async def test_a_stop_that_lands_with_a_wake_up_still_stops_the_loop(
    engine: Engine, cipher: Cipher
) -> None:
    """Shutdown must not hang: a cancellation arriving as a wake-up fires is not swallowed."""
    worker = OutboxWorker(engine, cipher, FakeSender(), poll=60)
    task = asyncio.create_task(worker.run_forever())
    await asyncio.sleep(0.2)  # the first round found nothing; the loop now sleeps
    worker.wake()
    task.cancel()  # in the same loop turn as the wake-up, as a notify during shutdown would be
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, timeout=5)
    assert task.cancelled()


async def test_stopping_mid_send_lets_the_send_finish_and_be_recorded(
    engine: Engine, cipher: Cipher
) -> None:
    """Shutdown cancels the loop; the thread sending cannot be stopped, so it is waited for.

    Otherwise the engine is disposed under a checked-out connection (garbage-collected open
    later) and the outcome of a message already handed to the provider may not be recorded.
    """
    sender = FakeSender()
    sender.release.clear()
    worker = OutboxWorker(engine, cipher, sender, poll=60)
    message_id = add(engine, cipher)
    task = asyncio.create_task(worker.run_forever())
    assert await asyncio.to_thread(sender.entered.wait, 5)
    task.cancel()
    await asyncio.sleep(0.2)
    assert not task.done(), "the loop waits for the send in progress"
    sender.release.set()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, timeout=5)
    message = load(engine, message_id)
    assert message.status == OutboxStatus.SENT and message.provider_message_id == "ATXid_w1"


async def test_the_loop_keeps_going_after_a_failed_round(
    engine: Engine,
    cipher: Cipher,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sender = FakeSender()
    worker = OutboxWorker(engine, cipher, sender, poll=0.05)
    real_claim = queue.claim
    calls = {"n": 0}

    def flaky_claim(*args: Any, **kwargs: Any) -> list[queue.Claim]:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("database restarting")
        return real_claim(*args, **kwargs)

    monkeypatch.setattr(queue, "claim", flaky_claim)
    message_id = add(engine, cipher)
    task = asyncio.create_task(worker.run_forever())
    try:
        await wait_status(engine, message_id, OutboxStatus.SENT, timeout=3.0)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert "outbox worker round failed" in caplog.text


async def test_the_arq_job_delivers_through_the_context(engine: Engine, cipher: Cipher) -> None:
    sender = FakeSender()
    worker = OutboxWorker(engine, cipher, sender)
    ctx: dict[str, Any] = {"outbox": worker}
    first = add(engine, cipher, key="a")
    add(engine, cipher, key="b")
    assert await deliver(ctx, first) == 1
    assert await deliver(ctx, first) == 0, "already sent: nothing to claim"
    assert await worker.run_due() == 1, "the sweep takes what no job announced"
    assert len(sender.sent) == 2


async def test_the_null_notifier_does_nothing() -> None:
    await NullNotifier().notify([1, 2])


def test_the_sender_comes_from_the_settings(caplog: pytest.LogCaptureFixture) -> None:
    assert isinstance(make_sender(Settings(at_api_key="at-key")), AfricasTalkingSender)
    assert isinstance(make_sender(Settings(at_api_key="")), LogSender)
    assert isinstance(make_sender(Settings()), LogSender)
    assert "outbound SMS are logged, not sent" in caplog.text


def test_an_empty_sender_id_sends_from_the_default() -> None:
    """``HOTLINE_AT_SENDER_ID=`` (set but empty, as compose passes an unset optional value)."""
    sender = make_sender(Settings(at_api_key="at-key", at_sender_id=""))
    assert isinstance(sender, AfricasTalkingSender)
    assert sender._sender_id is None
    named = make_sender(Settings(at_api_key="at-key", at_sender_id="HOTLINE"))
    assert isinstance(named, AfricasTalkingSender)
    assert named._sender_id == "HOTLINE"


# --- inside the app (no Redis) ----------------------------------------------------------------


def test_the_app_delivers_a_reply_within_a_second(
    tmp_path: Path, database_url: str, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(tmp_path, database_url=database_url)  # the test secrets
    app = make_app(settings)
    sender = FakeSender()
    app.state.worker.sender = sender
    with TestClient(app) as client:
        time.sleep(0.2)  # the start-up round is over; the loop sleeps for its 2 s poll
        started = time.monotonic()
        response = client.post(
            "/sms/africastalking/t0k3n-for-tests",
            data={"from": TO, "to": "12345", "text": "HELP", "date": "", "id": "ATXid_1"},
        )
        assert response.status_code == 200
        while not sender.sent and time.monotonic() - started < 2:
            time.sleep(0.01)
        elapsed = time.monotonic() - started
        assert sender.sent, "not delivered"
        assert elapsed < 1.0, f"delivered after {elapsed:.2f} s: the wake-up did not work"
        [(to, text)] = sender.sent
        assert to == TO and text.startswith("Helpline. You need not give your name.")
    assert_no_phone_numbers(database_text(engine), caplog.text)


# --- hotline worker --burst -------------------------------------------------------------------


def test_the_worker_command_delivers_what_is_due_with_the_demo_sender(
    tmp_path: Path,
    database_url: str,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    key = new_key()
    cipher = Cipher((key,))
    ids = [add(engine, cipher, key=f"burst:{n}", body=f"text {n}") for n in range(3)]
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "DATABASE_URL": database_url,
        "ENCRYPTION_KEYS": key,
        "PSEUDONYM_KEY": "k" * 32,
        "CALLBACK_TOKEN": "t0k3n-for-tests",
        "TELEGRAM_WEBHOOK_SECRET": "telegram-secret-for-tests",
        "SECRETS_FILE": str(tmp_path / "s.json"),
    }.items():
        monkeypatch.setenv(f"HOTLINE_{name}", value)
    made: list[Engine] = []

    def recorded(url: str, options: DatabaseOptions | None = None) -> Engine:
        made.append(real_make_engine(url, options))
        return made[-1]

    # `hotline worker` leaves its engine to the process exit; here the test process goes on.
    monkeypatch.setattr(bot.core.db, "make_engine", recorded)

    def run() -> Result:
        try:
            return CliRunner().invoke(main, ["worker", "--burst"])
        finally:
            while made:
                made.pop().dispose()

    result = run()
    assert result.exit_code == 0, result.output
    assert "delivering from the database" in result.output
    assert "delivered or retried 3 message(s)" in result.output
    providers = set()
    for message_id in ids:
        message = load(engine, message_id)
        assert message.status == OutboxStatus.SENT and message.recipient is None
        providers.add(message.provider_message_id)
    assert providers == {"demo-1", "demo-2", "demo-3"}
    assert "not sent (no provider configured)" in caplog.text
    assert "text 1" not in caplog.text
    assert_no_phone_numbers(result.output, caplog.text, database_text(engine))
    again = run()
    assert again.exit_code == 0 and "delivered or retried 0 message(s)" in again.output


# --- arq on Redis -----------------------------------------------------------------------------


def _arq_url() -> str:
    parts = urlsplit(REDIS_URL)
    return urlunsplit((parts.scheme, parts.netloc, f"/{ARQ_DB}", "", ""))


def _drop_arq_keys(client: redis.Redis) -> None:
    keys = list(client.scan_iter(match="arq:*", count=500))
    if keys:
        client.delete(*keys)


@pytest.fixture
def arq_url() -> Iterator[str]:
    """The test Redis, database 14, without arq keys before and after; fails in CI if absent."""
    url = _arq_url()
    client = redis.Redis.from_url(url, socket_connect_timeout=2.0)
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        client.close()
        _service_missing("Redis", f"{url}: {exc}")
    _drop_arq_keys(client)
    try:
        yield url
    finally:
        _drop_arq_keys(client)
        client.close()


@pytest.fixture
async def notifier(arq_url: str) -> AsyncIterator[ArqNotifier]:
    made = ArqNotifier(arq_url)
    try:
        yield made
    finally:
        await made.close()


async def run_burst(url: str, worker: OutboxWorker) -> int:
    """Run an arq worker until its queue is empty; returns how many jobs it completed."""
    redis_client = arq_redis(url)
    arq = arq_worker(redis_client, ctx={"outbox": worker}, burst=True)
    try:
        return await asyncio.wait_for(arq.run_check(), timeout=30)
    finally:
        await redis_client.aclose()


async def test_an_arq_job_delivers_a_message_once(
    engine: Engine, cipher: Cipher, arq_url: str, notifier: ArqNotifier
) -> None:
    sender = FakeSender()
    message_id = add(engine, cipher)
    await notifier.notify([message_id])
    await notifier.notify([message_id])  # a second notify while queued: the same job
    client = redis.Redis.from_url(arq_url)
    try:
        assert client.exists(f"arq:job:outbox:{message_id}")
        assert client.zcard("arq:queue") == 1
    finally:
        client.close()
    worker = OutboxWorker(engine, cipher, sender)
    assert await run_burst(arq_url, worker) >= 1
    assert sender.sent == [(TO, BODY)]
    message = load(engine, message_id)
    assert message.status == OutboxStatus.SENT and message.recipient is None
    assert message.provider_message_id == "ATXid_w1" and message.attempts == 1

    # Notified again after it went out: the job runs, finds nothing to claim, sends nothing.
    await notifier.notify([message_id])
    await run_burst(arq_url, worker)
    assert sender.sent == [(TO, BODY)]
    assert load(engine, message_id).attempts == 1


async def test_two_arq_workers_send_each_message_once(
    engine: Engine, cipher: Cipher, arq_url: str, notifier: ArqNotifier
) -> None:
    sender = FakeSender()
    ids = [add(engine, cipher, key=f"pair:{n}", body=f"text {n}") for n in range(8)]
    await notifier.notify(ids)
    await asyncio.gather(
        run_burst(arq_url, OutboxWorker(engine, cipher, sender)),
        run_burst(arq_url, OutboxWorker(engine, cipher, sender)),
    )
    assert sorted(sender.sent) == sorted((TO, f"text {n}") for n in range(8))


async def test_a_notifier_without_redis_only_delays_delivery(
    caplog: pytest.LogCaptureFixture,
) -> None:
    down = ArqNotifier("redis://127.0.0.1:1/14")
    with caplog.at_level(logging.WARNING):
        await down.notify([1, 2])
    await down.close()
    assert down.pool is None
    assert "deliveries wait for a sweep" in caplog.text


async def test_a_notifier_waits_longer_after_each_failure_to_reach_redis(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """During an outage requests do not each wait on Redis: it is tried again after a pause."""
    now = [0.0]
    down = ArqNotifier(
        "redis://127.0.0.1:1/14", backoff=Backoff(base=1, cap=4, jitter=0), clock=lambda: now[0]
    )
    tries = []
    for moment in (0.0, 0.5, 1.0, 2.0, 3.0, 7.0):
        now[0] = moment
        before = down.failures
        await down.notify([1])
        tries.append(down.failures > before)
    await down.close()
    assert tries == [True, False, True, False, True, True]
    assert [Backoff(base=0.5, cap=30, jitter=0).delay(n) for n in (1, 2, 3, 8)] == [
        0.5,
        1.0,
        2.0,
        30.0,
    ]
