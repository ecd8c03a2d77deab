"""Referring a case to a service, and the referral's life: a state machine after Primero.

    in_progress → accepted | rejected (reason) | revoked
    accepted    → done (successful, or not_successful with a reason)

A referral needs the person's consent to be referred (``case.consent_refer``); without it only
a supervisor or an admin may refer, and only by recording why (an override, audited). Functions
add to the caller's session and flush; the caller commits. Timeline entries name the service
and the referral, never what was reported; reasons stay on the referral and in the audit log.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from bot.cases import status as case_status
from bot.cases.status import IllegalTransition, Status
from bot.cases.workflow import Workflow
from bot.core.clock import utcnow
from bot.models import AuditEntry, Case, CaseEvent, Operator, Referral, Service
from bot.team.roles import SUPERVISORS

__all__ = [
    "TRANSITIONS",
    "IllegalTransition",
    "Outcome",
    "ReferralConflict",
    "ReferralNotFound",
    "ReferralRefused",
    "ReferralStatus",
    "allowed",
    "create_referral",
    "find_referral",
    "move",
    "partner_update",
    "update_referral",
]

OVERRIDE_ROLES = frozenset(SUPERVISORS)
MAX_REASON = 300


class ReferralStatus(StrEnum):
    """Where a referral is."""

    IN_PROGRESS = "in_progress"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    REVOKED = "revoked"
    DONE = "done"


class Outcome(StrEnum):
    """How a referral that was taken up ended."""

    SUCCESSFUL = "successful"
    NOT_SUCCESSFUL = "not_successful"


OPEN = frozenset({ReferralStatus.IN_PROGRESS.value, ReferralStatus.ACCEPTED.value})
"""Statuses of a referral that is still running."""

TRANSITIONS: list[tuple[str, list[str], str]] = [
    ("accept", ["in_progress"], "accepted"),
    ("reject", ["in_progress"], "rejected"),
    ("revoke", ["in_progress"], "revoked"),
    ("complete", ["accepted"], "done"),
]
"""(trigger, from, to): the only changes a referral may go through."""


class ReferralRefused(ValueError):
    """A referral that may not be made (no consent, no override, service not active, ...)."""


class ReferralConflict(ValueError):
    """The case or the referral changed since it was read; reload it and try again."""


class ReferralNotFound(LookupError):
    """No referral of this case has this id."""


WORKFLOW = Workflow([s.value for s in ReferralStatus], TRANSITIONS)


def allowed(status: str) -> list[str]:
    """The statuses a referral may move to from ``status``."""
    return WORKFLOW.allowed(status)


def find_referral(session: Session, case: Case, referral_id: int) -> Referral:
    """The referral ``referral_id`` of ``case``, or ReferralNotFound (also for another case's)."""
    referral = session.get(Referral, referral_id)
    if referral is None or referral.case_id != case.id:
        raise ReferralNotFound(f"case {case.reference} has no referral {referral_id}")
    return referral


def _text(value: str | None) -> str | None:
    """A reason as given, trimmed; None when blank."""
    value = (value or "").strip()
    return value or None


def move(status: str, target: str, *, reason: str | None = None, outcome: str | None = None) -> str:
    """The new status after moving a referral from ``status`` to ``target``, or IllegalTransition.

    ``reason`` is needed to reject, and for a not_successful outcome; ``outcome`` only and
    always for done.
    """
    return WORKFLOW.fire(status, _check(status, target, _text(reason), outcome))


def _check(status: str, target: str, reason: str | None, outcome: str | None) -> str:
    """The trigger that moves a referral from ``status`` to ``target``, or IllegalTransition."""
    trigger = WORKFLOW.trigger(status, target)
    if trigger is None:
        options = ", ".join(allowed(status)) or "nothing"
        raise IllegalTransition(
            f"a referral that is {status} cannot become {target} (allowed: {options})"
        )
    if reason is not None and len(reason) > MAX_REASON:
        raise IllegalTransition(f"the reason is longer than {MAX_REASON} characters")
    if target == ReferralStatus.REJECTED and reason is None:
        raise IllegalTransition("rejecting a referral needs a reason")
    if target == ReferralStatus.DONE:
        outcomes = ", ".join(o.value for o in Outcome)
        if outcome not in {o.value for o in Outcome}:
            raise IllegalTransition(f"a done referral needs an outcome: {outcomes}")
        if outcome == Outcome.NOT_SUCCESSFUL and reason is None:
            raise IllegalTransition("a not_successful outcome needs a reason")
    elif outcome is not None:
        raise IllegalTransition("an outcome is recorded only when a referral becomes done")
    return trigger


def _compare_and_set(
    session: Session,
    row: Case | Referral,
    expected: dict[str, Any],
    values: dict[str, Any],
    *,
    conflict: str,
) -> None:
    """Update ``row`` only if its columns still hold ``expected``; ReferralConflict if not."""
    table = type(row)
    statement = update(table).where(col(table.id) == row.id)
    for name, value in expected.items():
        column = col(getattr(table, name))
        statement = statement.where(column.is_(None) if value is None else column == value)
    result = cast(
        "CursorResult[Any]",
        session.execute(statement.values(**values).execution_options(synchronize_session=False)),
    )
    if result.rowcount != 1:
        raise ReferralConflict(conflict)
    for name, value in values.items():
        set_committed_value(row, name, value)  # as written: nothing left to flush


def _detail(referral: Referral, service: Service, what: str) -> str:
    return f"referral {referral.id} to {service.name} ({service.service_type}): {what}"[:300]


def create_referral(
    session: Session,
    *,
    case: Case,
    service: Service,
    actor: Operator,
    override_reason: str | None = None,
    now: datetime | None = None,
) -> Referral:
    """Refer ``case`` to ``service``; ReferralRefused (nothing written) when it may not be.

    With the case's consent to refer, any operator may. Without it, a supervisor or admin may
    by giving ``override_reason`` (recorded on the referral and audited as
    ``referral_override``); an override reason given for a case with consent is not recorded.
    An active or follow_up case becomes referred.
    """
    assert case.id is not None and service.id is not None and actor.id is not None
    now = now or utcnow()
    reason = _text(override_reason)
    if not actor.active:
        raise ReferralRefused(f"{actor.username} is not an active member of the team")
    if case.anonymised_at is not None:
        raise ReferralRefused(f"case {case.reference} was anonymised; it can no longer change")
    if case.status == Status.CLOSED:
        raise ReferralRefused(f"case {case.reference} is closed; reopen it before referring")
    if service.status != "active":
        raise ReferralRefused(
            f"{service.name} is {service.status}; only active services take referrals"
        )
    override = not case.consent_refer
    if override:
        if actor.role not in OVERRIDE_ROLES:
            raise ReferralRefused(
                f"case {case.reference} has no consent to refer; "
                "only a supervisor can refer it, recording an override"
            )
        if reason is None:
            raise ReferralRefused(
                f"case {case.reference} has no consent to refer; an override needs a reason"
            )
        if len(reason) > MAX_REASON:
            raise ReferralRefused(f"the override reason is longer than {MAX_REASON} characters")
    running = session.exec(
        select(Referral.id).where(
            col(Referral.case_id) == case.id,
            col(Referral.service_id) == service.id,
            col(Referral.status).in_(OPEN),
        )
    ).first()
    if running is not None:
        raise ReferralRefused(
            f"case {case.reference} already has referral {running} to {service.name} running"
        )
    previous = case.status
    new_status = (
        case_status.move(previous, Status.REFERRED)
        if previous in (Status.ACTIVE, Status.FOLLOW_UP)
        else previous
    )
    # Compare-and-set on what this decision read: a concurrent consent withdrawal, status
    # change or second referral of the same case makes this one fail instead of slip through.
    _compare_and_set(
        session,
        case,
        {
            "status": previous,
            "consent_refer": case.consent_refer,
            "anonymised_at": None,
            "updated_at": case.updated_at,
        },
        {"status": new_status, "updated_at": now},
        conflict=f"case {case.reference} was changed meanwhile; reload it and try again",
    )
    referral = Referral(
        case_id=case.id,
        service_id=service.id,
        status=ReferralStatus.IN_PROGRESS.value,
        override_by=actor.id if override else None,
        override_reason=reason if override else None,
        created_by=actor.id,
        created_at=now,
        updated_at=now,
    )
    session.add(referral)
    session.flush()
    what = "in_progress, supervisor override" if override else "in_progress"
    session.add(
        CaseEvent(
            case_id=case.id,
            at=now,
            actor=actor.username,
            kind="referral",
            detail=_detail(referral, service, what),
        )
    )
    if new_status != previous:
        session.add(
            CaseEvent(
                case_id=case.id,
                at=now,
                actor=actor.username,
                kind="status",
                from_status=previous,
                to_status=new_status,
                detail=f"referral {referral.id}",
            )
        )
    session.add(
        AuditEntry(
            at=now,
            actor=actor.username,
            action="referral_override" if override else "referral",
            case_id=case.id,
            reason=reason if override else None,
        )
    )
    session.flush()
    return referral


def update_referral(
    session: Session,
    referral: Referral,
    *,
    actor: Operator,
    to: str,
    reason: str | None = None,
    outcome: str | None = None,
    now: datetime | None = None,
) -> Referral:
    """Move ``referral`` to ``to`` (IllegalTransition when the workflow does not allow it).

    Rejecting needs a ``reason``; done needs an ``outcome`` (successful, or not_successful with
    a reason). The change is written to the case's timeline and the audit log.
    """
    if not actor.active:
        move(referral.status, to, reason=reason, outcome=outcome)  # an illegal move says so
        raise ReferralRefused(f"{actor.username} is not an active member of the team")
    return _update(
        session, referral, who=actor.username, to=to, reason=reason, outcome=outcome, now=now
    )


def partner_update(
    session: Session,
    referral: Referral,
    *,
    to: str,
    reason: str | None = None,
    outcome: str | None = None,
    now: datetime | None = None,
) -> Referral:
    """The partner service moves ``referral`` itself, replying to its code by SMS
    (``bot.cases.partner_codes``): the same state machine as ``update_referral``, and the
    timeline and the audit name the partner and say "by SMS"."""
    return _update(
        session, referral, who="partner", to=to, reason=reason, outcome=outcome, now=now, via="SMS"
    )


def _update(
    session: Session,
    referral: Referral,
    *,
    who: str,
    to: str,
    reason: str | None,
    outcome: str | None,
    now: datetime | None,
    via: str | None = None,
) -> Referral:
    assert referral.id is not None
    now = now or utcnow()
    reason = _text(reason)
    previous = referral.status
    new_status = move(previous, to, reason=reason, outcome=outcome)
    _compare_and_set(
        session,
        referral,
        {"status": previous},
        {"status": new_status, "reason": reason, "outcome": outcome, "updated_at": now},
        conflict=f"referral {referral.id} was changed meanwhile; reload it and try again",
    )
    service = session.get(Service, referral.service_id)
    assert service is not None
    what = f"{previous} → {referral.status}" + (f" ({outcome})" if outcome else "")
    if via:
        what += f", by {via}"
    session.add(
        CaseEvent(
            case_id=referral.case_id,
            at=now,
            actor=who,
            kind="referral",
            detail=_detail(referral, service, what),
        )
    )
    session.add(
        AuditEntry(
            at=now,
            actor=who,
            action="referral_update",
            case_id=referral.case_id,
            reason=", ".join(filter(None, [reason, f"by {via}" if via else None]))[:MAX_REASON]
            or None,
        )
    )
    session.flush()
    return referral
