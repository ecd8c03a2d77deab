"""The demo year: invented closed cases marked demo, added once, removed with what hangs on them."""

from __future__ import annotations

from datetime import date

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from bot.cases.status import CloseReason
from bot.dev import demo_year
from bot.models import Case, CaseEvent, Escalation


def test_a_year_of_closed_marked_cases_added_once_and_removed(engine: Engine) -> None:
    added = demo_year.seed(engine, today=date(2026, 11, 22))
    assert 1000 < added < 2000
    assert demo_year.seed(engine, today=date(2026, 11, 22)) == 0, "added once"
    with Session(engine) as session:
        cases = session.exec(select(Case)).all()
        assert all(c.event_key.startswith(demo_year.MARK) for c in cases)
        assert all(c.status == "closed" for c in cases)  # the queue is left alone
        reasons = {c.close_reason for c in cases}  # ones the team could pick (shown in words)
        assert reasons == {r.value for r in CloseReason} - {CloseReason.NOT_TRAFFICKING}
        assert not any(c.narrative or c.contact or c.contact_phone for c in cases)
        assert session.exec(select(func.count()).select_from(Escalation)).one() > 0
    assert demo_year.remove(engine) == added
    assert demo_year.seed(engine, today=date(2026, 11, 22)) == 0, "removed: not re-added"
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Case)).one() == 0
        assert session.exec(select(func.count()).select_from(CaseEvent)).one() == 0
        left = session.exec(select(Escalation).where(col(Escalation.id).is_not(None))).all()
        assert left == []
    assert demo_year.seed(engine, today=date(2026, 11, 22), again=True) == added
