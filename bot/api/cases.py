"""The case API: the on-call queue and the handling of one case, addressed by its reference.

=======================================  ============  ======================================
route                                    who           what
=======================================  ============  ======================================
``GET /api/queue``                       operator+     open cases, most urgent first
``POST /api/cases/{ref}/ack``            operator+     stop the escalation ladder
``POST /api/cases/{ref}/claim``          operator+     assign the case to me (and acknowledge)
``POST /api/cases/{ref}/status``         operator+     ``{to, reason?}``; reopening: supervisor+
``POST /api/cases/{ref}/notes``          operator+     ``{body}``, stored encrypted
``POST /api/cases/{ref}/consent``        operator+     ``{contact?, refer?, police?}``
``POST /api/cases/{ref}/message``        operator+     ``{text}`` to the person's Telegram chat
``GET /api/cases/{ref}?reason=...``      operator+     the whole case; every decryption audited
``GET /api/audit?case=REF``              supervisor+   the audit log
=======================================  ============  ======================================

"operator+" is an operator, a supervisor or an admin; "supervisor+" a supervisor or an admin.
Unknown reference: 404. A status change the workflow does not allow: 409 with the message and
``allowed``. A bad body: 422. The queue never carries what was reported; the full view
decrypts through the audit log, and shows a phone number only to a supervisor or an admin, and
only when the person consented to be contacted.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Header, HTTPException, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlmodel import Session, col, select

from bot.api.auth import CaseLookup, Staff, Supervisor
from bot.api.request import DbSession, Now, Ref
from bot.cases import access, case_view, commands, contact, queue
from bot.cases.access import CaseNotFound, Conflict, NotPermitted
from bot.cases.status import IllegalTransition, MoveNotAllowed, allowed
from bot.deps import CipherDep, SettingsDep
from bot.governance import audit
from bot.models import Case

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api", tags=["cases"])

StatusName = Literal["new", "triaged", "active", "referred", "follow_up", "closed"]


def load_case(db: Session, reference: str) -> Case:
    """The case, or 404."""
    try:
        return access.find_case(db, reference)
    except CaseNotFound:
        raise HTTPException(status_code=404, detail=f"no case {reference!r}") from None


def refused(exc: Exception) -> HTTPException:
    """The HTTP answer for a refusal from the case services."""
    if isinstance(exc, NotPermitted):
        return HTTPException(status_code=403, detail=str(exc))
    if isinstance(exc, Conflict | IllegalTransition):
        return HTTPException(status_code=409, detail=str(exc))
    return HTTPException(status_code=422, detail=str(exc))


# --- models ---------------------------------------------------------------------------------


class AckOut(BaseModel):
    """The case is acknowledged."""

    reference: str
    acknowledged_at: datetime
    first: bool


class ClaimOut(BaseModel):
    """Who has the case now."""

    reference: str
    assignee: str
    acknowledged_at: datetime | None


class StatusIn(BaseModel):
    """A status change; closing needs a reason (resolved, not_trafficking, ...)."""

    model_config = ConfigDict(extra="forbid")

    to: StatusName
    reason: str | None = Field(default=None, max_length=300)


class StatusOut(BaseModel):
    """The case's status after the change, and where it may go next."""

    reference: str
    status: str
    close_reason: str | None
    allowed: list[str]


class NoteIn(BaseModel):
    """An operator's note (stored encrypted)."""

    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=commands.MAX_NOTE)


class NoteOut(BaseModel):
    """The note was stored."""

    id: int
    created_at: datetime


class ConsentIn(BaseModel):
    """Consent given (true) or withdrawn (false); omitted flags stay as they are."""

    model_config = ConfigDict(extra="forbid")

    contact: bool | None = None
    refer: bool | None = None
    police: bool | None = None

    @model_validator(mode="after")
    def _something(self) -> ConsentIn:
        if self.contact is None and self.refer is None and self.police is None:
            raise ValueError("give at least one of contact, refer, police")
        return self


class ConsentOut(BaseModel):
    """The consent on record now."""

    reference: str
    consent_contact: bool
    consent_refer: bool
    consent_police: bool
    recorded: str


class AuditOut(BaseModel):
    """One audit entry."""

    at: datetime
    actor: str
    action: str
    case: str | None
    reason: str | None


# --- routes ---------------------------------------------------------------------------------


@router.get("/queue")
def get_queue(me: Staff, db: DbSession, now: Now) -> list[queue.QueueItem]:
    """Open cases by priority, then due time; no reported content."""
    return queue.open_cases(db, now=now)


@router.post("/cases/{ref}/ack")
def ack_case(ref: Ref, me: Staff, db: DbSession, now: Now) -> AckOut:
    """I have seen it: the escalation ladder stops."""
    case = load_case(db, ref)
    try:
        first = commands.acknowledge(db, case=case, actor=me, now=now)
    except (NotPermitted, Conflict) as exc:
        raise refused(exc) from None
    db.commit()
    assert case.acknowledged_at is not None
    return AckOut(reference=case.reference, acknowledged_at=case.acknowledged_at, first=first)


@router.post("/cases/{ref}/claim")
def claim_case(ref: Ref, me: Staff, db: DbSession, now: Now) -> ClaimOut:
    """Make me the case's assignee (acknowledging it)."""
    case = load_case(db, ref)
    try:
        commands.claim(db, case=case, actor=me, now=now)
    except (NotPermitted, Conflict) as exc:
        raise refused(exc) from None
    db.commit()
    return ClaimOut(
        reference=case.reference, assignee=me.username, acknowledged_at=case.acknowledged_at
    )


