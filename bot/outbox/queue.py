"""The outbox: write messages with their cause, claim them once, deliver with retries.

Any number of workers may run: a row is claimed by a compare-and-set update (status, lease and
attempt number), and every later step of that attempt names the attempt it belongs to, so two
workers never send the same attempt. A claim whose worker died is taken over when its lease ends.

What a crash can cost is one provider call: the attempt is marked ``submitted_at`` (committed)
just before the call and its outcome recorded just after. A lapsed claim that was never
submitted is simply sent. One that was submitted — the worker stopped inside the call or before
recording its answer — has an unknown outcome, and the message's purpose decides:

- operator alerts (``AT_LEAST_ONCE``) are sent again: at least once;
- everything else, i.e. messages to a reporter's phone, is marked ``unknown`` and never sent
  again: at most once. An answer the sender cannot read (a timeout after the request went out,
  a connection cut mid-answer, an exception) counts the same.

Functions are synchronous (SQLAlchemy); async callers run them in a thread.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import Session, col, select

from bot.core.clock import utcnow
from bot.core.privacy import Cipher, DecryptError
from bot.i18n.gsm7 import fold, sms_parts
from bot.models import DeliveryReport, OutboundMessage, OutboxStatus
from bot.outbox.senders.base import Sender, SendResult

log = logging.getLogger(__name__)

RECIPIENT = "outbox.recipient"
BODY = "outbox.body"
DELIVERED = {"Success"}
UNDELIVERED = {"Failed", "Rejected"}
REPORT_STATUSES = {"Sent", "Submitted", "Buffered", "Rejected", "Success", "Failed"}
AT_LEAST_ONCE = frozenset({"alert"})
"""Purposes sent again when an attempt's outcome is unknown: operators' on-call alerts, where a
duplicate costs less than a missed P1. Every other purpose goes to a reporter's phone, which
may not be theirs alone, and is sent at most once."""
RECORD_RETRIES = (0.2, 0.5, 1.0, 2.0, 4.0)
"""Seconds between tries to record a provider's answer while the database does not take it."""


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential back-off with jitter: base * 2^(attempt-1), capped, +/- jitter; then give up."""

    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=1)
    max_attempts: int = 8
    jitter: float = 0.5
    lease: timedelta = timedelta(seconds=60)

    def delay(self, attempt: int, rng: random.Random | None = None) -> timedelta:
        """How long to wait after failed attempt number ``attempt`` (1-based)."""
        raw = min(self.cap.total_seconds(), self.base.total_seconds() * 2 ** (attempt - 1))
        spread = (rng or random).uniform(1 - self.jitter, 1 + self.jitter)
        return timedelta(seconds=raw * spread)


@dataclass(frozen=True)
class Claim:
    """One attempt at one message, owned by the worker that claimed it."""

    id: int
    attempt: int  # the message's ``attempts`` after the claim: a fencing token


def at_least_once(purpose: str) -> bool:
    """Whether a message of this purpose is sent again when an attempt's outcome is unknown."""
    return purpose in AT_LEAST_ONCE


def enqueue(
    session: Session,
    cipher: Cipher,
    *,
    key: str,
    channel: str,
    purpose: str,
    contact: str,
    recipient: str,
    body: str,
    lang: str,
) -> OutboundMessage:
    """Add a message in the caller's transaction; the same ``key`` returns the existing row.

    An SMS is stored as it will be sent: folded to GSM-7 in its language, with its part count.
    """
    existing = session.exec(select(OutboundMessage).where(OutboundMessage.key == key)).first()
    if existing is not None:
        return existing
    if channel == "sms":
        body = fold(body, lang)
    message = OutboundMessage(
        key=key,
        channel=channel,
        purpose=purpose,
        contact=contact,
        recipient=cipher.encrypt(recipient, RECIPIENT),
        body=cipher.encrypt(body, BODY),
        lang=lang,
        parts=sms_parts(body) if channel == "sms" else 1,
    )
    session.add(message)
    session.flush()
    return message


