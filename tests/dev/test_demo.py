"""Demo data: a working on-call team for the embedded default, clearly marked, added once."""

from __future__ import annotations

from datetime import UTC, date, datetime

from argon2 import PasswordHasher
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.dev.demo import seed
from bot.models import Operator, Service, Shift
from bot.team.oncall import on_call
from tests.cases.helpers import CIPHER


def test_demo_team_rota_and_directory(engine: Engine) -> None:
    counts = seed(engine, CIPHER, password="demo-pass-1", today=date(2026, 11, 22))
    assert counts == {"operators": 4, "shifts": 15, "services": 8}
    with Session(engine) as session:
        operators = session.exec(select(Operator)).all()
        assert all(o.demo and "demo" in o.username for o in operators)
        assert PasswordHasher().verify(operators[0].password_hash or "", "demo-pass-1")
        assert all(s.demo for s in session.exec(select(Shift)).all())
        assert all(s.demo and "(demo)" in s.name for s in session.exec(select(Service)).all())
        for hour in (0, 7, 9, 21):
            team = on_call(session, datetime(2026, 11, 22, hour, tzinfo=UTC).astimezone())
            assert team.primary is not None and team.supervisor is not None, hour
    assert seed(engine, CIPHER, password="x", today=date(2026, 11, 22)) == {}, "added once"
