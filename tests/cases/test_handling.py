"""Handling a case as a service: each change on the timeline and in the audit log, or refused."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.cases import handling
from bot.cases.handling import CaseNotFound, Conflict, IllegalTransition, NotPermitted
from bot.cases.intake import CasesSink
from bot.core.privacy import Cipher, new_key
from bot.engine.state import Event
from bot.models import AuditEntry, Case, CaseEvent, CaseNote, Escalation, Operator
from tests.cases.helpers import CATALOGS, CIPHER, T0, team
from tests.conftest import TEST_PHONES, assert_no_phone_numbers, database_text


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
        case = handling.find_case(session, reference)
        actor = session.exec(select(Operator).where(col(Operator.username) == username)).one()
        yield session, case, actor
        session.commit()


def timeline(engine: Engine, reference: str) -> list[tuple[str, str]]:
    with Session(engine) as session:
        case = handling.find_case(session, reference)
        rows = session.exec(
            select(CaseEvent).where(col(CaseEvent.case_id) == case.id).order_by(col(CaseEvent.id))
        ).all()
        return [(e.kind, e.actor) for e in rows]


def actions(engine: Engine, reference: str) -> list[tuple[str, str]]:
    with Session(engine) as session:
        case = handling.find_case(session, reference)
        rows = session.exec(
            select(AuditEntry)
            .where(col(AuditEntry.case_id) == case.id)
            .order_by(col(AuditEntry.id))
        ).all()
        return [(e.action, e.actor) for e in rows]


def test_find_case_takes_a_reference_as_typed(engine: Engine) -> None:
    team(engine)
    ref = make_case(engine)
    with Session(engine) as session:
        assert handling.find_case(session, ref.lower().replace("-", " ")).reference == ref
        for typed in ("", "nonsense", "AAAA-33"):
            with pytest.raises(CaseNotFound):
                handling.find_case(session, typed)


def test_queue_is_open_cases_most_urgent_first(engine: Engine) -> None:
    team(engine)
    p4 = make_case(engine, priority="P4")
    p1 = make_case(engine, priority="P1", at=timedelta(minutes=5))
    p1_first = make_case(engine, priority="P1")
    closed = make_case(engine, priority="P1")
    with work(engine, closed, "joseph") as (session, case, actor):
        handling.change_status(session, case=case, actor=actor, to="closed", reason="duplicate")
    with Session(engine) as session:
        items = handling.queue(session, now=T0 + timedelta(minutes=12))
        assert [i.reference for i in items] == [p1_first, p1, p4]
        assert [i.seconds_left for i in items] == [-120, 180, 7 * 24 * 3600 - 720]
        assert [i.target_met for i in items] == [False, False, False]
        assert len(handling.queue(session, now=T0, limit=1)) == 1


def test_claim_acknowledges_and_guards_against_two_people_on_a_case(engine: Engine) -> None:
    team(engine)
    ref = make_case(engine)
    with work(engine, ref, "amani") as (session, case, actor):
        assert handling.claim(session, case=case, actor=actor, now=T0) is True
    with work(engine, ref, "amani") as (session, case, actor):
        assert handling.claim(session, case=case, actor=actor, now=T0) is False
    with work(engine, ref, "lerato") as (session, case, actor), pytest.raises(Conflict):
        handling.claim(session, case=case, actor=actor, now=T0)
    with work(engine, ref, "joseph") as (session, case, actor):
        assert handling.claim(session, case=case, actor=actor, now=T0) is True
    assert timeline(engine, ref)[-3:] == [("ack", "amani"), ("claim", "amani"), ("claim", "joseph")]
    with Session(engine) as session:
        assert session.exec(select(Escalation)).one().done is True
    assert actions(engine, ref) == [("ack", "amani"), ("claim", "amani"), ("claim", "joseph")]


def test_a_stale_case_cannot_be_changed_twice(engine: Engine) -> None:
    team(engine)
    ref = make_case(engine, priority="P2")
    with Session(engine) as first, Session(engine) as second:
        case_a = handling.find_case(first, ref)
        case_b = handling.find_case(second, ref)
        amani = first.exec(select(Operator).where(col(Operator.username) == "amani")).one()
        lerato = second.exec(select(Operator).where(col(Operator.username) == "lerato")).one()
        handling.change_status(first, case=case_a, actor=amani, to="triaged", now=T0)
        first.commit()
        with pytest.raises(Conflict, match="changed meanwhile"):
            handling.change_status(second, case=case_b, actor=lerato, to="triaged", now=T0)
    with Session(engine) as first, Session(engine) as second:
        case_a = handling.find_case(first, ref)
        case_b = handling.find_case(second, ref)
        amani = first.exec(select(Operator).where(col(Operator.username) == "amani")).one()
        lerato = second.exec(select(Operator).where(col(Operator.username) == "lerato")).one()
        assert handling.claim(first, case=case_a, actor=amani, now=T0)
        first.commit()
        with pytest.raises(Conflict, match="changed meanwhile"):
            handling.claim(second, case=case_b, actor=lerato, now=T0)
    kinds = [k for k, _ in timeline(engine, ref)]
    assert (kinds.count("status"), kinds.count("claim")) == (1, 1)


def test_status_change_acknowledges_and_is_recorded(engine: Engine) -> None:
    team(engine)
    ref = make_case(engine)
    with work(engine, ref, "lerato") as (session, case, actor):
        assert handling.change_status(session, case=case, actor=actor, to="triaged") == "triaged"
    with Session(engine) as session:
        case = handling.find_case(session, ref)
        assert case.acknowledged_at is not None and case.status == "triaged"
        assert session.exec(select(Escalation)).one().done is True
    assert timeline(engine, ref)[-2:] == [("ack", "lerato"), ("status", "lerato")]
    with work(engine, ref, "lerato") as (session, case, actor):
        with pytest.raises(IllegalTransition, match=r"allowed: active, closed"):
            handling.change_status(session, case=case, actor=actor, to="follow_up")
        with pytest.raises(ValueError, match="at most 300"):
            handling.change_status(session, case=case, actor=actor, to="active", reason="x" * 301)


def test_only_supervisors_reopen(engine: Engine) -> None:
    team(engine)
    ref = make_case(engine, priority="P3")
    with work(engine, ref, "amani") as (session, case, actor):
        handling.change_status(session, case=case, actor=actor, to="closed", reason="resolved")
    with work(engine, ref, "amani") as (session, case, actor), pytest.raises(NotPermitted):
        handling.change_status(session, case=case, actor=actor, to="active")
    with work(engine, ref, "joseph") as (session, case, actor):
        handling.change_status(session, case=case, actor=actor, to="active", reason="new facts")
    with Session(engine) as session:
        case = handling.find_case(session, ref)
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
            lambda: handling.claim(session, case=case, actor=actor),
            lambda: handling.acknowledge(session, case=case, actor=actor),
            lambda: handling.view_case(session, CIPHER, case=case, actor=actor, reason="x"),
        ):
            with pytest.raises(NotPermitted):
                attempt()
        session.rollback()
    with Session(engine) as session:
        case = handling.find_case(session, ref)
        case.anonymised_at = T0
        session.add(case)
        session.commit()
    with work(engine, ref, "joseph") as (session, case, actor):
        for change in (
            lambda: handling.claim(session, case=case, actor=actor),
            lambda: handling.change_status(session, case=case, actor=actor, to="triaged"),
            lambda: handling.add_note(session, CIPHER, case=case, actor=actor, body="x"),
            lambda: handling.record_consent(session, case=case, actor=actor, refer=True),
        ):
            with pytest.raises(Conflict, match="anonymised"):
                change()


def test_notes_are_encrypted_and_never_empty(engine: Engine) -> None:
    team(engine)
    ref = make_case(engine)
    with work(engine, ref, "amani") as (session, case, actor):
        for empty in ("", "   "):
            with pytest.raises(ValueError, match="empty"):
                handling.add_note(session, CIPHER, case=case, actor=actor, body=empty)
        handling.add_note(session, CIPHER, case=case, actor=actor, body="  met at the church  ")
    assert "church" not in database_text(engine)
    with Session(engine) as session:
        note = session.exec(select(CaseNote)).one()
        assert CIPHER.decrypt(note.body, "case_note.body") == "met at the church"


def test_withdrawing_contact_consent_deletes_the_number(engine: Engine) -> None:
    team(engine)
    ref = make_case(engine, address=TEST_PHONES[0], consent_contact="yes")
    with work(engine, ref, "amani") as (session, case, actor):
        assert case.contact_phone is not None
        with pytest.raises(ValueError, match="say which consent"):
            handling.record_consent(session, case=case, actor=actor)
        assert (
            handling.record_consent(session, case=case, actor=actor, contact=True)
            == "contact yes (unchanged)"
        )
        summary = handling.record_consent(session, case=case, actor=actor, contact=False)
        assert summary == "contact no, number deleted"
        again = handling.record_consent(session, case=case, actor=actor, contact=True)
        assert again == "contact yes, no number on file"
    with Session(engine) as session:
        case = handling.find_case(session, ref)
        assert case.consent_contact is True and case.contact_phone is None
    assert [k for k, _ in timeline(engine, ref)].count("consent") == 3
    assert_no_phone_numbers(database_text(engine))


def test_view_case_audits_every_decryption(engine: Engine) -> None:
    team(engine)
    ref = make_case(engine, address=TEST_PHONES[1], consent_contact="yes", people="3")
    with work(engine, ref, "amani") as (session, case, actor):
        handling.add_note(session, CIPHER, case=case, actor=actor, body="note one")
        with pytest.raises(ValueError, match="needs a reason"):
            handling.view_case(session, CIPHER, case=case, actor=actor, reason=" ")
        view = handling.view_case(session, CIPHER, case=case, actor=actor, reason="triage")
        assert (view.narrative, view.safe_time, view.contact_phone) == (
            "a narrative",
            "mornings",
            None,
        )
        assert view.contact_phone_hidden and view.answers == {
            "consent_contact": "yes",
            "people": "3",
        }
        assert view.people_affected == 3 and [n.body for n in view.notes] == ["note one"]
    with work(engine, ref, "joseph") as (session, case, actor):
        view = handling.view_case(session, CIPHER, case=case, actor=actor, reason="call back")
        assert view.contact_phone == TEST_PHONES[1]
    reads = [a for a in actions(engine, ref) if a[0] in ("view_case", "decrypt")]
    assert (
        reads
        == [("view_case", "amani")]
        + [("decrypt", "amani")] * 4
        + [("view_case", "joseph")]
        + [("decrypt", "joseph")] * 5
    )


def test_unreadable_fields_are_named_not_fatal(engine: Engine) -> None:
    team(engine)
    ref = make_case(engine)
    other = Cipher.from_list([new_key()])
    with work(engine, ref, "amani") as (session, case, actor):
        view = handling.view_case(session, other, case=case, actor=actor, reason="check")
        assert view.narrative is None and view.answers is None
        assert view.unreadable == ["case.narrative", "case.answers", "case.safe_time"]


def test_audit_trail_is_newest_first_and_itself_recorded(engine: Engine) -> None:
    team(engine)
    ref = make_case(engine)
    with work(engine, ref, "amani") as (session, case, actor):
        handling.acknowledge(session, case=case, actor=actor, now=T0)
        handling.add_note(session, CIPHER, case=case, actor=actor, body="x", now=T0)
    with work(engine, ref, "joseph") as (session, case, actor):
        trail = handling.audit_trail(session, actor=actor, case=case)
        assert [e.action for e in trail] == ["note", "ack"]
    assert actions(engine, ref)[-1] == ("view_audit", "joseph")
