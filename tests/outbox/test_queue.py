"""The outbox on SQLite and PostgreSQL: claimed once, retried with back-off; after a crash a
reply is sent at most once and an alert at least once."""

from __future__ import annotations

import random
import threading
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from bot.core.clock import utcnow
from bot.core.privacy import Cipher, new_key
from bot.models import DeliveryReport, OutboundMessage, OutboxStatus
from bot.outbox import queue
from bot.outbox.senders.base import SendResult
from tests.conftest import TEST_PHONES, assert_no_phone_numbers, database_text

TO = TEST_PHONES[0]
BODY = "Appelez gratuitement la ligne d'aide : 0800 000 000."
POLICY = queue.RetryPolicy(
    base=timedelta(seconds=30), cap=timedelta(hours=1), max_attempts=3, jitter=0.5
)


@pytest.fixture
def cipher() -> Cipher:
    return Cipher((new_key(),))


def add(
    engine: Engine,
    cipher: Cipher,
    key: str = "sms-reply:ATXid_1",
    to: str = TO,
    purpose: str = "reply",
) -> int:
    """Queue one message and commit, as a request would."""
    with Session(engine) as session:
        message = queue.enqueue(
            session,
            cipher,
            key=key,
            channel="sms",
            purpose=purpose,
            contact="ph_0123456789abcdef",
            recipient=to,
            body=BODY,
            lang="fr",
        )
        session.commit()
        assert message.id is not None
        return message.id


def ids(claims: list[queue.Claim]) -> list[int]:
    """The message ids of claimed attempts."""
    return [c.id for c in claims]


def load(engine: Engine, message_id: int) -> OutboundMessage:
    with Session(engine) as session:
        message = session.get(OutboundMessage, message_id)
        assert message is not None
        return message


class FakeSender:
    """Records what it was asked to send and answers from a script."""

    name = "fake"

    def __init__(self, *results: SendResult | Exception) -> None:
        self.results = list(results)
        self.sent: list[tuple[str, str]] = []

    def send(self, to: str, message: str) -> SendResult:
        self.sent.append((to, message))
        result = (
            self.results.pop(0) if self.results else SendResult(ok=True, provider_message_id="x")
        )
        if isinstance(result, Exception):
            raise result
        return result


# --- the retry policy -------------------------------------------------------------------------


def test_the_delay_doubles_per_attempt_and_is_capped() -> None:
    steady = queue.RetryPolicy(base=timedelta(seconds=30), cap=timedelta(minutes=10), jitter=0)
    delays = [steady.delay(attempt).total_seconds() for attempt in range(1, 9)]
    assert delays == [30, 60, 120, 240, 480, 600, 600, 600]
    assert steady.delay(60) == timedelta(minutes=10)


def test_the_jitter_stays_within_its_bounds_and_follows_the_rng() -> None:
    policy = queue.RetryPolicy(base=timedelta(seconds=30), jitter=0.5)
    rng = random.Random(7)
    for attempt in (1, 2, 3, 4):
        raw = 30 * 2 ** (attempt - 1)
        for _ in range(50):
            seconds = policy.delay(attempt, rng).total_seconds()
            assert raw * 0.5 <= seconds <= raw * 1.5
    assert policy.delay(3, random.Random(1)) == policy.delay(3, random.Random(1))
    spread = {policy.delay(1, rng) for _ in range(20)}
    assert len(spread) > 1, "jitter spreads retries of many messages over time"


# --- enqueue ----------------------------------------------------------------------------------


