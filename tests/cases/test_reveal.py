"""Revealing a case's content or its consented number: for the holder and supervisors, audited."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from bot.cases import commands, reveal
from bot.cases.access import Conflict, NotPermitted
from tests.cases.casework import actions, make_case, work
from tests.cases.helpers import CIPHER, team
from tests.conftest import TEST_PHONES, assert_no_phone_numbers, database_text


def test_content_is_revealed_to_the_holder_with_a_reason(engine: Engine) -> None:
    team(engine)
    ref = make_case(engine)
    with work(engine, ref, "amani") as (session, case, actor):
        commands.claim(session, case=case, actor=actor)
        commands.add_note(session, CIPHER, case=case, actor=actor, body="called the shelter")
        with pytest.raises(ValueError, match="needs a reason"):
            reveal.reveal_content(session, CIPHER, case=case, actor=actor, reason="  ")
        with pytest.raises(ValueError, match="at most 300"):
            reveal.reveal_content(session, CIPHER, case=case, actor=actor, reason="x" * 301)
        shown = reveal.reveal_content(session, CIPHER, case=case, actor=actor, reason="triage")
    assert (shown.narrative, shown.safe_time) == ("a narrative", "mornings")
    assert [(n.author, n.body) for n in shown.notes] == [("amani", "called the shelter")]
    audited = actions(engine, ref)
    assert ("reveal", "amani") in audited
    assert audited.count(("decrypt", "amani")) == 4  # narrative, answers, safe time, the note


def test_content_is_refused_to_an_operator_not_holding_the_case(engine: Engine) -> None:
    team(engine)
    ref = make_case(engine)
    with work(engine, ref, "amani") as (session, case, actor):
        commands.claim(session, case=case, actor=actor)
    with work(engine, ref, "lerato") as (session, case, actor), pytest.raises(NotPermitted):
        assert not reveal.may_read(session, case, actor)
        reveal.reveal_content(session, CIPHER, case=case, actor=actor, reason="curious")
    with work(engine, ref, "joseph") as (session, case, actor):
        assert reveal.may_read(session, case, actor)
        assert reveal.reveal_content(session, CIPHER, case=case, actor=actor, reason="review")
    audited = actions(engine, ref)
    assert ("refused", "lerato") in audited and ("decrypt", "lerato") not in audited


def test_the_operator_who_acknowledged_reveals_the_consented_number(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    team(engine)
    ref = make_case(engine, address=TEST_PHONES[1], consent_contact="yes")
    with work(engine, ref, "lerato") as (session, case, actor):
        assert not reveal.may_reveal_contact(session, case, actor)
    with work(engine, ref, "amani") as (session, case, actor):
        commands.acknowledge(session, case=case, actor=actor)
        assert reveal.may_reveal_contact(session, case, actor)
        number = reveal.reveal_contact(session, CIPHER, case=case, actor=actor, reason="P1 call")
    assert number == TEST_PHONES[1]
    with work(engine, ref, "lerato") as (session, case, actor), pytest.raises(NotPermitted):
        reveal.reveal_contact(session, CIPHER, case=case, actor=actor, reason="call")
    with work(engine, ref, "joseph") as (session, case, actor):
        assert reveal.reveal_contact(session, CIPHER, case=case, actor=actor, reason="check")
    audited = actions(engine, ref)
    assert [a for a in audited if a[0] == "reveal_contact"] == [
        ("reveal_contact", "amani"),
        ("reveal_contact", "joseph"),
    ]
    assert ("refused", "lerato") in audited
    assert_no_phone_numbers(database_text(engine), caplog.text)


def test_no_number_is_revealed_without_consent_or_after_withdrawal(engine: Engine) -> None:
    team(engine)
    unconsented = make_case(engine, address=TEST_PHONES[2])
    consented = make_case(engine, address=TEST_PHONES[1], consent_contact="yes")
    with work(engine, unconsented, "joseph") as (session, case, actor):
        assert not reveal.may_reveal_contact(session, case, actor)
        with pytest.raises(Conflict, match="no number"):
            reveal.reveal_contact(session, CIPHER, case=case, actor=actor, reason="call")
    with work(engine, consented, "amani") as (session, case, actor):
        commands.claim(session, case=case, actor=actor)
        commands.record_consent(session, case=case, actor=actor, contact=False)
    with work(engine, consented, "amani") as (session, case, actor):
        assert not reveal.may_reveal_contact(session, case, actor)
        with pytest.raises(Conflict):
            reveal.reveal_contact(session, CIPHER, case=case, actor=actor, reason="call")
