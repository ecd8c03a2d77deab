"""Cases made through the intake service and read back: shared by the case service tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.cases import access
from bot.cases.intake import CasesSink
from bot.engine.state import Event
from bot.models import AuditEntry, Case, CaseEvent, Operator
from tests.cases.helpers import CATALOGS, CIPHER, T0


class Quiet:
    async def notify(self, message_ids: object) -> None:
        """Nothing to wake."""


_count = 0


def make_case(
    engine: Engine,
    *,
    priority: str = "P1",
    at: timedelta = timedelta(0),
    address: str | None = None,
    **answers: str,
) -> str:
    global _count
    _count += 1
    event = Event(
        "tip_submitted",
        {
            "event_id": f"handling:{_count}",
            "lang": "en",
            "priority": priority,
            "rule": "tip",
            "answers": {"description": "a narrative", "safe_time": "mornings", **answers},
        },
    )
    sink = CasesSink(engine, CIPHER, CATALOGS.gettext, Quiet, clock=lambda: T0 + at)
    return sink.commit(event, channel="sms", contact="ph_x", address=address)[0]


@contextmanager
def work(engine: Engine, reference: str, username: str) -> Iterator[tuple[Session, Case, Operator]]:
    """A session with the case and the actor loaded, committed at the end."""
    with Session(engine) as session:
        case = access.find_case(session, reference)
        actor = session.exec(select(Operator).where(col(Operator.username) == username)).one()
        yield session, case, actor
        session.commit()


def timeline(engine: Engine, reference: str) -> list[tuple[str, str]]:
    with Session(engine) as session:
        case = access.find_case(session, reference)
        rows = session.exec(
            select(CaseEvent).where(col(CaseEvent.case_id) == case.id).order_by(col(CaseEvent.id))
        ).all()
        return [(e.kind, e.actor) for e in rows]


def actions(engine: Engine, reference: str) -> list[tuple[str, str]]:
    with Session(engine) as session:
        case = access.find_case(session, reference)
        rows = session.exec(
            select(AuditEntry)
            .where(col(AuditEntry.case_id) == case.id)
            .order_by(col(AuditEntry.id))
        ).all()
        return [(e.action, e.actor) for e in rows]
