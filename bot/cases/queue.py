"""The on-call queue: open cases, most urgent first, with nothing of what was reported.

``open_cases`` lists them (narrowed by a ``QueueFilter``: mine, unassigned, a priority, an area
and what lies inside it, a status); ``version`` is a number that changes whenever any case does
(every change writes a timeline line), so a live queue can ask cheaply whether to refresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from bot.cases.access import now_or
from bot.cases.status import Status
from bot.models import Case, CaseEvent, Operator

PRIORITIES = ("P1", "P2", "P3", "P4")
OPEN_STATUSES = tuple(status.value for status in Status if status != Status.CLOSED)
Who = Literal["all", "mine", "unassigned"]


@dataclass(frozen=True)
class QueueFilter:
    """Which open cases to list: everyone's, mine (``me``) or nobody's; a priority, an area
    (and every area inside it: ``cd-kwilu`` takes in ``cd-kwilu-kikwit``), a status."""

    who: Who = "all"
    me: int | None = None
    priority: str | None = None
    area: str | None = None
    status: str | None = None


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


def open_cases(
    session: Session,
    *,
    now: datetime | None = None,
    limit: int = 500,
    where: QueueFilter | None = None,
) -> list[QueueItem]:
    """Open cases, most urgent first: by priority (P1 first), then by due time; only those
    ``where`` lets through, when given."""
    now = now_or(now)
    query = (
        select(Case, Operator.username)
        .join(Operator, col(Case.assignee_id) == col(Operator.id), isouter=True)
        .where(col(Case.status) != Status.CLOSED.value, col(Case.anonymised_at).is_(None))
    )
    if where is not None:
        if where.who == "mine":
            query = query.where(col(Case.assignee_id) == where.me)
        elif where.who == "unassigned":
            query = query.where(col(Case.assignee_id).is_(None))
        if where.priority:
            query = query.where(col(Case.priority) == where.priority)
        if where.area:
            query = query.where(
                or_(
                    col(Case.area) == where.area,
                    col(Case.area).startswith(where.area + "-", autoescape=True),
                )
            )
        if where.status:
            query = query.where(col(Case.status) == where.status)
    rows = session.exec(
        query.order_by(col(Case.priority), col(Case.due_at), col(Case.id)).limit(limit)
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


def open_areas(session: Session) -> list[str]:
    """The areas of open cases, sorted (what an area filter can usefully offer)."""
    found = session.exec(
        select(Case.area)
        .where(
            col(Case.status) != Status.CLOSED.value,
            col(Case.anonymised_at).is_(None),
            col(Case.area).is_not(None),
        )
        .distinct()
    ).all()
    return sorted(area for area in found if area)


def version(session: Session) -> int:
    """A number that grows whenever a case is created or changes (its newest timeline line)."""
    newest = session.exec(select(func.max(CaseEvent.id))).one()
    return int(newest or 0)