def test_enqueue_encrypts_and_the_same_key_creates_nothing_twice(
    engine: Engine, cipher: Cipher
) -> None:
    first = add(engine, cipher)
    again = add(engine, cipher)
    assert again == first
    other = add(engine, cipher, key="sms-reply:ATXid_2")
    assert other != first
    with Session(engine) as session:
        rows = session.exec(select(OutboundMessage)).all()
    assert len(rows) == 2
    message = load(engine, first)
    assert message.status == OutboxStatus.PENDING and message.attempts == 0
    assert message.recipient is not None
    assert cipher.decrypt(message.recipient, queue.RECIPIENT) == TO
    assert cipher.decrypt(message.body, queue.BODY) == BODY
    assert "gratuitement" not in database_text(engine)
    assert_no_phone_numbers(database_text(engine))
    assert queue.counts(engine) == {
        "pending": 2,
        "sending": 0,
        "sent": 0,
        "delivered": 0,
        "failed": 0,
        "unknown": 0,
    }


def test_enqueue_writes_in_the_callers_transaction(engine: Engine, cipher: Cipher) -> None:
    with Session(engine) as session:
        queue.enqueue(
            session,
            cipher,
            key="alert:1",
            channel="sms",
            purpose="alert",
            contact="ph_x",
            recipient=TO,
            body=BODY,
            lang="fr",
        )
        session.rollback()  # whatever caused it was not committed: neither is the message
    assert queue.counts(engine)["pending"] == 0


# --- claiming ---------------------------------------------------------------------------------


def test_a_claim_owns_the_message_until_its_lease_ends(engine: Engine, cipher: Cipher) -> None:
    message_id = add(engine, cipher)
    now = utcnow()
    assert ids(queue.claim(engine, now=now, policy=POLICY)) == [message_id]
    claimed = load(engine, message_id)
    assert claimed.status == OutboxStatus.SENDING and claimed.attempts == 1
    assert claimed.claimed_until == now + POLICY.lease
    assert ids(queue.claim(engine, now=now, policy=POLICY)) == []
    assert queue.claim(engine, now=now + POLICY.lease - timedelta(seconds=1), policy=POLICY) == []
    # The worker died mid-send: after the lease another worker takes the message over.
    later = now + POLICY.lease + timedelta(seconds=1)
    assert ids(queue.claim(engine, now=later, policy=POLICY)) == [message_id]
    taken = load(engine, message_id)
    assert taken.attempts == 2 and taken.claimed_until == later + POLICY.lease


def test_claim_only_takes_the_named_message(engine: Engine, cipher: Cipher) -> None:
    first = add(engine, cipher, key="a")
    second = add(engine, cipher, key="b")
    now = utcnow()
    assert ids(queue.claim(engine, now=now, only=second)) == [second]
    assert ids(queue.claim(engine, now=now, only=second)) == []
    assert ids(queue.claim(engine, now=now, limit=5)) == [first]


def test_a_message_is_not_due_before_its_time(engine: Engine, cipher: Cipher) -> None:
    message_id = add(engine, cipher)
    created = load(engine, message_id).next_attempt_at
    assert queue.claim(engine, now=created - timedelta(seconds=1)) == []
    assert ids(queue.claim(engine, now=created)) == [message_id]


# --- outcomes ---------------------------------------------------------------------------------


def test_a_sent_message_forgets_its_recipient(engine: Engine, cipher: Cipher) -> None:
    message_id = add(engine, cipher)
    now = utcnow()
    [claimed] = queue.claim(engine, now=now)
    assert queue.begin(engine, cipher, claimed, now=now) == (TO, BODY)
    assert load(engine, message_id).submitted_at == now, "committed before the provider call"
    status = queue.record_result(
        engine, claimed, SendResult(ok=True, provider_message_id="ATXid_s1"), now=now
    )
    assert status == OutboxStatus.SENT
    sent = load(engine, message_id)
    assert sent.status == OutboxStatus.SENT
    assert sent.recipient is None and sent.provider_message_id == "ATXid_s1"
    assert sent.sent_at == now and sent.claimed_until is None and sent.last_error is None
    assert queue.begin(engine, cipher, claimed) is None, "nothing to send any more"
    assert queue.claim(engine, now=now + timedelta(days=1)) == []
    assert_no_phone_numbers(database_text(engine))


