"""Handling a case: the queue, acknowledging, claiming, status, notes, consent, and reading it.

Each function works in the caller's session and leaves the commit to it, so a change, its line
on the timeline (``CaseEvent``: who, what, when — never what was reported) and its audit entry
(``AuditEntry``) commit together. Reading a case decrypts only through ``audit.decrypt_for``,
so every decryption is on record with the reader and the reason they gave.

Changes to a case are compare-and-set: two operators acting on the same case at once cannot
both win; the second is told it changed (``Conflict``). Role rules that depend on the case
(reopening a closed case, taking over another operator's case, seeing a phone number) are
checked here as well as at the door of the API.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from bot.cases import escalation
from bot.cases.reference import normalise
from bot.cases.status import IllegalTransition, Status, allowed, move
from bot.core.clock import utcnow
from bot.core.privacy import Cipher, DecryptError
from bot.governance import audit
from bot.models import AuditEntry, Case, CaseEvent, CaseNote, Operator, Referral, Service
from bot.team.roles import SUPERVISORS  # reopen a closed case, take over a claim, see a phone

log = logging.getLogger(__name__)

__all__ = [
    "CaseNotFound",
    "CaseView",
    "Conflict",
    "IllegalTransition",
    "NotPermitted",
    "QueueItem",
    "acknowledge",
    "add_note",
    "audit_trail",
    "change_status",
    "claim",
    "find_case",
    "queue",
    "record_consent",
    "view_case",
]

MAX_NOTE = 10_000
"""Characters of a note (encrypted, it must fit the 20,000-character column)."""
MAX_REASON = 300

NARRATIVE = "case.narrative"
ANSWERS = "case.answers"
SAFE_TIME = "case.safe_time"
CONTACT_PHONE = "case.contact_phone"
NOTE_BODY = "case_note.body"


class CaseNotFound(LookupError):
    """No case has this reference."""


class NotPermitted(PermissionError):
    """The actor's role does not allow this on this case."""


class Conflict(ValueError):
    """The case is not in a state that allows this (closed, anonymised, changed meanwhile)."""


def _now(now: datetime | None) -> datetime:
    return now if now is not None else utcnow()


def _check_actor(actor: Operator) -> None:
    if not actor.active:
        raise NotPermitted(f"{actor.username} is not an active member of the team")


def _check_kept(case: Case) -> None:
    if case.anonymised_at is not None:
        raise Conflict(f"case {case.reference} was anonymised; it can no longer change")


def _event(
    session: Session, case: Case, actor: Operator, kind: str, at: datetime, **kw: Any
) -> None:
    assert case.id is not None
    session.add(CaseEvent(case_id=case.id, at=at, actor=actor.username, kind=kind, **kw))


def _compare_and_set(
    session: Session, case: Case, expected: dict[str, Any], values: dict[str, Any]
) -> None:
    """Update ``case`` only if its columns still hold ``expected``; Conflict if not."""
    assert case.id is not None
    statement = update(Case).where(col(Case.id) == case.id)
    for name, value in expected.items():
        column = col(getattr(Case, name))
        statement = statement.where(column.is_(None) if value is None else column == value)
    result = cast(
        "CursorResult[Any]",
        session.execute(statement.values(**values).execution_options(synchronize_session=False)),
    )
    if result.rowcount != 1:
        raise Conflict(f"case {case.reference} was changed meanwhile; reload it and try again")
    for name, value in values.items():
        set_committed_value(case, name, value)  # as written: nothing left to flush


def find_case(session: Session, reference: str) -> Case:
    """The case with this reference (as typed: ``k7qm 46`` works), or CaseNotFound."""
    code = normalise(reference)
    case = session.exec(select(Case).where(col(Case.reference) == code)).first() if code else None
    if case is None:
        raise CaseNotFound(f"no case {reference!r}")
    return case


# --- the queue ------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueItem:
    """One line of the on-call queue: nothing that was reported, only how to handle it."""

    reference: str
    kind: str
    priority: str
    rule: str | None
    due_at: datetime
    seconds_left: int
    """Until the triage target (negative when overdue); see ``target_met``."""
    target_met: bool
    """Acknowledged, or moved past ``new``: the deadline no longer escalates."""
    channel: str
    lang: str
    area: str | None
    minor: bool | None
    consent_contact: bool
    consent_refer: bool
    consent_police: bool
    assignee: str | None
    status: str
    acknowledged: bool
    created_at: datetime


