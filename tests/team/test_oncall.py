"""Who is on call now, from the rota."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.models import Operator
from bot.team.oncall import on_call
from tests.cases.helpers import T0, team


def test_shift_covers_its_hours_only(engine: Engine) -> None:
    ids = team(engine, hours=8)
    with Session(engine) as session:
        now = on_call(session, T0 + timedelta(hours=1))
        assert now.primary is not None and now.primary.id == ids["amani"]
        assert now.at_level(1) is not None and now.at_level(2) is not None
        assert on_call(session, T0 + timedelta(hours=8)).primary is None
        assert on_call(session, T0 - timedelta(minutes=1)).primary is None


def test_inactive_operator_is_not_alerted(engine: Engine) -> None:
    ids = team(engine)
    with Session(engine) as session:
        operator = session.get(Operator, ids["lerato"])
        assert operator is not None
        operator.active = False
        session.add(operator)
        session.commit()
        assert on_call(session, T0).backup is None
