"""``/audit`` (supervisors and admins): who read or changed what, and why — newest first.

Filtered by case reference, by operator (who acted), by action and by period (days, UTC),
a page at a time. Entries come from ``bot.governance.audit.search``: a case by its reference,
never decrypted content, numbers masked; reading the trail is itself recorded there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from admin.deps import Supervisor
from admin.render import render
from admin.routes import audit_labels
from bot.cases.access import CaseNotFound, find_case
from bot.deps import DbSession, Now
from bot.governance import audit
from bot.team.operators import list_operators

router = APIRouter(tags=["team web"])


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Filters:
    """The trail's filters as sent (an unreadable date is ignored)."""

    case: str = ""
    operator: str = ""
    action: str = ""
    since: date | None = None
    until: date | None = None

    def params(self, page: int | None = None) -> str:
        """The filters (and a page) as a query string."""
        values = {
            "case": self.case,
            "operator": self.operator,
            "action": self.action,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
            "page": str(page) if page else "",
        }
        return urlencode({k: v for k, v in values.items() if v})


def filters(
    case: Annotated[str, Query(max_length=16)] = "",
    operator: Annotated[str, Query(max_length=64)] = "",
    action: Annotated[str, Query(max_length=32)] = "",
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
) -> Filters:
    """The filters from the query string."""
    return Filters(
        case=case.strip().upper(),
        operator=operator.strip().lower(),
        action=action.strip(),
        since=_day(since),
        until=_day(until),
    )


AuditFilters = Annotated[Filters, Depends(filters)]


def midnight(day: date) -> datetime:
    """The start of a day, UTC."""
    return datetime.combine(day, time(), tzinfo=UTC)


@router.get("/audit")
def audit_page(
    request: Request,
    me: Supervisor,
    db: DbSession,
    now: Now,
    chosen: AuditFilters,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """A page of the trail; an unknown case reference says so (404) rather than showing all."""
    found = None
    if chosen.case:
        try:
            found = find_case(db, chosen.case)
        except CaseNotFound:
            found = None
    context = {
        "filters": chosen,
        "operators": [o.username for o in list_operators(db)],
        "actions": audit.actions(db),
        "audit_labels": audit_labels,
    }
    if chosen.case and found is None:
        return render(request, "audit.html", {**context, "unknown_case": True}, status=404)
    shown = audit.search(
        db,
        actor=me.operator,
        case=found,
        operator=chosen.operator or None,
        action=chosen.action or None,
        since=midnight(chosen.since) if chosen.since else None,
        until=midnight(chosen.until) + timedelta(days=1) if chosen.until else None,
        page=page,
        now=now,
    )
    db.commit()  # the reading of the trail is on record
    return render(request, "audit.html", {**context, "shown": shown})
