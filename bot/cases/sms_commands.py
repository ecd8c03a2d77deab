"""On call from a basic phone: ``1 K7QM-46`` acknowledges a case, ``2 K7QM-46`` takes it.

An alert SMS ends with the instruction (``ui.ALERT_NEW_SMS``). The reply arrives on the same
Africa's Talking callback as reporters' messages; the rule that keeps the two apart is:

- a message is an operator's command only when it comes from the registered on-call phone of
  an active operator (recognised by the pseudonym of the number, ``operators.phone_contact``,
  checked against the encrypted phone) **and** reads as a command: ``1`` or ``2``, then a
  reference (``1 k7qm 46``, ``2 K7QM-46``);
- everything else (any text from another number, other text from an operator's number) is a
  reporter's message and goes to the conversation as before. A reporter never sees an
  operator's answer, and a command never enters a flow.

A command acts exactly as the API does (``bot.cases.commands``), with "by SMS" on the timeline
and in the audit. A reference that is unknown, or a case the operator may not act on (one they
were never alerted about, unless they supervise), changes nothing and gets one neutral answer
that does not say whether the case exists. Acknowledging twice acts once.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from bot.cases import commands
from bot.cases.access import Conflict, NotPermitted, holds
from bot.cases.reference import normalise
from bot.cases.status import Status
from bot.core.privacy import Cipher, DecryptError, pseudonym
from bot.governance import audit
from bot.i18n import ui
from bot.i18n.translate import Translate
from bot.models import Case, Escalation, Operator
from bot.team.roles import SUPERVISORS

log = logging.getLogger(__name__)

ACK, CLAIM = "1", "2"
VIA = "SMS"
PHONE_CONTEXT = "operator.phone"
_COMMAND = re.compile(r"\s*([12])[\s.,:;#*-]+(\S.{0,14}?)\s*", re.DOTALL)


@dataclass(frozen=True)
class Command:
    """What an operator's reply asks: ``1`` acknowledge or ``2`` claim, and which case."""

    action: str
    reference: str


def parse(text: str) -> Command | None:
    """The command in a reply (``1 K7QM-46``, ``2 k7qm46``), or None when it is not one."""
    found = _COMMAND.fullmatch(text)
    if found is None:
        return None
    reference = normalise(found.group(2))
    if reference is None:
        return None
    return Command(found.group(1), reference)


def phone_contact(cipher: Cipher, secret: str, operator: Operator) -> str | None:
    """The pseudonym of an operator's on-call phone (None without one, or unreadable)."""
    if operator.phone is None:
        return None
    try:
        return pseudonym(secret, "phone", cipher.decrypt(operator.phone, PHONE_CONTEXT))
    except (DecryptError, ValueError):
        log.error("operator %s: on-call phone unreadable; SMS commands off", operator.username)
        return None


def refresh_contacts(session: Session, cipher: Cipher, secret: str) -> int:
    """Give every operator whose phone has no pseudonym yet (new, changed, or from before this
    feature) its pseudonym; returns how many. The caller commits."""
    missing = session.exec(
        select(Operator).where(
            col(Operator.phone).is_not(None), col(Operator.phone_contact).is_(None)
        )
    ).all()
    for operator in missing:
        operator.phone_contact = phone_contact(cipher, secret, operator)
        session.add(operator)
    return len(missing)


def operator_for(session: Session, cipher: Cipher, secret: str, contact: str) -> Operator | None:
    """The active operator whose registered on-call phone has this pseudonym, or None."""
    refresh_contacts(session, cipher, secret)
    for operator in session.exec(
        select(Operator).where(
            col(Operator.phone_contact) == contact, col(Operator.active).is_(True)
        )
    ).all():
        if phone_contact(cipher, secret, operator) == contact:
            return operator
        operator.phone_contact = None  # stale (the phone changed): filled in again next time
        session.add(operator)
    return None


def may_act(session: Session, case: Case, operator: Operator) -> bool:
    """May this operator act on the case by SMS: a supervisor, its holder, or alerted about it?"""
    if operator.role in SUPERVISORS or holds(session, case, operator):
        return True
    alerted = session.exec(
        select(Escalation.id).where(
            col(Escalation.case_id) == case.id, col(Escalation.operator_id) == operator.id
        )
    ).first()
    return alerted is not None


def run(
    session: Session, tr: Translate, *, operator: Operator, command: Command, now: datetime
) -> str:
    """Do what the command asks, as the API would; the answer to send back (in the
    operator's language). Changes are left in the session for the caller to commit with the
    answer; on a refusal nothing is changed but an audited ``refused``."""
    lang = operator.lang
    reference = command.reference
    nothing = tr(lang, ui.SMS_NOTHING_DONE).format(reference=reference)
    case = session.exec(select(Case).where(col(Case.reference) == reference)).first()
    if case is None or case.anonymised_at is not None:
        log.info("sms command from %s: no case to act on", operator.username)
        return nothing
    if not may_act(session, case, operator):
        assert case.id is not None
        audit.record(
            session,
            actor=operator.username,
            action="refused",
            case_id=case.id,
            reason=f"act by {VIA} on a case not alerted to them",
            at=now,
        )
        log.warning("case %s: sms command refused to %s", case.id, operator.username)
        return nothing
    try:
        if command.action == ACK:
            if case.acknowledged_at is not None:
                return tr(lang, ui.SMS_ALREADY_ACKNOWLEDGED).format(reference=reference)
            commands.acknowledge(session, case=case, actor=operator, now=now, via=VIA)
            done = ui.OP_ACKNOWLEDGED
        else:
            if case.status == Status.CLOSED:
                return tr(lang, ui.OP_CASE_CLOSED).format(reference=reference)
            commands.claim(session, case=case, actor=operator, now=now, via=VIA)
            done = ui.OP_CLAIMED
    except Conflict:
        session.rollback()
        return tr(lang, ui.OP_CLAIMED_BY_OTHER).format(reference=reference)
    except NotPermitted:
        session.rollback()
        return nothing
    log.info("case %s: %s by %s by SMS", case.id, command.action, operator.username)
    return tr(lang, done).format(reference=reference)