def test_a_transient_failure_is_retried_after_a_jittered_delay(
    engine: Engine, cipher: Cipher
) -> None:
    message_id = add(engine, cipher)
    now = utcnow()
    [claimed] = queue.claim(engine, now=now, policy=POLICY)
    status = queue.record_result(
        engine,
        claimed,
        SendResult(ok=False, error="status 405 InsufficientBalance"),
        now=now,
        policy=POLICY,
        rng=random.Random(42),
    )
    assert status == OutboxStatus.PENDING
    message = load(engine, message_id)
    expected = now + POLICY.delay(1, random.Random(42))
    assert message.next_attempt_at == expected
    assert now + timedelta(seconds=15) <= message.next_attempt_at <= now + timedelta(seconds=45)
    assert message.attempts == 1 and message.claimed_until is None
    assert message.last_error == "status 405 InsufficientBalance"
    assert message.recipient is not None, "kept until the message is sent or given up"

    assert queue.claim(engine, now=expected - timedelta(seconds=1), policy=POLICY) == []
    assert ids(queue.claim(engine, now=expected, policy=POLICY)) == [message_id]
    assert load(engine, message_id).attempts == 2


def test_after_max_attempts_the_message_fails_for_good(
    engine: Engine, cipher: Cipher, caplog: pytest.LogCaptureFixture
) -> None:
    message_id = add(engine, cipher)
    rng = random.Random(3)
    now = utcnow()
    statuses = []
    for _ in range(POLICY.max_attempts):
        [claimed] = queue.claim(engine, now=now, policy=POLICY)
        statuses.append(
            queue.record_result(
                engine,
                claimed,
                SendResult(ok=False, error="status 500 InternalServerError"),
                now=now,
                policy=POLICY,
                rng=rng,
            )
        )
        now = load(engine, message_id).next_attempt_at
    assert statuses == ["pending", "pending", "failed"]
    failed = load(engine, message_id)
    assert failed.status == OutboxStatus.FAILED and failed.attempts == POLICY.max_attempts
    assert failed.recipient is None
    assert failed.last_error == "status 500 InternalServerError"
    assert queue.claim(engine, now=now + timedelta(days=1), policy=POLICY) == []
    assert "failed for good after 3 attempt(s)" in caplog.text
    assert_no_phone_numbers(database_text(engine), caplog.text)


def test_a_permanent_refusal_fails_at_once(engine: Engine, cipher: Cipher) -> None:
    message_id = add(engine, cipher)
    [claimed] = queue.claim(engine, policy=POLICY)
    status = queue.record_result(
        engine,
        claimed,
        SendResult(ok=False, error="status 403 InvalidPhoneNumber", permanent=True),
        policy=POLICY,
    )
    assert status == OutboxStatus.FAILED
    failed = load(engine, message_id)
    assert failed.attempts == 1 and failed.recipient is None
    assert failed.last_error == "status 403 InvalidPhoneNumber"


def test_a_result_for_a_message_no_longer_claimed_changes_nothing(
    engine: Engine, cipher: Cipher
) -> None:
    message_id = add(engine, cipher)
    ok = SendResult(ok=True, provider_message_id="p")
    assert queue.record_result(engine, queue.Claim(message_id, 1), ok) == OutboxStatus.PENDING
    assert queue.record_result(engine, queue.Claim(999_999, 1), ok) == "missing"
    assert load(engine, message_id).provider_message_id is None


def test_deliver_sends_to_the_decrypted_recipient(engine: Engine, cipher: Cipher) -> None:
    message_id = add(engine, cipher)
    sender = FakeSender(SendResult(ok=True, provider_message_id="ATXid_d1"))
    [claimed] = queue.claim(engine)
    assert queue.deliver(engine, cipher, sender, claimed) == OutboxStatus.SENT
    assert sender.sent == [(TO, BODY)]
    assert load(engine, message_id).provider_message_id == "ATXid_d1"
    assert queue.deliver(engine, cipher, sender, claimed) == "skipped"
    assert len(sender.sent) == 1