def queue(session: Session, *, now: datetime | None = None, limit: int = 500) -> list[QueueItem]:
    """Open cases, most urgent first: by priority (P1 first), then by due time."""
    now = _now(now)
    rows = session.exec(
        select(Case, Operator.username)
        .join(Operator, col(Case.assignee_id) == col(Operator.id), isouter=True)
        .where(col(Case.status) != Status.CLOSED.value, col(Case.anonymised_at).is_(None))
        .order_by(col(Case.priority), col(Case.due_at), col(Case.id))
        .limit(limit)
    ).all()
    items: list[QueueItem] = []
    for case, assignee in rows:
        acknowledged = case.acknowledged_at is not None
        items.append(
            QueueItem(
                reference=case.reference,
                kind=case.kind,
                priority=case.priority,
                rule=case.rule,
                due_at=case.due_at,
                seconds_left=int((case.due_at - now).total_seconds()),
                target_met=acknowledged or case.status != Status.NEW.value,
                channel=case.channel,
                lang=case.lang,
                area=case.area,
                minor=case.minor,
                consent_contact=case.consent_contact,
                consent_refer=case.consent_refer,
                consent_police=case.consent_police,
                assignee=assignee,
                status=case.status,
                acknowledged=acknowledged,
                created_at=case.created_at,
            )
        )
    return items


# --- changes --------------------------------------------------------------------------------


def acknowledge(
    session: Session, *, case: Case, actor: Operator, now: datetime | None = None
) -> bool:
    """``actor`` has seen the case: the escalation ladder stops. False if it was already."""
    _check_actor(actor)
    now = _now(now)
    first = escalation.acknowledge(session, case, actor=actor, now=now)
    audit.record(session, actor=actor.username, action="ack", case_id=case.id, at=now)
    return first


def claim(session: Session, *, case: Case, actor: Operator, now: datetime | None = None) -> bool:
    """Make ``actor`` the case's assignee (and acknowledge it). False when it already was.

    A case claimed by someone else is taken over only by a supervisor or an admin (Conflict
    for an operator: two people must not work one case unknowingly).
    """
    _check_actor(actor)
    _check_kept(case)
    now = _now(now)
    if case.status == Status.CLOSED:
        raise Conflict(f"case {case.reference} is closed; a supervisor can reopen it")
    previous = case.assignee_id
    if previous == actor.id:
        if case.acknowledged_at is None:
            acknowledge(session, case=case, actor=actor, now=now)
        return False
    holder = session.get(Operator, previous) if previous is not None else None
    if holder is not None and actor.role not in SUPERVISORS:
        raise Conflict(
            f"case {case.reference} is claimed by {holder.username}; a supervisor can reassign it"
        )
    _compare_and_set(
        session, case, {"assignee_id": previous}, {"assignee_id": actor.id, "updated_at": now}
    )
    if case.acknowledged_at is None:
        acknowledge(session, case=case, actor=actor, now=now)
    _event(session, case, actor, "claim", now, detail=f"from {holder.username}" if holder else None)
    audit.record(
        session,
        actor=actor.username,
        action="claim",
        case_id=case.id,
        reason=f"taken over from {holder.username}" if holder else None,
        at=now,
    )
    return True


def change_status(
    session: Session,
    *,
    case: Case,
    actor: Operator,
    to: str,
    reason: str | None = None,
    now: datetime | None = None,
) -> str:
    """Move the case to ``to``; returns the new status.

    IllegalTransition when the workflow does not allow it (the message lists what is
    allowed), or when closing without a reason (one of ``CloseReason``). Reopening a closed
    case is for a supervisor or an admin (NotPermitted). Moving a case acknowledges it.
    """
    _check_actor(actor)
    _check_kept(case)
    now = _now(now)
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > MAX_REASON:
        raise ValueError(f"a reason is at most {MAX_REASON} characters")
    previous = case.status
    if previous == Status.CLOSED and to != Status.CLOSED and actor.role not in SUPERVISORS:
        raise NotPermitted("reopening a closed case needs a supervisor")
    new = move(previous, to, reason=reason)
    values: dict[str, Any] = {"status": new, "updated_at": now}
    if new == Status.CLOSED:
        values.update(close_reason=reason, closed_at=now)
    elif previous == Status.CLOSED:
        values.update(close_reason=None, closed_at=None)
    _compare_and_set(session, case, {"status": previous}, values)
    if case.acknowledged_at is None:
        acknowledge(session, case=case, actor=actor, now=now)
    _event(
        session,
        case,
        actor,
        "status",
        now,
        from_status=previous,
        to_status=new,
        detail=reason if new == Status.CLOSED else None,
    )
    audit.record(
        session,
        actor=actor.username,
        action="status",
        case_id=case.id,
        reason=f"{previous} → {new}" + (f": {reason}" if reason else ""),
        at=now,
    )
    log.info("case %s: %s → %s by %s", case.reference, previous, new, actor.username)
    return new