@router.post("/cases/{ref}/status", response_model=StatusOut)
def change_status(
    ref: Ref, body: StatusIn, me: Staff, db: DbSession, now: Now
) -> StatusOut | JSONResponse:
    """Move the case along its workflow (reopening a closed case: supervisor or admin)."""
    case = load_case(db, ref)
    try:
        commands.change_status(db, case=case, actor=me, to=body.to, reason=body.reason, now=now)
    except MoveNotAllowed as exc:
        return JSONResponse(status_code=409, content={"detail": str(exc), "allowed": exc.allowed})
    except IllegalTransition as exc:  # the move is allowed, its details are not (close reason)
        raise HTTPException(status_code=422, detail=str(exc)) from None
    except (NotPermitted, Conflict, ValueError) as exc:
        raise refused(exc) from None
    db.commit()
    return StatusOut(
        reference=case.reference,
        status=case.status,
        close_reason=case.close_reason,
        allowed=allowed(case.status),
    )


@router.post("/cases/{ref}/notes", status_code=201)
def add_note(
    ref: Ref, body: NoteIn, me: Staff, db: DbSession, cipher: CipherDep, now: Now
) -> NoteOut:
    """Add a note to the case (encrypted at rest)."""
    case = load_case(db, ref)
    try:
        note = commands.add_note(db, cipher, case=case, actor=me, body=body.body, now=now)
    except (NotPermitted, Conflict, ValueError) as exc:
        raise refused(exc) from None
    db.commit()
    assert note.id is not None
    return NoteOut(id=note.id, created_at=now)


@router.post("/cases/{ref}/consent")
def record_consent(
    ref: Ref, body: ConsentIn, me: Staff, db: DbSession, now: Now, settings: SettingsDep
) -> ConsentOut:
    """Record consent the person gave or withdrew (holder or supervisor; with who and when)."""
    case = load_case(db, ref)
    try:
        summary = commands.record_consent(
            db,
            case=case,
            actor=me,
            contact=body.contact,
            refer=body.refer,
            police=body.police,
            now=now,
            grace=timedelta(days=settings.consent_withdraw_grace_days),
        )
    except NotPermitted as exc:
        db.commit()  # the refusal's audit entry (nothing else changed)
        raise refused(exc) from None
    except (Conflict, ValueError) as exc:
        raise refused(exc) from None
    db.commit()
    return ConsentOut(
        reference=case.reference,
        consent_contact=case.consent_contact,
        consent_refer=case.consent_refer,
        consent_police=case.consent_police,
        recorded=summary,
    )


class MessageIn(BaseModel):
    """An operator's message to the person, sent in their Telegram chat."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=contact.MAX_MESSAGE)


class MessageOut(BaseModel):
    """The message is queued; the worker delivers it within seconds."""

    reference: str
    queued: int


@router.post("/cases/{ref}/message", status_code=202)
def message_person(
    ref: Ref,
    body: MessageIn,
    me: Staff,
    db: DbSession,
    cipher: CipherDep,
    now: Now,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> MessageOut:
    """Answer the person through the bot (holder or supervisor; only with contact consent and a
    kept Telegram chat: 409 otherwise). The timeline and audit log record that it was sent; a
    retry with the same ``Idempotency-Key`` header sends nothing more."""
    case = load_case(db, ref)
    try:
        queued = contact.message_person(
            db, cipher, case=case, actor=me, body=body.text, now=now, key=idempotency_key
        )
    except NotPermitted as exc:
        db.commit()  # the refusal's audit entry (nothing else changed)
        raise refused(exc) from None
    except (Conflict, ValueError) as exc:
        raise refused(exc) from None
    db.commit()
    return MessageOut(reference=case.reference, queued=queued)


@router.get("/cases/{ref}", dependencies=[CaseLookup])
def view_case(
    ref: Ref,
    reason: Annotated[str, Query(min_length=3, max_length=300)],
    me: Staff,
    db: DbSession,
    cipher: CipherDep,
    now: Now,
) -> case_view.CaseView:
    """The whole case, decrypted for me; the view and each decryption go to the audit log."""
    case = load_case(db, ref)
    try:
        view = case_view.view_case(db, cipher, case=case, actor=me, reason=reason, now=now)
    except NotPermitted as exc:
        db.commit()  # the refusal's audit entry (nothing else changed)
        raise refused(exc) from None
    except ValueError as exc:
        raise refused(exc) from None
    db.commit()  # the record of the reading before the reading is shown
    return view


@router.get("/audit")
def audit_log(
    me: Supervisor,
    db: DbSession,
    now: Now,
    case: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[AuditOut]:
    """Who read or changed what, newest first; of one case with ``?case=REF``."""
    found = load_case(db, case) if case is not None else None
    entries = audit.trail(db, actor=me, case=found, limit=limit, now=now)
    ids = {e.case_id for e in entries if e.case_id is not None}
    references = (
        dict(db.exec(select(Case.id, Case.reference).where(col(Case.id).in_(ids))).all())
        if ids
        else {}
    )
    shown = [
        AuditOut(
            at=e.at,
            actor=e.actor,
            action=e.action,
            case=references.get(e.case_id) if e.case_id is not None else None,
            reason=e.reason,
        )
        for e in entries
    ]
    db.commit()
    return shown


__all__ = ["load_case", "refused", "router"]
