"""On-call alerts: an escalation level recorded and its neutral alert queued by SMS and Telegram.

The alert names the reference, the priority and the area, never what was reported. The outbox
shapes each channel's message (GSM-7 folding and parts for SMS, buttons for Telegram).

A burst cannot page the team a hundred times (``AlertPolicy``):

- **grouped**: an operator's first alert in a grouping window (``HOTLINE_ALERT_GROUP_SECONDS``,
  2 minutes) goes at once; the rest of that window's alerts to them become one grouped alert,
  sent as the window closes, naming each case's reference, priority and area;
- **budgeted**: a shift pages at most ``HOTLINE_ALERT_SHIFT_BUDGET`` times (a page is one alert
  or one grouped alert, on every channel the operator has); past that, nobody is paged for the
  rest of the shift and the shift's supervisor gets one summary instead. Cases still wait in the
  queue, and their escalation rows still climb, recorded on their timeline.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import text as sql_text
from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.core.privacy import Cipher, DecryptError
from bot.core.settings import Settings
from bot.i18n import ui
from bot.i18n.gsm7 import fold, sms_parts
from bot.i18n.translate import Translate
from bot.models import Case, CaseEvent, Escalation, Operator, OutboundMessage
from bot.outbox import keys, queue
from bot.team.oncall import OnCall
from bot.team.telegram_link import chat_of

log = logging.getLogger(__name__)

ACK_WINDOW = timedelta(minutes=10)
"""How long the person alerted has to acknowledge before the next level is alerted."""
GROUP_SHOWN = 8
"""References a grouped alert names; it counts the rest (an SMS stays 2-3 parts)."""
ALERTS_LOCK = 0x484F544C494E45
"""PostgreSQL advisory lock taken while deciding how to page (``serialise``)."""


@dataclass(frozen=True)
class AlertPolicy:
    """How a burst of alerts is tamed: a grouping window and a budget of pages per shift."""

    group_seconds: int = 120
    """An operator's alerts after the first in a window go as one, at its end; 0: never."""
    shift_budget: int = 30
    """Pages per shift before only the supervisor's one summary goes out; 0: no budget."""

    @classmethod
    def from_settings(cls, settings: Settings) -> AlertPolicy:
        """The policy the settings ask for."""
        return cls(
            group_seconds=max(0, settings.alert_group_seconds),
            shift_budget=max(0, settings.alert_shift_budget),
        )


