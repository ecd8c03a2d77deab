"""The transactional outbox: every outbound message is a row written with whatever caused it.

The recipient and body are encrypted; the recipient is wiped once the provider has taken the
message, it failed for good, or its outcome is unknown, so a number is never kept longer than
needed to deliver. ``WorkerHeartbeat`` rows say which workers are alive to deliver them.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from bot.core.clock import utcnow


class OutboxStatus(StrEnum):
    """Where a message is: pending → sending → sent (→ delivered), or failed for good, or
    unknown: handed to the provider by a worker that stopped before it heard the answer (a
    message sent at most once is not sent again; see ``bot.outbox.queue``)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    UNKNOWN = "unknown"


class OutboundMessage(SQLModel, table=True):
    """One message to deliver, with its retry schedule and what the provider said."""

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=160, unique=True)  # idempotency: the same cause, the same row
    channel: str = Field(max_length=16)
    purpose: str = Field(max_length=32)  # reply, alert, ...
    contact: str = Field(max_length=40, index=True)
    recipient: str | None = Field(default=None, max_length=512)  # encrypted; wiped after use
    body: str = Field(max_length=8192)  # encrypted
    lang: str = Field(max_length=8)
    parts: int = 1
    status: str = Field(default=OutboxStatus.PENDING, max_length=16, index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, index=True)
    claimed_until: datetime | None = None
    submitted_at: datetime | None = None  # this attempt's provider call began (None: not yet)
    last_error: str | None = Field(default=None, max_length=500)
    provider_message_id: str | None = Field(default=None, max_length=128, index=True)
    delivery_status: str | None = Field(default=None, max_length=32)
    failure_reason: str | None = Field(default=None, max_length=128)
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
    delivered_at: datetime | None = None


class DeliveryReport(SQLModel, table=True):
    """Each delivery report the provider sent, in order, against its outbound message."""

    __tablename__ = "delivery_reports"

    id: int | None = Field(default=None, primary_key=True)
    outbox_id: int | None = Field(default=None, foreign_key="outbox.id", index=True)
    provider_message_id: str = Field(max_length=128, index=True)
    status: str = Field(max_length=32)
    failure_reason: str | None = Field(default=None, max_length=128)
    received_at: datetime = Field(default_factory=utcnow)


class WorkerHeartbeat(SQLModel, table=True):
    """A running ``hotline worker``, refreshed every few seconds; removed when it stops cleanly.

    A row whose ``seen_at`` is old is a worker that died: ``/healthz`` fails while no row is
    fresh (see ``bot.jobs.health``).
    """

    __tablename__ = "worker_heartbeats"

    name: str = Field(primary_key=True, max_length=120)  # host:pid
    started_at: datetime = Field(default_factory=utcnow)
    seen_at: datetime = Field(default_factory=utcnow, index=True)
    redis: str = Field(max_length=16)  # none, connected, reconnecting
