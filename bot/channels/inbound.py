"""Inbound provider messages: drop retries (by provider id) and floods (per contact per hour)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from bot.core.clock import utcnow
from bot.models import InboundMessage

log = logging.getLogger(__name__)

Verdict = Literal["new", "duplicate", "flood"]


def forget(engine: Engine, *, channel: str, provider_id: str) -> None:
    """Remove a message's record after its processing failed, so the provider's retry counts."""
    with Session(engine) as session:
        for row in session.exec(
            select(InboundMessage).where(
                col(InboundMessage.channel) == channel,
                col(InboundMessage.provider_id) == provider_id,
            )
        ).all():
            session.delete(row)
        session.commit()


def accept(
    engine: Engine,
    *,
    channel: str,
    provider_id: str,
    contact: str,
    hourly_limit: int,
    now: datetime | None = None,
) -> Verdict:
    """Record an inbound message once; say whether to process it (blocking: run in a thread)."""
    now = now or utcnow()
    with Session(engine) as session:
        recent = session.exec(
            select(func.count())
            .select_from(InboundMessage)
            .where(
                col(InboundMessage.contact) == contact,
                col(InboundMessage.received_at) > now - timedelta(hours=1),
            )
        ).one()
        flood = recent >= hourly_limit
        session.add(
            InboundMessage(
                channel=channel,
                provider_id=provider_id,
                contact=contact,
                received_at=now,
                dropped=flood,
            )
        )
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            log.info("%s message already received; retry ignored", channel)
            return "duplicate"
    if flood:
        log.warning(
            "%s flood from %s: %d messages in the last hour; dropped without reply",
            channel,
            contact[:11],
            recent + 1,
        )
        return "flood"
    return "new"