def serialise(session: Session, lock: int = ALERTS_LOCK) -> None:
    """Decide pages one transaction at a time on PostgreSQL (an advisory lock held until the
    transaction ends), so two app processes never both take the last page of a budget or both
    open a window's group; SQLite writes one transaction at a time already."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(sql_text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": lock})


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
    team: OnCall | None = None,
    policy: AlertPolicy | None = None,
) -> list[int]:
    """Record an escalation level and queue its alerts (reference, priority, area only): by
    SMS to the operator's phone and, when they linked Telegram, to their chat with buttons to
    acknowledge and claim (the Telegram sender rebuilds them from the outbox key
    ``bot.outbox.keys.telegram_alert``) — or add it to the operator's grouped alert, or hold it
    when the shift's budget is spent (``AlertPolicy``; ``team`` is who is on call, for the
    budget). Returns the outbox ids to deliver now (a grouped alert waits for its window)."""
    assert case.id is not None
    policy = policy or AlertPolicy()
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
        log.warning("case %s: no one to alert at level %d (%s)", case.id, level, reason)
        return []
    assert operator.id is not None
    serialise(session)
    shift = team.shift if team is not None else None
    if policy.shift_budget and shift is not None and shift.id is not None:
        spent = _pages(session, team, shift.starts_at)
        if spent >= policy.shift_budget:
            session.add(
                CaseEvent(
                    case_id=case.id,
                    at=now,
                    actor="system",
                    kind="alert",
                    detail=f"level {level} not paged: the shift's {spent} alerts are spent",
                )
            )
            log.warning(
                "case %s: alert budget of the shift spent (%d pages); not paged",
                case.id,
                spent,
            )
            return _budget_summary(session, cipher, tr, team, shift.id, spent, now)
    if policy.group_seconds:
        window = int(now.timestamp()) // policy.group_seconds
        opened = datetime.fromtimestamp(window * policy.group_seconds, UTC)
        if _paged_since(session, operator.id, opened):
            closes = opened + timedelta(seconds=policy.group_seconds)
            if _group(session, cipher, tr, operator, window, opened, closes, now):
                return []  # sent as the window closes, by the workers' sweep
    new = level == 0 and reason == "new_p1"
    values = {"reference": case.reference, "priority": case.priority, "area": case.area or "-"}
    text = tr(operator.lang, ui.ALERT_NEW if new else ui.ALERT_ESCALATED).format(**values)
    # By SMS the alert ends with how to answer it (bot.cases.sms_commands), in one SMS part.
    sms = tr(operator.lang, ui.ALERT_NEW_SMS if new else ui.ALERT_ESCALATED_SMS).format(**values)
    return _queue(
        session,
        cipher,
        operator,
        text,
        sms_text=sms,
        sms_key=keys.case_alert("sms", case.id, level),
        telegram_key=keys.case_alert("telegram", case.id, level),
        now=now,
    )


def _queue(
    session: Session,
    cipher: Cipher,
    operator: Operator,
    text: str,
    *,
    sms_key: str,
    telegram_key: str,
    now: datetime,
    due: datetime | None = None,
    sms_text: str | None = None,
) -> list[int]:
    """One page: the text to the operator's Telegram chat and phone (``sms_text`` there, when
    given); returns the outbox ids."""
    queued: list[int] = []

    def send(channel: str, key: str, recipient: str) -> None:
        message = queue.enqueue(
            session,
            cipher,
            key=key,
            channel=channel,
            purpose="alert",
            contact=f"op_{operator.id}",
            recipient=recipient,
            body=sms_text if channel == "sms" and sms_text is not None else text,
            lang=operator.lang,
        )
        assert message.id is not None
        _stamp(message, now, due)
        queued.append(message.id)

    chat = chat_of(cipher, operator)
    if chat is not None:
        send("telegram", telegram_key, chat)
    if operator.phone is None:
        return queued
    try:
        phone = cipher.decrypt(operator.phone, "operator.phone")
    except DecryptError:
        log.error("operator %s phone cannot be decrypted; alert not queued", operator.username)
        return queued
    send("sms", sms_key, phone)
    return queued


def _stamp(message: OutboundMessage, now: datetime, due: datetime | None) -> None:
    """Date a new alert by the caller's clock (windows and budgets count by it)."""
    if message.attempts == 0 and message.status == "pending":
        message.created_at = now
        if due is not None:
            message.next_attempt_at = due


def _alert_rows(session: Session, contacts: list[str], since: datetime) -> list[str]:
    """Keys of alert messages to these operators queued since a moment."""
    return [
        key
        for key in session.exec(
            select(OutboundMessage.key).where(
                col(OutboundMessage.contact).in_(contacts),
                col(OutboundMessage.purpose) == "alert",
                col(OutboundMessage.created_at) >= since,
            )
        ).all()
    ]


def _pages(session: Session, team: OnCall | None, since: datetime) -> int:
    """Pages the shift's people got since it started (a page's SMS and Telegram count once;
    the budget summary not at all)."""
    people = [p for p in (team.primary, team.backup, team.supervisor) if p] if team else []
    contacts = [f"op_{p.id}" for p in people]
    if not contacts:
        return 0
    found = {keys.page(k) for k in _alert_rows(session, contacts, since) if not keys.is_budget(k)}
    found.discard(None)
    return len(found)


def _paged_since(session: Session, operator_id: int, since: datetime) -> bool:
    """Was this operator paged (an alert or a grouped alert) since a moment?"""
    return any(
        keys.page(k) and not keys.is_budget(k)
        for k in _alert_rows(session, [f"op_{operator_id}"], since)
    )


