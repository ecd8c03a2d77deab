"""Reading a case: the summary, timeline, notes and referrals one reader may see.

Decryption goes only through ``audit.decrypt_for``, so every decryption is on record with the
reader and the reason they gave.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from bot.cases.access import check_actor, now_or
from bot.cases.commands import check_holder
from bot.cases.reveal import CONTACT_PHONE, Reader, check_reason, contact_on_file
from bot.cases.status import allowed
from bot.core.privacy import Cipher
from bot.governance import audit
from bot.models import Case, CaseEvent, Operator, Referral, Service

log = logging.getLogger(__name__)


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
    """Only with consent to be contacted (the reader holds the case or supervises)."""
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

    Only the case's holder (its assignee; while nobody holds it, who acknowledged it) or a
    supervisor may read it: anyone else gets NotPermitted, and the refusal is audited (the
    caller commits it).

    Writes one ``view_case`` entry and one ``decrypt`` entry per field read. The caller must
    commit before showing the result (a read whose record was rolled back did not happen).
    """
    check_actor(actor)
    reason = check_reason(reason)
    now = now_or(now)
    assert case.id is not None
    check_holder(session, case, actor, doing="read its content", now=now)
    audit.record(
        session, actor=actor.username, action="view_case", case_id=case.id, reason=reason, at=now
    )
    reader = Reader(session, cipher, case, actor.username, reason)
    content = reader.content()
    may_see_phone = contact_on_file(case)  # a reader of the case may (``reveal_contact``)
    contact_phone = reader.read(case.contact_phone, CONTACT_PHONE) if may_see_phone else None
    names = {
        o.id: o.username
        for o in session.exec(select(Operator)).all()  # a team is small
    }
    notes = [NoteView(n.id, n.author, n.created_at, n.body) for n in content.notes]
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
        narrative=content.narrative,
        answers=content.answers,
        safe_time=content.safe_time,
        contact_phone=contact_phone,
        contact_phone_hidden=case.contact_phone is not None and not may_see_phone,
        notes=notes,
        timeline=timeline,
        referrals=referrals,
        unreadable=reader.unreadable,
    )