def test_a_sender_that_raises_is_an_unknown_outcome_for_a_reporter(
    engine: Engine, cipher: Cipher, caplog: pytest.LogCaptureFixture
) -> None:
    """The exception may come after the text went out: a reply is not sent again."""
    message_id = add(engine, cipher)
    sender = FakeSender(RuntimeError(f"socket closed while sending to {TO}"))
    now = utcnow()
    [claimed] = queue.claim(engine, now=now, policy=POLICY)
    status = queue.deliver(engine, cipher, sender, claimed, now=lambda: now, policy=POLICY)
    assert status == OutboxStatus.UNKNOWN
    message = load(engine, message_id)
    assert message.last_error == "outcome unknown: sender error: RuntimeError"
    assert message.recipient is None, "never sent again: the number is wiped"
    assert ids(queue.claim(engine, now=now + timedelta(days=1), policy=POLICY)) == []
    assert sender.sent == [(TO, BODY)]
    assert "sender fake raised" in caplog.text and "not sent again (at most once)" in caplog.text
    assert queue.counts(engine)["unknown"] == 1
    assert_no_phone_numbers(database_text(engine), caplog.text)


def test_a_sender_that_raises_is_retried_for_an_operator_alert(
    engine: Engine, cipher: Cipher
) -> None:
    message_id = add(engine, cipher, key="alert:1:0", purpose="alert")
    sender = FakeSender(RuntimeError("socket closed"))
    now = utcnow()
    [claimed] = queue.claim(engine, now=now, policy=POLICY)
    status = queue.deliver(engine, cipher, sender, claimed, now=lambda: now, policy=POLICY)
    assert status == OutboxStatus.PENDING
    message = load(engine, message_id)
    assert message.last_error == "sender error: RuntimeError" and message.recipient is not None
    assert now + timedelta(seconds=15) <= message.next_attempt_at <= now + timedelta(seconds=45)
    [again] = queue.claim(engine, now=message.next_attempt_at, policy=POLICY)
    assert queue.deliver(engine, cipher, sender, again, policy=POLICY) == OutboxStatus.SENT
    assert sender.sent == [(TO, BODY), (TO, BODY)]


def test_a_message_no_key_opens_fails_for_good(engine: Engine, cipher: Cipher) -> None:
    message_id = add(engine, cipher)
    [claimed] = queue.claim(engine)
    stranger = Cipher((new_key(),))  # the key was dropped before rotating
    assert queue.begin(engine, stranger, claimed) is None
    failed = load(engine, message_id)
    assert failed.status == OutboxStatus.FAILED and failed.recipient is None
    assert (failed.last_error or "").startswith("cannot decrypt")


# --- delivery reports -------------------------------------------------------------------------


def sent_message(engine: Engine, cipher: Cipher, provider_id: str) -> int:
    message_id = add(engine, cipher, key=f"k-{provider_id}")
    [claimed] = queue.claim(engine, only=message_id)
    queue.record_result(engine, claimed, SendResult(ok=True, provider_message_id=provider_id))
    return message_id


def test_reports_move_a_message_to_delivered_or_failed(engine: Engine, cipher: Cipher) -> None:
    delivered = sent_message(engine, cipher, "ATXid_r1")
    undelivered = sent_message(engine, cipher, "ATXid_r2")
    now = utcnow()
    for status in ("Sent", "Buffered", "Success"):
        assert queue.record_report(
            engine, provider_message_id="ATXid_r1", status=status, failure_reason=None, now=now
        )
    assert queue.record_report(
        engine,
        provider_message_id="ATXid_r2",
        status="Failed",
        failure_reason="InsufficientCredit",
    )
    one = load(engine, delivered)
    assert one.status == OutboxStatus.DELIVERED and one.delivered_at == now
    assert one.delivery_status == "Success"
    two = load(engine, undelivered)
    assert two.status == OutboxStatus.FAILED and two.failure_reason == "InsufficientCredit"
    assert two.last_error == "delivery Failed: InsufficientCredit"
    with Session(engine) as session:
        reports = session.exec(select(DeliveryReport).order_by(DeliveryReport.id)).all()  # type: ignore[arg-type]
    assert [(r.outbox_id, r.status) for r in reports] == [
        (delivered, "Sent"),
        (delivered, "Buffered"),
        (delivered, "Success"),
        (undelivered, "Failed"),
    ]
    assert queue.counts(engine)["delivered"] == 1 and queue.counts(engine)["failed"] == 1