def _group(
    session: Session,
    cipher: Cipher,
    tr: Translate,
    operator: Operator,
    window: int,
    opened: datetime,
    closes: datetime,
    now: datetime,
) -> bool:
    """Write (or rewrite) the operator's grouped alert of a window: every alert to them in the
    window that did not go on its own. False when it has already gone (then alert alone)."""
    assert operator.id is not None
    sms_key = keys.group_alert("sms", operator.id, window)
    telegram_key = keys.group_alert("telegram", operator.id, window)
    existing = session.exec(
        select(OutboundMessage).where(col(OutboundMessage.key).in_([sms_key, telegram_key]))
    ).all()
    if any(m.status != "pending" or m.attempts for m in existing):
        return False
    alone = set(_alert_rows(session, [f"op_{operator.id}"], opened))
    rows = session.exec(
        select(Escalation, Case)
        .join(Case, col(Case.id) == col(Escalation.case_id))
        .where(
            col(Escalation.operator_id) == operator.id,
            col(Escalation.notified_at) >= opened,
            col(Escalation.notified_at) <= now,
        )
        .order_by(col(Escalation.id))
    ).all()
    grouped = [
        case
        for step, case in rows
        if case.id is not None
        and keys.case_alert("sms", case.id, step.level) not in alone
        and keys.case_alert("telegram", case.id, step.level) not in alone
    ]
    if not grouped:
        return False
    text = _group_text(tr, operator.lang, grouped)
    sms = f"{text} {tr(operator.lang, ui.ALERT_GROUP_SMS)}"
    if not existing:
        _queue(
            session,
            cipher,
            operator,
            text,
            sms_text=sms,
            sms_key=sms_key,
            telegram_key=telegram_key,
            now=now,
            due=closes,
        )
        return True
    for message in existing:
        body = fold(sms, operator.lang) if message.channel == "sms" else text
        changed = session.execute(
            update(OutboundMessage)
            .where(
                col(OutboundMessage.id) == message.id,
                col(OutboundMessage.status) == "pending",
                col(OutboundMessage.attempts) == 0,
            )
            .values(
                body=cipher.encrypt(body, queue.BODY),
                parts=sms_parts(body) if message.channel == "sms" else 1,
            )
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            return False  # a worker took it meanwhile: this alert goes alone
    return True


def _group_text(tr: Translate, lang: str, cases: list[Case]) -> str:
    """The grouped alert: how many cases, and the first few by reference, priority and area."""
    shown = [
        tr(lang, ui.ALERT_GROUP_ITEM).format(
            reference=c.reference, priority=c.priority, area=c.area or "-"
        )
        for c in cases[:GROUP_SHOWN]
    ]
    listed = "; ".join(shown)
    if len(cases) > GROUP_SHOWN:
        listed += "; " + tr(lang, ui.ALERT_GROUP_MORE).format(count=len(cases) - GROUP_SHOWN)
    return tr(lang, ui.ALERT_GROUP).format(count=len(cases), cases=listed)


def _budget_summary(
    session: Session,
    cipher: Cipher,
    tr: Translate,
    team: OnCall | None,
    shift_id: int,
    spent: int,
    now: datetime,
) -> list[int]:
    """The shift's one summary to its supervisor (queued once: its key is the shift's)."""
    supervisor = team.supervisor if team is not None else None
    if supervisor is None or (supervisor.phone is None and supervisor.telegram_chat is None):
        log.warning("alert budget spent and no supervisor to tell")
        return []
    sms_key = keys.budget_alert("sms", shift_id)
    telegram_key = keys.budget_alert("telegram", shift_id)
    if session.exec(
        select(OutboundMessage.id).where(col(OutboundMessage.key).in_([sms_key, telegram_key]))
    ).first():
        return []
    text = tr(supervisor.lang, ui.ALERT_BUDGET).format(count=spent)
    log.warning("alert budget of the shift spent; the supervisor gets one summary")
    return _queue(
        session, cipher, supervisor, text, sms_key=sms_key, telegram_key=telegram_key, now=now
    )
