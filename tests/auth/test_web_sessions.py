"""Team web sessions: only a hash stored, idle and absolute ends, ended with the operator's
session epoch (sign-out of the API, password change, deactivation), purged once over."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.auth import web_sessions
from bot.auth.tokens import end_sessions
from bot.models import Operator, WebSession
from tests.cases.helpers import T0

TIMEOUTS = web_sessions.Timeouts(idle=timedelta(minutes=30), absolute=timedelta(hours=12))


@pytest.fixture
def operator(engine: Engine) -> int:
    with Session(engine) as db:
        made = Operator(username="amani", display_name="Amani", role="operator")
        db.add(made)
        db.commit()
        assert made.id is not None
        return made.id


def started(engine: Engine, operator_id: int) -> str:
    with Session(engine) as db:
        found = db.get(Operator, operator_id)
        assert found is not None
        session_id = web_sessions.start(db, found, now=T0, timeouts=TIMEOUTS)
        db.commit()
        return session_id


def check(engine: Engine, session_id: str, minutes: float) -> str:
    """The username the session opens at T0 + minutes, or why it does not."""
    with Session(engine) as db:
        try:
            found = web_sessions.check(
                db, session_id, now=T0 + timedelta(minutes=minutes), timeouts=TIMEOUTS
            )
            return found.username
        except web_sessions.SessionEnded as exc:
            return str(exc)
        finally:
            db.commit()


def test_only_a_hash_of_the_id_is_stored_and_each_sign_in_gets_a_new_one(
    engine: Engine, operator: int
) -> None:
    first, second = started(engine, operator), started(engine, operator)
    assert first != second and len(first) >= 43
    with Session(engine) as db:
        rows = db.exec(select(WebSession)).all()
    assert {row.id_hash for row in rows} == {
        web_sessions.hash_id(first),
        web_sessions.hash_id(second),
    }
    assert all(first not in row.id_hash and second not in row.id_hash for row in rows)


def test_idle_and_absolute_ends(engine: Engine, operator: int) -> None:
    session_id = started(engine, operator)
    for minutes in range(25, 12 * 60, 25):  # active every 25 minutes
        assert check(engine, session_id, minutes) == "amani"
    assert "expired" in check(engine, session_id, 12 * 60)
    idle = started(engine, operator)
    assert "expired" in check(engine, idle, 30)
    assert check(engine, idle, 1) == "sign in first"  # an ended session's row is gone


def test_the_session_epoch_ends_web_sessions_too(engine: Engine, operator: int) -> None:
    session_id = started(engine, operator)
    with Session(engine) as db:
        found = db.get(Operator, operator)
        assert found is not None
        end_sessions(found)
        db.add(found)
        db.commit()
    assert "signed out" in check(engine, session_id, 1)
    deactivated = started(engine, operator)
    with Session(engine) as db:
        found = db.get(Operator, operator)
        assert found is not None
        found.active = False
        db.add(found)
        db.commit()
    assert "not active" in check(engine, deactivated, 1)


def test_sign_out_and_purge(engine: Engine, operator: int) -> None:
    kept, ended = started(engine, operator), started(engine, operator)
    with Session(engine) as db:
        assert web_sessions.end(db, ended) and not web_sessions.end(db, ended)
        db.commit()
    assert check(engine, ended, 1) == "sign in first"
    assert check(engine, "x" * 500, 1) == "sign in first"
    with Session(engine) as db:
        assert web_sessions.purge(db, now=T0 + timedelta(minutes=10), timeouts=TIMEOUTS) == 0
        assert web_sessions.purge(db, now=T0 + timedelta(hours=1), timeouts=TIMEOUTS) == 1
        db.commit()
    assert "sign in first" in check(engine, kept, 61)
