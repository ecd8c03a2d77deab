"""The outbox: write messages with their cause, claim them once, deliver with retries.

Any number of workers may run: a row is claimed by a compare-and-set update (status and lease),
so no message goes out twice. A claim whose worker died is taken over when its lease ends.
Functions are synchronous (SQLAlchemy); async callers run them in a thread.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, update
from sqlalchemy.engine import Engine
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
) -> list[int]:
    """Claim due messages (or just ``only``) for this worker; returns the ids it now owns."""
    now = now or utcnow()
    status = col(OutboundMessage.status)
    due = or_(
        and_(status == OutboxStatus.PENDING, col(OutboundMessage.next_attempt_at) <= now),
        and_(status == OutboxStatus.SENDING, col(OutboundMessage.claimed_until) < now),
    )
    claimed: list[int] = []
    with Session(engine) as session:
        query = select(OutboundMessage.id).where(due).order_by(col(OutboundMessage.next_attempt_at))
        if only is not None:
            query = query.where(OutboundMessage.id == only)
        candidates = [i for i in session.exec(query.limit(limit)).all() if i is not None]
        for message_id in candidates:
            result = session.execute(
                update(OutboundMessage)
                .where(and_(col(OutboundMessage.id) == message_id, due))
                .values(
                    status=OutboxStatus.SENDING,
                    claimed_until=now + policy.lease,
                    attempts=OutboundMessage.attempts + 1,
                )
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                claimed.append(message_id)
        session.commit()
    return claimed


def prepare(engine: Engine, cipher: Cipher, message_id: int) -> tuple[str, str] | None:
    """The (recipient, body) of a claimed message, or None if it cannot be sent any more."""
    with Session(engine) as session:
        message = session.get(OutboundMessage, message_id)
        if message is None or message.status != OutboxStatus.SENDING or message.recipient is None:
            return None
        try:
            return cipher.decrypt(message.recipient, RECIPIENT), cipher.decrypt(message.body, BODY)
        except DecryptError as exc:
            _finish(
                session,
                message,
                SendResult(ok=False, error=f"cannot decrypt: {exc}", permanent=True),
                utcnow(),
                RetryPolicy(),
            )
            session.commit()
            return None


def record_result(
    engine: Engine,
    message_id: int,
    result: SendResult,
    *,
    now: datetime | None = None,
    policy: RetryPolicy = RetryPolicy(),
    rng: random.Random | None = None,
) -> str:
    """Store what the provider said; returns the new status."""
    with Session(engine) as session:
        message = session.get(OutboundMessage, message_id)
        if message is None or message.status != OutboxStatus.SENDING:
            return message.status if message else "missing"
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
    message_id: int,
    *,
    now: Callable[[], datetime] = utcnow,
    policy: RetryPolicy = RetryPolicy(),
) -> str:
    """Send one claimed message and record the outcome (blocking: run it in a thread)."""
    prepared = prepare(engine, cipher, message_id)
    if prepared is None:
        return "skipped"
    recipient, body = prepared
    try:
        result = sender.send(recipient, body)
    except Exception as exc:
        log.exception("sender %s raised for outbox %s", sender.name, message_id)
        result = SendResult(ok=False, error=f"sender error: {type(exc).__name__}")
    return record_result(engine, message_id, result, now=now(), policy=policy)


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


def counts(engine: Engine) -> dict[str, int]:
    """Messages per status, for health and the operators' view."""
    with Session(engine) as session:
        rows = session.exec(
            select(OutboundMessage.status, func.count()).group_by(OutboundMessage.status)
        ).all()
    found: dict[str, int] = {s.value: 0 for s in OutboxStatus}
    found.update({status: int(n) for status, n in rows})
    return found