def test_a_report_for_an_unknown_message_is_kept(engine: Engine) -> None:
    assert not queue.record_report(
        engine, provider_message_id="ATXid_nope", status="Success", failure_reason=None
    )
    with Session(engine) as session:
        [report] = session.exec(select(DeliveryReport)).all()
    assert report.outbox_id is None and report.provider_message_id == "ATXid_nope"


# --- no message goes out twice ----------------------------------------------------------------


def test_concurrent_claimers_never_take_the_same_message(engine: Engine, cipher: Cipher) -> None:
    count = 60
    with Session(engine) as session:
        for n in range(count):
            queue.enqueue(
                session,
                cipher,
                key=f"bulk:{n}",
                channel="sms",
                purpose="alert",
                contact="ph_x",
                recipient=TO,
                body=f"message {n}",
                lang="en",
            )
        same_time = utcnow() - timedelta(seconds=1)
        for message in session.exec(select(OutboundMessage)).all():
            message.next_attempt_at = same_time  # ties: every claimer sees the same order
            session.add(message)
        session.commit()

    claimed: list[list[int]] = [[] for _ in range(4)]
    errors: list[BaseException] = []
    start = threading.Barrier(len(claimed))

    def claimer(mine: list[int]) -> None:
        try:
            start.wait(timeout=10)
            while batch := queue.claim(engine, limit=7):
                mine.extend(ids(batch))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=claimer, args=(mine,)) for mine in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    every = [i for mine in claimed for i in mine]
    duplicates = [i for i, n in Counter(every).items() if n > 1]
    assert duplicates == []
    assert len(every) == count
    assert queue.counts(engine)["sending"] == count
    with Session(engine) as session:
        attempts = {m.attempts for m in session.exec(select(OutboundMessage)).all()}
    assert attempts == {1}


# --- a worker that stops mid-delivery ---------------------------------------------------------


def test_a_claim_that_never_reached_the_provider_is_sent_by_the_next_worker(
    engine: Engine, cipher: Cipher
) -> None:
    """Stopped between the claim and the provider call: nothing went out, so it goes now."""
    message_id = add(engine, cipher)
    now = utcnow()
    [first] = queue.claim(engine, now=now, policy=POLICY)
    later = now + POLICY.lease + timedelta(seconds=1)
    assert queue.settle_unknown(engine, now=later) == []
    [second] = queue.claim(engine, now=later, policy=POLICY)
    assert (second.id, second.attempt) == (message_id, first.attempt + 1)
    sender = FakeSender()
    assert queue.deliver(engine, cipher, sender, second, now=lambda: later) == OutboxStatus.SENT
    assert queue.deliver(engine, cipher, sender, first) == "skipped", "the old attempt is fenced"
    assert sender.sent == [(TO, BODY)]