def add_note(
    session: Session,
    cipher: Cipher,
    *,
    case: Case,
    actor: Operator,
    body: str,
    now: datetime | None = None,
) -> CaseNote:
    """Add an encrypted note; the timeline says a note was added, never what it says."""
    _check_actor(actor)
    _check_kept(case)
    now = _now(now)
    body = body.strip()
    if not body:
        raise ValueError("a note cannot be empty")
    if len(body) > MAX_NOTE:
        raise ValueError(f"a note is at most {MAX_NOTE} characters")
    assert case.id is not None
    note = CaseNote(
        case_id=case.id,
        author_id=actor.id,
        body=cipher.encrypt(body, NOTE_BODY),
        created_at=now,
    )
    session.add(note)
    session.flush()
    _event(session, case, actor, "note", now, detail=f"note {note.id}")
    audit.record(session, actor=actor.username, action="note", case_id=case.id, at=now)
    return note


def record_consent(
    session: Session,
    *,
    case: Case,
    actor: Operator,
    contact: bool | None = None,
    refer: bool | None = None,
    police: bool | None = None,
    now: datetime | None = None,
) -> str:
    """Record what the person consented to (as they told an operator); returns the summary.

    Only the flags given change. Withdrawing consent to be contacted deletes the number kept
    for it (it may be kept only with that consent); giving it back cannot restore a number.
    """
    _check_actor(actor)
    _check_kept(case)
    now = _now(now)
    given = {"contact": contact, "refer": refer, "police": police}
    stated = {name: value for name, value in given.items() if value is not None}
    if not stated:
        raise ValueError("say which consent was given or withdrawn: contact, refer, police")
    values: dict[str, Any] = {f"consent_{name}": value for name, value in stated.items()}
    parts = [f"{name} {'yes' if value else 'no'}" for name, value in stated.items()]
    if contact is False and case.contact_phone is not None:
        values["contact_phone"] = None
        parts.append("number deleted")
    elif contact is True and case.contact_phone is None:
        parts.append("no number on file")
    changed = any(getattr(case, name) != value for name, value in values.items())
    values["updated_at"] = now
    expected = {
        "consent_contact": case.consent_contact,
        "consent_refer": case.consent_refer,
        "consent_police": case.consent_police,
    }
    _compare_and_set(session, case, expected, values)
    summary = ", ".join(parts) + ("" if changed else " (unchanged)")
    _event(session, case, actor, "consent", now, detail=summary[:300])
    audit.record(
        session, actor=actor.username, action="consent", case_id=case.id, reason=summary, at=now
    )
    return summary


# --- reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoteView:
    """A note, decrypted for the reader."""

    id: int
    author: str | None
    created_at: datetime
    body: str | None


@dataclass(frozen=True)
class EventView:
    """A line of the timeline."""

    at: datetime
    actor: str
    kind: str
    from_status: str | None
    to_status: str | None
    detail: str | None


@dataclass(frozen=True)
class ReferralView:
    """A referral of the case to a service."""

    id: int
    service_id: int
    service: str
    service_type: str
    status: str
    outcome: str | None
    override: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class CaseView:
    """A whole case as one reader may see it."""

    reference: str
    kind: str
    channel: str
    lang: str
    area: str | None
    exploitation_type: str | None
    people_affected: int | None
    age_band: str | None
    minor: bool | None
    rule: str | None
    priority: str
    status: str
    close_reason: str | None
    allowed: list[str]
    consent_contact: bool
    consent_refer: bool
    consent_police: bool
    assignee: str | None
    due_at: datetime
    acknowledged_at: datetime | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    anonymised_at: datetime | None
    narrative: str | None
    answers: dict[str, str] | None
    safe_time: str | None
    contact_phone: str | None
    """Only for a supervisor or an admin, and only with consent to be contacted."""
    contact_phone_hidden: bool
    """A number is on file that this reader may not see."""
    notes: list[NoteView] = field(default_factory=list)
    timeline: list[EventView] = field(default_factory=list)
    referrals: list[ReferralView] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    """Encrypted fields no configured key opens (named by context)."""


