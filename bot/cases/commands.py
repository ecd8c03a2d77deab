"""What the team does to a case: acknowledge, claim, change its status, add a note, record consent.

Each function works in the caller's session and leaves the commit to it, so a change, its line
on the timeline (``CaseEvent``: who, what, when — never what was reported) and its audit entry
(``AuditEntry``) commit together. Changes are compare-and-set: two operators acting on the same
case at once cannot both win; the second is told it changed (``Conflict``).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col

from bot.cases import escalation
from bot.cases.access import (
    MAX_REASON,
    Conflict,
    NotPermitted,
    check_actor,
    check_kept,
    holds,
    now_or,
)
from bot.cases.status import Status, move, moves_for
from bot.core.privacy import Cipher
from bot.governance import audit
from bot.models import Case, CaseEvent, CaseNote, Operator
from bot.team.roles import SUPERVISORS  # reopen a closed case, take over a claim

log = logging.getLogger(__name__)

MAX_NOTE = 10_000
"""Characters of a note (encrypted, it must fit the 20,000-character column)."""
NOTE_BODY = "case_note.body"
WITHDRAW_GRACE = timedelta(days=7)
"""How long a number stays after contact consent is withdrawn (a supervisor may restore it)."""


def check_holder(
    session: Session, case: Case, actor: Operator, *, doing: str, now: datetime
) -> None:
    """NotPermitted unless ``actor`` holds the case or is a supervisor; a refusal is audited.

    The refusal's audit entry (``refused``) is added to the caller's session, where nothing
    else has changed yet: the caller commits it before answering.
    """
    if actor.role in SUPERVISORS or holds(session, case, actor):
        return
    assert case.id is not None
    audit.record(
        session, actor=actor.username, action="refused", case_id=case.id, reason=doing, at=now
    )
    log.warning("case %s: %s refused to a non-holder", case.id, doing)
    raise NotPermitted(
        f"only the operator holding case {case.reference} or a supervisor may {doing}; "
        "claim the case or ask a supervisor"
    )


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


def acknowledge(
    session: Session,
    *,
    case: Case,
    actor: Operator,
    now: datetime | None = None,
    via: str | None = None,
) -> bool:
    """``actor`` has seen the case: the escalation ladder stops. False if it was already.

    ``via`` (``SMS``) says on the timeline and in the audit how, when not the web or the API.
    """
    check_actor(actor)
    now = now_or(now)
    first = escalation.acknowledge(session, case, actor=actor, now=now, via=via)
    audit.record(
        session,
        actor=actor.username,
        action="ack",
        case_id=case.id,
        reason=f"by {via}" if via else None,
        at=now,
    )
    return first


def claim(
    session: Session,
    *,
    case: Case,
    actor: Operator,
    now: datetime | None = None,
    via: str | None = None,
) -> bool:
    """Make ``actor`` the case's assignee (and acknowledge it). False when it already was.

    A case claimed by someone else is taken over only by a supervisor or an admin (Conflict
    for an operator: two people must not work one case unknowingly). ``via`` as for
    ``acknowledge``.
    """
    check_actor(actor)
    check_kept(case)
    now = now_or(now)
    if case.status == Status.CLOSED:
        raise Conflict(f"case {case.reference} is closed; a supervisor can reopen it")
    previous = case.assignee_id
    if previous == actor.id:
        if case.acknowledged_at is None:
            acknowledge(session, case=case, actor=actor, now=now, via=via)
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
        acknowledge(session, case=case, actor=actor, now=now, via=via)
    how = [f"by {via}"] if via else []
    taken = [f"from {holder.username}"] if holder else []
    _event(session, case, actor, "claim", now, detail=", ".join(taken + how) or None)
    audit.record(
        session,
        actor=actor.username,
        action="claim",
        case_id=case.id,
        reason=", ".join(([f"taken over from {holder.username}"] if holder else []) + how) or None,
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

    MoveNotAllowed when the workflow does not allow it (it lists what is allowed);
    IllegalTransition when closing without a reason (one of ``CloseReason``). Reopening a
    closed case is for a supervisor or an admin (NotPermitted). Moving a case acknowledges it.
    """
    check_actor(actor)
    check_kept(case)
    now = now_or(now)
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > MAX_REASON:
        raise ValueError(f"a reason is at most {MAX_REASON} characters")
    previous = case.status
    new = move(previous, to, reason=reason)
    if to not in moves_for(previous, actor.role):
        raise NotPermitted("reopening a closed case needs a supervisor")
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
    log.info("case %s: %s → %s by %s", case.id, previous, new, actor.username)
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
    check_actor(actor)
    check_kept(case)
    now = now_or(now)
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
    grace: timedelta = WITHDRAW_GRACE,
) -> str:
    """Record what the person consented to (as they told an operator); returns the summary.

    Only the case's holder or a supervisor may (``check_holder``; a refusal is audited). Only
    the flags given change. Withdrawing consent to be contacted marks the number kept for it
    for deletion after ``grace`` (retention deletes it then; a ``grace`` of zero deletes it at
    once); during the grace a supervisor may give the consent back, which keeps the number.
    Giving consent back cannot restore a number already deleted.
    """
    check_actor(actor)
    check_kept(case)
    now = now_or(now)
    check_holder(session, case, actor, doing="change its consent", now=now)
    given = {"contact": contact, "refer": refer, "police": police}
    stated = {name: value for name, value in given.items() if value is not None}
    if not stated:
        raise ValueError("say which consent was given or withdrawn: contact, refer, police")
    values: dict[str, Any] = {f"consent_{name}": value for name, value in stated.items()}
    parts = [f"{name} {'yes' if value else 'no'}" for name, value in stated.items()]
    pending = case.contact_phone_delete_after
    if contact is False and case.contact_phone is not None:
        if grace <= timedelta(0):
            values["contact_phone"] = None
            values["contact_phone_delete_after"] = None
            parts.append("number deleted")
        elif pending is None:
            pending = now + grace
            values["contact_phone_delete_after"] = pending
            parts.append(f"number deleted after {pending:%Y-%m-%d %H:%M} UTC")
    elif contact is True and case.contact_phone is not None and pending is not None:
        if actor.role not in SUPERVISORS:
            assert case.id is not None
            audit.record(
                session,
                actor=actor.username,
                action="refused",
                case_id=case.id,
                reason="restore a withdrawn consent",
                at=now,
            )
            raise NotPermitted(
                f"the contact consent of case {case.reference} was withdrawn; "
                "only a supervisor may restore it"
            )
        values["contact_phone_delete_after"] = None
        parts.append("number kept (withdrawal undone)")
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
