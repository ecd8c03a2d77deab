"""The on-call queue: open cases, most urgent first."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.cases import commands, queue
from tests.cases.casework import make_case, work
from tests.cases.helpers import T0, team


def test_queue_is_open_cases_most_urgent_first(engine: Engine) -> None:
    team(engine)
    p4 = make_case(engine, priority="P4")
    p1 = make_case(engine, priority="P1", at=timedelta(minutes=5))
    p1_first = make_case(engine, priority="P1")
    closed = make_case(engine, priority="P1")
    with work(engine, closed, "joseph") as (session, case, actor):
        commands.change_status(session, case=case, actor=actor, to="closed", reason="duplicate")
    with Session(engine) as session:
        items = queue.open_cases(session, now=T0 + timedelta(minutes=12))
        assert [i.reference for i in items] == [p1_first, p1, p4]
        assert [i.seconds_left for i in items] == [-120, 180, 7 * 24 * 3600 - 720]
        assert [i.target_met for i in items] == [False, False, False]
        assert len(queue.open_cases(session, now=T0, limit=1)) == 1
