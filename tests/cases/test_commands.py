"""What the team does to a case: on the timeline and in the audit log, or refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.cases import access, case_view, commands
from bot.cases.access import Conflict, NotPermitted
from bot.cases.status import IllegalTransition
from bot.models import AuditEntry, CaseNote, Escalation, Operator
from tests.cases.casework import actions, make_case, timeline, work
from tests.cases.helpers import CIPHER, T0, team
from tests.conftest import TEST_PHONES, assert_no_phone_numbers, database_text


def test_claim_acknowledges_and_guards_against_two_people_on_a_case(engine: Engine) -> None:
    team(engine)
    ref = make_case(engine)
    with work(engine, ref, "amani") as (session, case, actor):
        assert commands.claim(session, case=case, actor=actor, now=T0) is True
    with work(engine, ref, "amani") as (session, case, actor):
        assert commands.claim(session, case=case, actor=actor, now=T0) is False
    with work(engine, ref, "lerato") as (session, case, actor), pytest.raises(Conflict):
        commands.claim(session, case=case, actor=actor, now=T0)
    with work(engine, ref, "joseph") as (session, case, actor):
        assert commands.claim(session, case=case, actor=actor, now=T0) is True
    assert timeline(engine, ref)[-3:] == [("ack", "amani"), ("claim", "amani"), ("claim", "joseph")]
    with Session(engine) as session:
        assert session.exec(select(Escalation)).one().done is True
    assert actions(engine, ref) == [("ack", "amani"), ("claim", "amani"), ("claim", "joseph")]


def test_a_stale_case_cannot_be_changed_twice(engine: Engine) -> None:
    team(engine)
    ref = make_case(engine, priority="P2")
    with Session(engine) as first, Session(engine) as second:
        case_a = access.find_case(first, ref)
        case_b = access.find_case(second, ref)
        amani = first.exec(select(Operator).where(col(Operator.username) == "amani")).one()
        lerato = second.exec(select(Operator).where(col(Operator.username) == "lerato")).one()
        commands.change_status(first, case=case_a, actor=amani, to="triaged", now=T0)
        first.commit()
        with pytest.raises(Conflict, match="changed meanwhile"):
            commands.change_status(second, case=case_b, actor=lerato, to="triaged", now=T0)
    with Session(engine) as first, Session(engine) as second:
        case_a = access.find_case(first, ref)
        case_b = access.find_case(second, ref)
        amani = first.exec(select(Operator).where(col(Operator.username) == "amani")).one()
        lerato = second.exec(select(Operator).where(col(Operator.username) == "lerato")).one()
        assert commands.claim(first, case=case_a, actor=amani, now=T0)
        first.commit()
        with pytest.raises(Conflict, match="changed meanwhile"):
            commands.claim(second, case=case_b, actor=lerato, now=T0)
    kinds = [k for k, _ in timeline(engine, ref)]
    assert (kinds.count("status"), kinds.count("claim")) == (1, 1)


def test_status_change_acknowledges_and_is_recorded(engine: Engine) -> None:
    team(engine)
    ref = make_case(engine)
    with work(engine, ref, "lerato") as (session, case, actor):
        assert commands.change_status(session, case=case, actor=actor, to="triaged") == "triaged"
    with Session(engine) as session:
        case = access.find_case(session, ref)
        assert case.acknowledged_at is not None and case.status == "triaged"
        assert session.exec(select(Escalation)).one().done is True
    assert timeline(engine, ref)[-2:] == [("ack", "lerato"), ("status", "lerato")]
    with work(engine, ref, "lerato") as (session, case, actor):
        with pytest.raises(IllegalTransition, match=r"allowed: active, closed"):
            commands.change_status(session, case=case, actor=actor, to="follow_up")
        with pytest.raises(ValueError, match="at most 300"):
            commands.change_status(session, case=case, actor=actor, to="active", reason="x" * 301)


def test_only_supervisors_reopen(engine: Engine) -> None:
    team(engine)
    ref = make_case(engine, priority="P3")
    with work(engine, ref, "amani") as (session, case, actor):
        commands.change_status(session, case=case, actor=actor, to="closed", reason="resolved")
    with work(engine, ref, "amani") as (session, case, actor), pytest.raises(NotPermitted):
        commands.change_status(session, case=case, actor=actor, to="active")
    with work(engine, ref, "joseph") as (session, case, actor):
        commands.change_status(session, case=case, actor=actor, to="active", reason="new facts")
    with Session(engine) as session:
        case = access.find_case(session, ref)
        assert (case.status, case.close_reason, case.closed_at) == ("active", None, None)
        reasons = session.exec(
            select(AuditEntry.reason).where(col(AuditEntry.action) == "status")
        ).all()
        assert list(reasons) == ["new → closed: resolved", "closed → active: new facts"]


def test_inactive_actors_and_anonymised_cases_are_refused(engine: Engine) -> None:
    team(engine)
    ref = make_case(engine)
    with work(engine, ref, "amani") as (session, case, actor):
        actor.active = False
        for attempt in (
            lambda: commands.claim(session, case=case, actor=actor),
            lambda: commands.acknowledge(session, case=case, actor=actor),
            lambda: case_view.view_case(session, CIPHER, case=case, actor=actor, reason="x"),
        ):
            with pytest.raises(NotPermitted):
                attempt()
        session.rollback()
    with Session(engine) as session:
        case = access.find_case(session, ref)
        case.anonymised_at = T0
        session.add(case)
        session.commit()
    with work(engine, ref, "joseph") as (session, case, actor):
        for change in (
            lambda: commands.claim(session, case=case, actor=actor),
            lambda: commands.change_status(session, case=case, actor=actor, to="triaged"),
            lambda: commands.add_note(session, CIPHER, case=case, actor=actor, body="x"),
            lambda: commands.record_consent(session, case=case, actor=actor, refer=True),
        ):
            with pytest.raises(Conflict, match="anonymised"):
                change()


def test_notes_are_encrypted_and_never_empty(engine: Engine) -> None:
    team(engine)
    ref = make_case(engine)
    with work(engine, ref, "amani") as (session, case, actor):
        for empty in ("", "   "):
            with pytest.raises(ValueError, match="empty"):
                commands.add_note(session, CIPHER, case=case, actor=actor, body=empty)
        commands.add_note(session, CIPHER, case=case, actor=actor, body="  met at the church  ")
    assert "church" not in database_text(engine)
    with Session(engine) as session:
        note = session.exec(select(CaseNote)).one()
        assert CIPHER.decrypt(note.body, "case_note.body") == "met at the church"


def test_withdrawing_contact_consent_keeps_the_number_through_a_grace(engine: Engine) -> None:
    team(engine)
    ref = make_case(engine, address=TEST_PHONES[0], consent_contact="yes")
    with work(engine, ref, "amani") as (session, case, actor):
        commands.claim(session, case=case, actor=actor, now=T0)
        assert case.contact_phone is not None
        with pytest.raises(ValueError, match="say which consent"):
            commands.record_consent(session, case=case, actor=actor, now=T0)
        assert (
            commands.record_consent(session, case=case, actor=actor, contact=True, now=T0)
            == "contact yes (unchanged)"
        )
        summary = commands.record_consent(session, case=case, actor=actor, contact=False, now=T0)
        assert summary == "contact no, number deleted after 2026-11-29 08:00 UTC"
        # The holder (an operator) cannot undo it: that is a supervisor's call.
        with pytest.raises(NotPermitted, match="only a supervisor may restore"):
            commands.record_consent(session, case=case, actor=actor, contact=True, now=T0)
    with Session(engine) as session:
        case = access.find_case(session, ref)
        assert case.consent_contact is False and case.contact_phone is not None
        assert case.contact_phone_delete_after == T0 + timedelta(days=7)
    with work(engine, ref, "joseph") as (session, case, actor):
        restored = commands.record_consent(
            session, case=case, actor=actor, contact=True, now=T0 + timedelta(days=3)
        )
        assert restored == "contact yes, number kept (withdrawal undone)"
    with Session(engine) as session:
        case = access.find_case(session, ref)
        assert case.consent_contact is True and case.contact_phone is not None
        assert case.contact_phone_delete_after is None
    assert [k for k, _ in timeline(engine, ref)].count("consent") == 3
    assert ("refused", "amani") in actions(engine, ref)
    assert_no_phone_numbers(database_text(engine))


def test_a_zero_grace_deletes_the_number_at_once(engine: Engine) -> None:
    team(engine)
    ref = make_case(engine, address=TEST_PHONES[0], consent_contact="yes")
    with work(engine, ref, "joseph") as (session, case, actor):
        summary = commands.record_consent(
            session, case=case, actor=actor, contact=False, grace=timedelta(0)
        )
        assert summary == "contact no, number deleted"
        again = commands.record_consent(session, case=case, actor=actor, contact=True)
        assert again == "contact yes, no number on file"
    with Session(engine) as session:
        case = access.find_case(session, ref)
        assert case.consent_contact is True and case.contact_phone is None


def test_only_the_holder_or_a_supervisor_changes_consent(engine: Engine) -> None:
    team(engine)
    ref = make_case(engine, address=TEST_PHONES[0], consent_contact="yes")
    refusal = pytest.raises(NotPermitted, match=r"holding case .* or a supervisor")
    with work(engine, ref, "lerato") as (session, case, actor), refusal:
        commands.record_consent(session, case=case, actor=actor, contact=False)
    with work(engine, ref, "amani") as (session, case, actor):
        commands.acknowledge(session, case=case, actor=actor)
        assert commands.record_consent(session, case=case, actor=actor, police=True)
    with work(engine, ref, "lerato") as (session, case, actor), pytest.raises(NotPermitted):
        commands.record_consent(session, case=case, actor=actor, contact=False)
    with work(engine, ref, "joseph") as (session, case, actor):
        assert commands.record_consent(session, case=case, actor=actor, refer=True)
    with Session(engine) as session:
        case = access.find_case(session, ref)
        # The stranger changed nothing: the number and the consent are as they were.
        assert case.consent_contact is True and case.contact_phone is not None
        assert case.contact_phone_delete_after is None
        assert case.consent_police is True and case.consent_refer is True
    assert [a for a in actions(engine, ref) if a[0] in ("refused", "consent")] == [
        ("refused", "lerato"),
        ("consent", "amani"),
        ("refused", "lerato"),
        ("consent", "joseph"),
    ]
