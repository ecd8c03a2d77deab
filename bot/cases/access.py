"""Finding a case and who may act on it: the errors every case service raises, the actor checks.

Role rules that depend on the case (reopening a closed case, taking over another operator's
case, seeing a phone number) are checked in the services as well as at the door of the API.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from bot.cases.reference import normalise
from bot.core.clock import utcnow
from bot.models import Case, CaseEvent, Operator

MAX_REASON = 300
"""Characters of a reason given to reveal, override or close."""


class CaseNotFound(LookupError):
    """No case has this reference."""


class NotPermitted(PermissionError):
    """The actor's role does not allow this on this case."""


class Conflict(ValueError):
    """The case is not in a state that allows this (closed, anonymised, changed meanwhile)."""


def now_or(now: datetime | None) -> datetime:
    """``now`` as given, else the clock's (services take ``now`` so tests control time)."""
    return now if now is not None else utcnow()


def check_actor(actor: Operator) -> None:
    """NotPermitted unless ``actor`` is an active member of the team."""
    if not actor.active:
        raise NotPermitted(f"{actor.username} is not an active member of the team")


def holds(session: Session, case: Case, actor: Operator) -> bool:
    """Does ``actor`` hold the case: its assignee, or (nobody holding it) who acknowledged it?"""
    if case.assignee_id is not None:
        return case.assignee_id == actor.id
    if case.acknowledged_at is None:
        return False
    acker = session.exec(
        select(CaseEvent.actor)
        .where(col(CaseEvent.case_id) == case.id, col(CaseEvent.kind) == "ack")
        .order_by(col(CaseEvent.at).desc(), col(CaseEvent.id).desc())
    ).first()
    return acker == actor.username


def check_kept(case: Case) -> None:
    """Conflict when the case was anonymised: it can no longer change."""
    if case.anonymised_at is not None:
        raise Conflict(f"case {case.reference} was anonymised; it can no longer change")


def find_case(session: Session, reference: str) -> Case:
    """The case with this reference (as typed: ``k7qm 46`` works), or CaseNotFound."""
    code = normalise(reference)
    case = session.exec(select(Case).where(col(Case.reference) == code)).first() if code else None
    if case is None:
        raise CaseNotFound(f"no case {reference!r}")
    return case