def claim(
    engine: Engine,
    *,
    now: datetime | None = None,
    policy: RetryPolicy = RetryPolicy(),
    limit: int = 20,
    only: int | None = None,
) -> list[Claim]:
    """Claim due messages (or just ``only``) for this worker; returns the attempts it now owns.

    Due: pending and its time has come; or claimed by a worker whose lease ran out, if that
    attempt never reached the provider, or if the message is sent at least once.
    """
    now = now or utcnow()
    status = col(OutboundMessage.status)
    lapsed = and_(status == OutboxStatus.SENDING, col(OutboundMessage.claimed_until) < now)
    resendable = or_(
        col(OutboundMessage.submitted_at).is_(None),
        col(OutboundMessage.purpose).in_(AT_LEAST_ONCE),
    )
    due = or_(
        and_(status == OutboxStatus.PENDING, col(OutboundMessage.next_attempt_at) <= now),
        and_(lapsed, resendable),
    )
    claimed: list[Claim] = []
    with Session(engine) as session:
        query = (
            select(OutboundMessage.id, OutboundMessage.attempts, OutboundMessage.submitted_at)
            .where(due)
            .order_by(col(OutboundMessage.next_attempt_at))
        )
        if only is not None:
            query = query.where(OutboundMessage.id == only)
        for message_id, attempts, submitted in session.exec(query.limit(limit)).all():
            assert message_id is not None
            result = session.execute(
                update(OutboundMessage)
                .where(
                    and_(
                        col(OutboundMessage.id) == message_id,
                        col(OutboundMessage.attempts) == attempts,
                        due,
                    )
                )
                .values(
                    status=OutboxStatus.SENDING,
                    claimed_until=now + policy.lease,
                    attempts=attempts + 1,
                    submitted_at=None,
                )
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                claimed.append(Claim(message_id, attempts + 1))
                if submitted is not None:
                    log.warning(
                        "outbox %s: attempt %d stopped during its provider call; sending again"
                        " (at least once)",
                        message_id,
                        attempts,
                    )
        session.commit()
    return claimed


def settle_unknown(engine: Engine, *, now: datetime | None = None) -> list[int]:
    """Mark ``unknown`` the messages sent at most once whose worker stopped during the provider
    call (lease run out after ``submitted_at``): they are not sent again. Returns their ids."""
    now = now or utcnow()
    stranded = and_(
        col(OutboundMessage.status) == OutboxStatus.SENDING,
        col(OutboundMessage.claimed_until) < now,
        col(OutboundMessage.submitted_at).is_not(None),
        col(OutboundMessage.purpose).not_in(AT_LEAST_ONCE),
    )
    settled: list[int] = []
    with Session(engine) as session:
        for message_id in session.exec(select(OutboundMessage.id).where(stranded)).all():
            assert message_id is not None
            result = session.execute(
                update(OutboundMessage)
                .where(and_(col(OutboundMessage.id) == message_id, stranded))
                .values(
                    status=OutboxStatus.UNKNOWN,
                    claimed_until=None,
                    recipient=None,  # never sent again: the number is not needed any more
                    last_error="outcome unknown: the worker stopped during the provider call",
                )
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                settled.append(message_id)
        session.commit()
    for message_id in settled:
        log.warning(
            "outbox %s: the worker stopped during its provider call; outcome unknown, not sent"
            " again (at most once)",
            message_id,
        )
    return settled


def _owned(session: Session, attempt: Claim, *statuses: OutboxStatus) -> OutboundMessage | None:
    """The claimed row, locked (PostgreSQL), if it is still this attempt's and in a status."""
    message = session.get(OutboundMessage, attempt.id, with_for_update=True)
    if message is None or message.attempts != attempt.attempt or message.status not in statuses:
        return None
    return message


def begin(
    engine: Engine,
    cipher: Cipher,
    attempt: Claim,
    *,
    now: datetime | None = None,
    policy: RetryPolicy = RetryPolicy(),
) -> tuple[str, str] | None:
    """The (recipient, body) of a claimed message, committed as submitted (its lease renewed)
    just before the provider call; None if this attempt cannot be sent any more."""
    now = now or utcnow()
    with Session(engine) as session:
        message = _owned(session, attempt, OutboxStatus.SENDING)
        if message is None or message.recipient is None or message.submitted_at is not None:
            return None
        try:
            sending = (
                cipher.decrypt(message.recipient, RECIPIENT),
                cipher.decrypt(message.body, BODY),
            )
        except DecryptError as exc:
            _finish(
                session,
                message,
                SendResult(ok=False, error=f"cannot decrypt: {exc}", permanent=True),
                now,
                policy,
            )
            session.commit()
            return None
        message.submitted_at = now
        message.claimed_until = now + policy.lease
        session.add(message)
        session.commit()
        return sending


def record_result(
    engine: Engine,
    attempt: Claim,
    result: SendResult,
    *,
    now: datetime | None = None,
    policy: RetryPolicy = RetryPolicy(),
    rng: random.Random | None = None,
) -> str:
    """Store what the provider said about this attempt; returns the message's status.

    A late answer still counts for a message meanwhile marked ``unknown`` (nobody resent it).
    """
    with Session(engine) as session:
        message = _owned(session, attempt, OutboxStatus.SENDING, OutboxStatus.UNKNOWN)
        if message is None:
            current = session.get(OutboundMessage, attempt.id)
            return current.status if current else "missing"
        status = _finish(session, message, result, now or utcnow(), policy, rng)
        session.commit()
        return status


def _finish(
    session: Session,
    message: OutboundMessage,
    result: SendResult,
    now: datetime,
    policy: RetryPolicy,
    rng: random.Random | None = None,
) -> str:
    message.claimed_until = None
    if result.ok:
        message.status = OutboxStatus.SENT
        message.provider_message_id = result.provider_message_id
        message.sent_at = now
        message.recipient = None  # the number is not needed any more
        message.last_error = None
    elif result.unknown and not at_least_once(message.purpose):
        message.status = OutboxStatus.UNKNOWN
        message.recipient = None  # never sent again
        message.last_error = f"outcome unknown: {result.error or 'no answer'}"[:500]
        log.warning(
            "outbox %s: outcome of attempt %d unknown (%s); not sent again (at most once)",
            message.id,
            message.attempts,
            message.last_error,
        )
    elif result.permanent or message.attempts >= policy.max_attempts:
        message.status = OutboxStatus.FAILED
        message.recipient = None
        message.last_error = (result.error or "failed")[:500]
        log.warning(
            "outbox %s failed for good after %d attempt(s): %s",
            message.id,
            message.attempts,
            message.last_error,
        )
    else:
        message.status = OutboxStatus.PENDING
        message.next_attempt_at = now + policy.delay(message.attempts, rng)
        message.last_error = (result.error or "failed")[:500]
        log.info(
            "outbox %s attempt %d failed (%s); retry at %s",
            message.id,
            message.attempts,
            message.last_error,
            message.next_attempt_at.isoformat(timespec="seconds"),
        )
    session.add(message)
    return message.status


def deliver(
    engine: Engine,
    cipher: Cipher,
    sender: Sender,
    attempt: Claim,
    *,
    now: Callable[[], datetime] = utcnow,
    policy: RetryPolicy = RetryPolicy(),
    pause: Callable[[float], None] = time.sleep,
) -> str:
    """Send one claimed attempt and record the outcome (blocking: run it in a thread).

    Only the provider call lies between the two commits. A database that does not take the
    answer is tried again for a few seconds (``RECORD_RETRIES``) before the error is raised.
    """
    prepared = begin(engine, cipher, attempt, now=now(), policy=policy)
    if prepared is None:
        return "skipped"
    recipient, body = prepared
    try:
        result = sender.send(recipient, body)
    except Exception as exc:  # its message may name the recipient: only its type is logged
        log.error("sender %s raised %s for outbox %s", sender.name, type(exc).__name__, attempt.id)
        result = SendResult(ok=False, error=f"sender error: {type(exc).__name__}", unknown=True)
    answered = now()
    for delay in RECORD_RETRIES:
        try:
            return record_result(engine, attempt, result, now=answered, policy=policy)
        except (OperationalError, InterfaceError):
            log.warning("outbox %s: cannot record the answer yet; trying again", attempt.id)
            pause(delay)
    return record_result(engine, attempt, result, now=answered, policy=policy)


def record_report(
    engine: Engine,
    *,
    provider_message_id: str,
    status: str,
    failure_reason: str | None,
    now: datetime | None = None,
) -> bool:
    """Keep a delivery report against its message; False when no message has that id."""
    now = now or utcnow()
    with Session(engine) as session:
        message = session.exec(
            select(OutboundMessage).where(
                OutboundMessage.provider_message_id == provider_message_id
            )
        ).first()
        session.add(
            DeliveryReport(
                outbox_id=message.id if message else None,
                provider_message_id=provider_message_id,
                status=status,
                failure_reason=failure_reason,
                received_at=now,
            )
        )
        if message is not None:
            message.delivery_status = status
            message.failure_reason = failure_reason
            if status in DELIVERED:
                message.status = OutboxStatus.DELIVERED
                message.delivered_at = now
            elif status in UNDELIVERED:
                message.status = OutboxStatus.FAILED
                message.last_error = f"delivery {status}: {failure_reason or 'no reason given'}"
            session.add(message)
        session.commit()
        return message is not None


def oldest_due(engine: Engine, *, now: datetime | None = None) -> datetime | None:
    """Since when the message waiting longest for a worker has been due: pending and its time
    come, or claimed by a worker whose lease ran out. None when nothing waits."""
    now = now or utcnow()
    status = col(OutboundMessage.status)
    with Session(engine) as session:
        pending = session.exec(
            select(func.min(OutboundMessage.next_attempt_at)).where(
                status == OutboxStatus.PENDING, col(OutboundMessage.next_attempt_at) <= now
            )
        ).one()
        lapsed = session.exec(
            select(func.min(OutboundMessage.claimed_until)).where(
                status == OutboxStatus.SENDING, col(OutboundMessage.claimed_until) < now
            )
        ).one()
    found = [moment for moment in (pending, lapsed) if moment is not None]
    return min(found) if found else None


def counts(engine: Engine) -> dict[str, int]:
    """Messages per status, for health and the operators' view."""
    with Session(engine) as session:
        rows = session.exec(
            select(OutboundMessage.status, func.count()).group_by(OutboundMessage.status)
        ).all()
    found: dict[str, int] = {s.value: 0 for s in OutboxStatus}
    found.update({status: int(n) for status, n in rows})
    return found
