"""The on-call queue: open cases, most urgent first, with nothing of what was reported."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from bot.cases.access import now_or
from bot.cases.status import Status
from bot.models import Case, Operator


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
    session: Session, *, now: datetime | None = None, limit: int = 500
) -> list[QueueItem]:
    """Open cases, most urgent first: by priority (P1 first), then by due time."""
    now = now_or(now)
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
