"""Inbound provider messages: drop retries (by provider id) and floods (per contact per hour).

A message answered through the outbox (SMS) counts as seen only once its answer is committed:
its row is a claim until then. A copy arriving while the claim is fresh is ``busy`` (the
provider is told to try again later); one arriving after the claim lapsed with no answer takes
the message over, so an app that crashed between the two loses nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from bot.core.clock import utcnow
from bot.models import InboundMessage, OutboundMessage

log = logging.getLogger(__name__)

Verdict = Literal["new", "duplicate", "flood", "busy"]
CLAIM = timedelta(seconds=30)
"""How long a message being handled holds off its copies (a crashed handler's claim lapses)."""


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
    answer_key: str | None = None,
    claim: timedelta = CLAIM,
) -> Verdict:
    """Record an inbound message once; say whether to process it (blocking: run in a thread).

    With ``answer_key`` (the outbox key of its answer, committed with it) a second copy is a
    ``duplicate`` only once that answer exists; before, it is ``busy`` while the first copy's
    claim is fresh, and ``new`` (taken over) once it has lapsed.
    """
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
            if answer_key is not None:
                return _again(session, channel, provider_id, answer_key, now, claim)
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


def _again(
    session: Session,
    channel: str,
    provider_id: str,
    answer_key: str,
    now: datetime,
    claim: timedelta,
) -> Verdict:
    """A copy of a message already recorded: answered, being handled, or abandoned."""
    row = session.exec(
        select(InboundMessage).where(
            col(InboundMessage.channel) == channel, col(InboundMessage.provider_id) == provider_id
        )
    ).first()
    if row is None:  # its handler failed and let go a moment ago: the provider retries
        return "busy"
    answered = session.exec(
        select(OutboundMessage.id).where(col(OutboundMessage.key) == answer_key)
    ).first()
    if row.dropped or answered is not None:
        log.info("%s message already answered; retry ignored", channel)
        return "duplicate"
    if row.received_at > now - claim:
        log.info("%s message being handled; the provider will retry", channel)
        return "busy"
    taken = session.execute(
        update(InboundMessage)
        .where(
            col(InboundMessage.id) == row.id,
            col(InboundMessage.received_at) == row.received_at,
        )
        .values(received_at=now)
    )
    session.commit()
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return "busy"  # another copy took it over first
    log.warning("%s message left unanswered by a handler that stopped; handling it now", channel)
    return "new"
