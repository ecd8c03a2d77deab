"""A case as a page shows it before anything is revealed: what it is, who did what, what's next.

Nothing here decrypts: the page carries the summary, how and by whom each consent was recorded,
the timeline, who wrote which note (not what), the referrals, and what this reader may do —
decided here, by the same rules the services enforce, so a client offers only what would work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from bot.cases import referrals as referral_rules
from bot.cases.access import holds, now_or
from bot.cases.case_view import EventView
from bot.cases.reveal import contact_on_file
from bot.cases.status import CloseReason, Status, moves_for
from bot.models import Case, CaseEvent, CaseNote, Operator, Referral, Service
from bot.team.roles import SUPERVISORS  # take over, restore consent, override the gate

CONSENTS = ("contact", "refer", "police")
"""The consents a case records, as ``record_consent`` names them."""


@dataclass(frozen=True)
class ConsentLine:
    """One consent as it stands, and how it came to be."""

    name: str
    given: bool
    by: str | None
    """The operator who last recorded it; None when it is as the person gave it on ``channel``."""
    at: datetime
    channel: str


@dataclass(frozen=True)
class NoteLine:
    """A note as listed before anything is revealed: who wrote it and when."""

    id: int
    author: str | None
    created_at: datetime


@dataclass(frozen=True)
class ReferralLine:
    """A referral of the case, with the moves it may make next."""

    id: int
    service: str
    service_type: str
    organisation: str
    status: str
    outcome: str | None
    reason: str | None
    override_by: str | None
    created_at: datetime
    updated_at: datetime
    moves: list[str]


@dataclass(frozen=True)
class Permissions:
    """What one reader may do on the case now (the services refuse the rest)."""

    acknowledge: bool
    claim: bool
    moves: list[str]
    note: bool
    read_content: bool
    reveal_contact: bool
    change_consent: bool
    restore_contact: bool
    refer: bool
    override: bool
    """Referring needs a supervisor's override: the person did not consent to be referred."""


@dataclass(frozen=True)
class CasePage:
    """A case as a page shows it to one reader, with nothing decrypted."""

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
    assignee: str | None
    due_at: datetime
    seconds_left: int
    """Until the triage target (negative when overdue); see ``target_met``."""
    target_met: bool
    acknowledged_at: datetime | None
    created_at: datetime
    closed_at: datetime | None
    anonymised: bool
    contact_on_file: bool
    contact_delete_after: datetime | None
    """Contact consent withdrawn: the number is deleted then (a supervisor may restore it)."""
    may: Permissions
    close_reasons: list[str] = field(default_factory=list)
    consents: list[ConsentLine] = field(default_factory=list)
    timeline: list[EventView] = field(default_factory=list)
    notes: list[NoteLine] = field(default_factory=list)
    referrals: list[ReferralLine] = field(default_factory=list)


def _consents(case: Case, events: list[CaseEvent]) -> list[ConsentLine]:
    """Each consent with the last operator who recorded it (``record_consent``'s detail says
    ``contact no, refer yes, ...``), else as the person gave it when the case was made."""
    lines = []
    for name in CONSENTS:
        given = bool(getattr(case, f"consent_{name}"))
        line = ConsentLine(name, given, None, case.created_at, case.channel)
        for event in events:
            parts = [p.strip() for p in (event.detail or "").split(",")]
            if event.kind == "consent" and {f"{name} yes", f"{name} no"} & set(parts):
                line = ConsentLine(name, given, event.actor, event.at, case.channel)
        lines.append(line)
    return lines


def case_page(
    session: Session, *, case: Case, actor: Operator, now: datetime | None = None
) -> CasePage:
    """The case as ``actor`` sees it before revealing anything (five queries, whatever its size)."""
    now = now_or(now)
    assert case.id is not None
    events = list(
        session.exec(
            select(CaseEvent)
            .where(col(CaseEvent.case_id) == case.id)
            .order_by(col(CaseEvent.at), col(CaseEvent.id))
        ).all()
    )
    names = dict(session.exec(select(Operator.id, Operator.username)).all())  # a team is small
    notes = [
        NoteLine(note_id or 0, names.get(author), created_at)
        for note_id, author, created_at in session.exec(
            select(CaseNote.id, CaseNote.author_id, CaseNote.created_at)
            .where(col(CaseNote.case_id) == case.id)
            .order_by(col(CaseNote.created_at), col(CaseNote.id))
        ).all()
    ]
    referrals = [
        ReferralLine(
            id=r.id or 0,
            service=s.name,
            service_type=s.service_type,
            organisation=s.organisation,
            status=r.status,
            outcome=r.outcome,
            reason=r.reason,
            override_by=names.get(r.override_by) if r.override_by is not None else None,
            created_at=r.created_at,
            updated_at=r.updated_at,
            moves=referral_rules.allowed(r.status) if case.anonymised_at is None else [],
        )
        for r, s in session.exec(
            select(Referral, Service)
            .join(Service, col(Referral.service_id) == col(Service.id))
            .where(col(Referral.case_id) == case.id)
            .order_by(col(Referral.id))
        ).all()
    ]
    kept = case.anonymised_at is None
    is_open = kept and case.status != Status.CLOSED
    supervisor = actor.active and actor.role in SUPERVISORS
    reader = actor.active and (supervisor or holds(session, case, actor))
    withdrawn = case.contact_phone_delete_after if case.contact_phone is not None else None
    may = Permissions(
        acknowledge=actor.active and kept and case.acknowledged_at is None,
        claim=actor.active
        and is_open
        and case.assignee_id != actor.id
        and (case.assignee_id is None or supervisor),
        moves=moves_for(case.status, actor.role) if actor.active and kept else [],
        note=actor.active and kept,
        read_content=reader,
        reveal_contact=reader and contact_on_file(case),
        change_consent=reader and kept,
        restore_contact=supervisor and kept and withdrawn is not None,
        refer=actor.active and is_open and (case.consent_refer or supervisor),
        override=not case.consent_refer,
    )
    acknowledged = case.acknowledged_at is not None
    return CasePage(
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
        assignee=names.get(case.assignee_id) if case.assignee_id is not None else None,
        due_at=case.due_at,
        seconds_left=int((case.due_at - now).total_seconds()),
        target_met=acknowledged or case.status != Status.NEW,
        acknowledged_at=case.acknowledged_at,
        created_at=case.created_at,
        closed_at=case.closed_at,
        anonymised=not kept,
        contact_on_file=contact_on_file(case),
        contact_delete_after=withdrawn,
        may=may,
        close_reasons=[r.value for r in CloseReason],
        consents=_consents(case, events),
        timeline=[
            EventView(e.at, e.actor, e.kind, e.from_status, e.to_status, e.detail) for e in events
        ],
        notes=notes,
        referrals=referrals,
    )