def view_case(
    session: Session,
    cipher: Cipher,
    *,
    case: Case,
    actor: Operator,
    reason: str,
    now: datetime | None = None,
) -> CaseView:
    """Everything about a case for ``actor``, who says why; each decryption is audited.

    Writes one ``view_case`` entry and one ``decrypt`` entry per field read. The caller must
    commit before showing the result (a read whose record was rolled back did not happen).
    """
    _check_actor(actor)
    reason = reason.strip()
    if not reason:
        raise ValueError("viewing a case needs a reason")
    if len(reason) > MAX_REASON:
        raise ValueError(f"a reason is at most {MAX_REASON} characters")
    now = _now(now)
    assert case.id is not None
    audit.record(
        session, actor=actor.username, action="view_case", case_id=case.id, reason=reason, at=now
    )
    unreadable: list[str] = []

    def read(token: str | None, context: str) -> str | None:
        if token is None:
            return None
        try:
            return audit.decrypt_for(
                session,
                cipher,
                token,
                context,
                actor=actor.username,
                case_id=case.id,
                reason=reason,
            )
        except DecryptError:
            log.error("case %s: %s cannot be decrypted (key dropped?)", case.reference, context)
            unreadable.append(context)
            return None

    narrative = read(case.narrative, NARRATIVE)
    raw_answers = read(case.answers, ANSWERS)
    answers = (
        {str(k): str(v) for k, v in dict(json.loads(raw_answers)).items()} if raw_answers else None
    )
    safe_time = read(case.safe_time, SAFE_TIME)
    may_see_phone = actor.role in SUPERVISORS and case.consent_contact
    contact_phone = read(case.contact_phone, CONTACT_PHONE) if may_see_phone else None
    names = {
        o.id: o.username
        for o in session.exec(select(Operator)).all()  # a team is small
    }
    notes = [
        NoteView(
            id=note.id or 0,
            author=names.get(note.author_id),
            created_at=note.created_at,
            body=read(note.body, NOTE_BODY),
        )
        for note in session.exec(
            select(CaseNote)
            .where(col(CaseNote.case_id) == case.id)
            .order_by(col(CaseNote.created_at), col(CaseNote.id))
        ).all()
    ]
    timeline = [
        EventView(e.at, e.actor, e.kind, e.from_status, e.to_status, e.detail)
        for e in session.exec(
            select(CaseEvent)
            .where(col(CaseEvent.case_id) == case.id)
            .order_by(col(CaseEvent.at), col(CaseEvent.id))
        ).all()
    ]
    referrals = [
        ReferralView(
            id=r.id or 0,
            service_id=s.id or 0,
            service=s.name,
            service_type=s.service_type,
            status=r.status,
            outcome=r.outcome,
            override=r.override_by is not None,
            created_at=r.created_at,
            updated_at=r.updated_at,
        )
        for r, s in session.exec(
            select(Referral, Service)
            .join(Service, col(Referral.service_id) == col(Service.id))
            .where(col(Referral.case_id) == case.id)
            .order_by(col(Referral.id))
        ).all()
    ]
    return CaseView(
        reference=case.reference,
        kind=case.kind,
        channel=case.channel,
        lang=case.lang,
        area=case.area,
        exploitation_type=case.exploitation_type,
        people_affected=case.people_affected,
        age_band=case.age_band,
        minor=case.minor,
        rule=case.rule,
        priority=case.priority,
        status=case.status,
        close_reason=case.close_reason,
        allowed=allowed(case.status),
        consent_contact=case.consent_contact,
        consent_refer=case.consent_refer,
        consent_police=case.consent_police,
        assignee=names.get(case.assignee_id),
        due_at=case.due_at,
        acknowledged_at=case.acknowledged_at,
        created_at=case.created_at,
        updated_at=case.updated_at,
        closed_at=case.closed_at,
        anonymised_at=case.anonymised_at,
        narrative=narrative,
        answers=answers,
        safe_time=safe_time,
        contact_phone=contact_phone,
        contact_phone_hidden=case.contact_phone is not None and not may_see_phone,
        notes=notes,
        timeline=timeline,
        referrals=referrals,
        unreadable=unreadable,
    )


def audit_trail(
    session: Session,
    *,
    actor: Operator,
    case: Case | None = None,
    limit: int = 500,
    now: datetime | None = None,
) -> list[AuditEntry]:
    """Audit entries, newest first (of one case, or all); reading them is itself recorded."""
    _check_actor(actor)
    query = select(AuditEntry)
    if case is not None:
        query = query.where(col(AuditEntry.case_id) == case.id)
    entries = list(
        session.exec(
            query.order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc()).limit(limit)
        ).all()
    )
    audit.record(
        session,
        actor=actor.username,
        action="view_audit",
        case_id=case.id if case is not None else None,
        at=_now(now),
    )
    return entries
