"""Reaching a person back: the address kept with their consent, and a message through the bot.

A case keeps one way to reach the person, encrypted in ``contact_phone`` and only with contact
consent (DESIGN §9): on USSD and SMS the number they wrote from; on Telegram, which has no
number, the chat (``telegram:<chat id>``), or a number they chose to type for a call. So
retention, key rotation and a withdrawn consent treat both alike, and a case never promises a
contact the team has no way to make. An operator answers a Telegram case through the bot
(``message_person``): the message goes out through the outbox, its text encrypted; the timeline
and the audit log say that a message was sent, never what it said.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from bot.cases.access import Conflict, check_actor, check_kept, now_or
from bot.cases.commands import check_holder
from bot.core.privacy import Cipher, normalise_phone
from bot.governance import audit
from bot.models import Case, CaseEvent, Operator, OutboundMessage
from bot.outbox.queue import enqueue

log = logging.getLogger(__name__)

TELEGRAM = "telegram:"
"""How a kept Telegram chat is written (then encrypted): ``telegram:<chat id>``."""
CONTACT_PHONE = "case.contact_phone"
MAX_MESSAGE = 1000
"""Characters of an operator's message (one Telegram message holds 4096)."""


@dataclass(frozen=True)
class Reach:
    """How the person may be reached: the address to keep (None: none) and the method."""

    address: str | None
    method: str | None


def reach(channel: str, address: str | None, answers: dict[str, str]) -> Reach:
    """What to keep for a consented contact, from the channel and the person's answers.

    On Telegram a typed number is kept for a call when it is a phone number; otherwise (or when
    they asked for a message) the chat is, so the team can always answer in it.
    """
    method = answers.get("contact_method")
    if channel != "telegram":
        return Reach(address, method)
    typed = answers.get("callback_number")
    if method == "call" and typed:
        try:
            return Reach(normalise_phone(typed), "call")
        except ValueError:
            log.info("a typed call-back number is not a phone number; the chat is kept instead")
    return Reach(TELEGRAM + address if address else None, "telegram")


def telegram_chat(stored: str) -> int | None:
    """The chat id a kept address names, or None when it is not a Telegram chat."""
    if not stored.startswith(TELEGRAM):
        return None
    try:
        return int(stored.removeprefix(TELEGRAM))
    except ValueError:
        return None


def has_chat(cipher: Cipher, case: Case) -> bool:
    """Does the case keep a Telegram chat the person agreed to be answered in? (Read, not shown.)"""
    if not case.consent_contact or case.contact_phone is None or case.anonymised_at is not None:
        return False
    return telegram_chat(cipher.decrypt(case.contact_phone, CONTACT_PHONE)) is not None


def message_person(
    session: Session,
    cipher: Cipher,
    *,
    case: Case,
    actor: Operator,
    body: str,
    now: datetime | None = None,
    key: str | None = None,
) -> int:
    """Queue an operator's message to the person's Telegram chat; returns the outbox id.

    Only the case's holder or a supervisor, only with contact consent and a kept chat
    (``Conflict`` otherwise); the caller commits. A retried request sends nothing twice and
    records nothing twice: the same idempotency ``key`` is one message; without one, the same
    text in the same minute is.
    """
    check_actor(actor)
    check_kept(case)
    now = now_or(now)
    body = body.strip()
    if not body:
        raise ValueError("a message cannot be empty")
    if len(body) > MAX_MESSAGE:
        raise ValueError(f"a message is at most {MAX_MESSAGE} characters")
    check_holder(session, case, actor, doing="message the person", now=now)
    chat = None
    if case.consent_contact and case.contact_phone is not None:
        chat = telegram_chat(cipher.decrypt(case.contact_phone, CONTACT_PHONE))
    if chat is None:
        raise Conflict(
            f"case {case.reference} has no Telegram chat the person agreed to be contacted in"
        )
    assert case.id is not None
    seed = f"{case.id}:key:{key}" if key else f"{case.id}:{now:%Y%m%d%H%M}:{body}"
    digest = hashlib.sha256(seed.encode()).hexdigest()[:24]
    outbox_key = f"person:{case.reference}:{digest}"
    sent = session.exec(select(OutboundMessage).where(OutboundMessage.key == outbox_key)).first()
    if sent is not None and sent.id is not None:
        log.info("case %s: a retried message, already queued", case.id)
        return sent.id
    message = enqueue(
        session,
        cipher,
        key=outbox_key,
        channel="telegram",
        purpose="reply",
        contact=case.contact or case.reference,
        recipient=str(chat),
        body=body,
        lang=case.lang,
    )
    session.add(
        CaseEvent(
            case_id=case.id,
            at=now,
            actor=actor.username,
            kind="message",
            detail="message sent to the person through the bot",
        )
    )
    audit.record(session, actor=actor.username, action="message", case_id=case.id, at=now)
    log.info("case %s: message to the person queued by %s", case.id, actor.username)
    assert message.id is not None
    return message.id