def test_a_reply_whose_worker_stopped_during_the_provider_call_is_unknown_not_resent(
    engine: Engine, cipher: Cipher, caplog: pytest.LogCaptureFixture
) -> None:
    message_id = add(engine, cipher)
    now = utcnow()
    [attempt] = queue.claim(engine, now=now, policy=POLICY)
    assert queue.begin(engine, cipher, attempt, now=now, policy=POLICY) == (TO, BODY)
    # ... the provider took the text, and the worker was killed before recording it.
    assert queue.settle_unknown(engine, now=now + POLICY.lease - timedelta(seconds=1)) == []
    later = now + POLICY.lease + timedelta(seconds=1)
    assert queue.oldest_due(engine, now=later) == now + POLICY.lease, "waits for a worker"
    assert ids(queue.claim(engine, now=later, policy=POLICY)) == []
    assert queue.settle_unknown(engine, now=later) == [message_id]
    message = load(engine, message_id)
    assert message.status == OutboxStatus.UNKNOWN and message.recipient is None
    assert message.last_error == "outcome unknown: the worker stopped during the provider call"
    assert ids(queue.claim(engine, now=later + timedelta(days=1), policy=POLICY)) == []
    assert queue.oldest_due(engine, now=later) is None
    assert queue.counts(engine)["unknown"] == 1
    assert f"outbox {message_id}: the worker stopped during its provider call" in caplog.text
    # A late answer from the stopped attempt still counts.
    ok = SendResult(ok=True, provider_message_id="ATXid_late")
    assert queue.record_result(engine, attempt, ok, now=later) == OutboxStatus.SENT
    assert load(engine, message_id).provider_message_id == "ATXid_late"
    assert_no_phone_numbers(database_text(engine), caplog.text)


def test_an_alert_whose_worker_stopped_during_the_provider_call_is_sent_again(
    engine: Engine, cipher: Cipher, caplog: pytest.LogCaptureFixture
) -> None:
    message_id = add(engine, cipher, key="alert:7:0", purpose="alert")
    now = utcnow()
    [attempt] = queue.claim(engine, now=now, policy=POLICY)
    assert queue.begin(engine, cipher, attempt, now=now, policy=POLICY) is not None
    later = now + POLICY.lease + timedelta(seconds=1)
    assert queue.settle_unknown(engine, now=later) == []
    [again] = queue.claim(engine, now=later, policy=POLICY)
    assert again == queue.Claim(message_id, 2)
    assert "attempt 1 stopped during its provider call; sending again" in caplog.text
    sender = FakeSender()
    assert queue.deliver(engine, cipher, sender, again, now=lambda: later) == OutboxStatus.SENT
    # The first attempt's answer arrives late: it cannot overwrite the second's.
    stale = SendResult(ok=True, provider_message_id="ATXid_first")
    assert queue.record_result(engine, attempt, stale) == OutboxStatus.SENT
    assert load(engine, message_id).provider_message_id == "x"


@pytest.mark.parametrize(("purpose", "status"), [("reply", "unknown"), ("alert", "pending")])
def test_an_answer_that_cannot_be_read_is_unknown_for_a_reply_and_retried_for_an_alert(
    engine: Engine, cipher: Cipher, purpose: str, status: str
) -> None:
    message_id = add(engine, cipher, key=f"{purpose}:1", purpose=purpose)
    sender = FakeSender(SendResult(ok=False, error="network: ReadTimeout", unknown=True))
    [attempt] = queue.claim(engine, policy=POLICY)
    assert queue.deliver(engine, cipher, sender, attempt, policy=POLICY) == status
    assert (load(engine, message_id).recipient is None) is (status == "unknown")


def test_an_answer_the_database_does_not_take_at_once_is_recorded_on_a_retry(
    engine: Engine, cipher: Cipher, monkeypatch: pytest.MonkeyPatch
) -> None:
    message_id = add(engine, cipher)
    real = queue.record_result
    calls: list[float] = []

    def flaky(*args: Any, **kwargs: Any) -> str:
        if len(calls) < 2:
            raise OperationalError("UPDATE outbox", {}, Exception("server closed the connection"))
        return real(*args, **kwargs)

    monkeypatch.setattr(queue, "record_result", flaky)
    [attempt] = queue.claim(engine)
    status = queue.deliver(engine, cipher, FakeSender(), attempt, pause=calls.append)
    assert status == OutboxStatus.SENT and calls == list(queue.RECORD_RETRIES[:2])
    assert load(engine, message_id).status == OutboxStatus.SENT
