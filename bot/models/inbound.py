"""Inbound provider messages, kept only to drop retries and floods: no text, no number."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel, UniqueConstraint

from bot.core.clock import utcnow


class InboundMessage(SQLModel, table=True):
    """One inbound message by its provider id (a retry of the same id is refused by the key)."""

    __tablename__ = "inbound_messages"
    __table_args__ = (UniqueConstraint("channel", "provider_id", name="uq_inbound_provider_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    provider_id: str = Field(max_length=128)
    contact: str = Field(max_length=40, index=True)
    received_at: datetime = Field(default_factory=utcnow, index=True)
    dropped: bool = False
