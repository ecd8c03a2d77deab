"""The audit trail: newest first, and reading it is itself recorded."""

from __future__ import annotations

from datetime import timedelta

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


def test_search_filters_pages_and_masks_numbers(engine: Engine) -> None:
    team(engine)
    ref = make_case(engine)
    with work(engine, ref, "amani") as (session, case, actor):
        commands.acknowledge(session, case=case, actor=actor, now=T0)
        for minute in range(5):
            audit.record(
                session,
                actor="amani",
                action="decrypt",
                case_id=case.id,
                reason="case.narrative: called +243 000 000 001 back",
                at=T0 + timedelta(minutes=minute + 1),
            )
    with work(engine, ref, "joseph") as (session, case, actor):
        audit.record(session, actor="joseph", action="add_shift", reason="shift 9", at=T0)
        later = T0 + timedelta(hours=1)
        first = audit.search(session, actor=actor, case=case, per_page=2, now=later)
        assert (first.page, first.pages, first.total) == (1, 3, 6)
        assert [e.reason for e in first.entries] == ["case.narrative: called ••• back"] * 2
        assert {e.case for e in first.entries} == {ref}
        last = audit.search(session, actor=actor, case=case, per_page=2, page=99, now=later)
        assert (last.page, last.total) == (4, 7)  # the first reading is on record too
        assert [e.action for e in last.entries] == ["ack"]
        by_joseph = audit.search(session, actor=actor, operator=" Joseph ", now=later)
        assert [e.action for e in by_joseph.entries] == ["view_audit", "view_audit", "add_shift"]
        acks = audit.search(session, actor=actor, action="ack")
        assert [e.actor for e in acks.entries] == ["amani"]
        window = audit.search(
            session,
            actor=actor,
            action="decrypt",
            since=T0 + timedelta(minutes=2),
            until=T0 + timedelta(minutes=4),
        )
        assert window.total == 2
        assert "decrypt" in audit.actions(session)
    assert actions(engine, ref)[-1] == ("view_audit", "joseph")


def test_mask_numbers_keeps_short_numbers() -> None:
    kept = "shift 12: 2027-03-01T09:00:00+00:00 to 2027-03-02T09:00:00+00:00; 1234-567"
    assert audit.mask_numbers(kept) == kept
    assert audit.mask_numbers("call 0700000100 or (+266) 000-000-03") == "call ••• or (•••"
