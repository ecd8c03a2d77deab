"""On-call alerts: an escalation level recorded and its neutral alert queued by SMS and Telegram.

The alert names the reference, the priority and the area, never what was reported. The outbox
shapes each channel's message (GSM-7 folding and parts for SMS, buttons for Telegram).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.core.privacy import Cipher, DecryptError
from bot.i18n import ui
from bot.i18n.translate import Translate
from bot.models import Case, CaseEvent, Escalation, Operator
from bot.outbox import keys, queue
from bot.team.telegram_link import chat_of

log = logging.getLogger(__name__)

ACK_WINDOW = timedelta(minutes=10)
"""How long the person alerted has to acknowledge before the next level is alerted."""


def alert_operator(
    session: Session,
    cipher: Cipher,
    tr: Translate,
    *,
    case: Case,
    operator: Operator | None,
    level: int,
    reason: str,
    now: datetime,
) -> list[int]:
    """Record an escalation level and queue its alerts (reference, priority, area only): by
    SMS to the operator's phone and, when they linked Telegram, to their chat with buttons to
    acknowledge and claim (the Telegram sender rebuilds them from the outbox key
    ``bot.outbox.keys.telegram_alert``). Returns the outbox ids queued."""
    assert case.id is not None
    escalation = Escalation(
        case_id=case.id,
        level=level,
        operator_id=operator.id if operator else None,
        reason=reason,
        notified_at=now,
        due_at=now + ACK_WINDOW,
    )
    session.add(escalation)
    session.flush()
    who = operator.username if operator else "nobody on call"
    session.add(
        CaseEvent(
            case_id=case.id,
            at=now,
            actor="system",
            kind="alert",
            detail=f"level {level} ({reason}) to {who}",
        )
    )
    if operator is None or (operator.phone is None and operator.telegram_chat is None):
        log.warning("case %s: no one to alert at level %d (%s)", case.reference, level, reason)
        return []
    message = ui.ALERT_NEW if level == 0 and reason == "new_p1" else ui.ALERT_ESCALATED
    text = tr(operator.lang, message).format(
        reference=case.reference, priority=case.priority, area=case.area or "-"
    )
    queued: list[int] = []
    chat = chat_of(cipher, operator)
    if chat is not None:
        sent = queue.enqueue(
            session,
            cipher,
            key=keys.telegram_alert(case.id, level),
            channel="telegram",
            purpose="alert",
            contact=f"op_{operator.id}",
            recipient=chat,
            body=text,
            lang=operator.lang,
        )
        assert sent.id is not None
        queued.append(sent.id)
    if operator.phone is None:
        return queued
    try:
        phone = cipher.decrypt(operator.phone, "operator.phone")
    except DecryptError:
        log.error("operator %s phone cannot be decrypted; alert not queued", operator.username)
        return queued
    sms = queue.enqueue(
        session,
        cipher,
        key=keys.sms_alert(case.id, level),
        channel="sms",
        purpose="alert",
        contact=f"op_{operator.id}",
        recipient=phone,
        body=text,
        lang=operator.lang,
    )
    assert sms.id is not None
    queued.append(sms.id)
    return queued
