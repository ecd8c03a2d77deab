"""The audit trail: newest first, and reading it is itself recorded."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from bot.cases import commands
from bot.governance import audit
from tests.cases.casework import actions, make_case, work
from tests.cases.helpers import CIPHER, T0, team


def test_audit_trail_is_newest_first_and_itself_recorded(engine: Engine) -> None:
    team(engine)
    ref = make_case(engine)
    with work(engine, ref, "amani") as (session, case, actor):
        commands.acknowledge(session, case=case, actor=actor, now=T0)
        commands.add_note(session, CIPHER, case=case, actor=actor, body="x", now=T0)
    with work(engine, ref, "joseph") as (session, case, actor):
        trail = audit.trail(session, actor=actor, case=case)
        assert [e.action for e in trail] == ["note", "ack"]
    assert actions(engine, ref)[-1] == ("view_audit", "joseph")
