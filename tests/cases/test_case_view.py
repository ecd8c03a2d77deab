"""Reading a case: every decryption audited, unreadable fields named."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from bot.cases import case_view, commands
from bot.core.privacy import Cipher, new_key
from tests.cases.casework import actions, make_case, work
from tests.cases.helpers import CIPHER, team
from tests.conftest import TEST_PHONES


def test_view_case_audits_every_decryption(engine: Engine) -> None:
    team(engine)
    ref = make_case(engine, address=TEST_PHONES[1], consent_contact="yes", people="3")
    with work(engine, ref, "amani") as (session, case, actor):
        commands.add_note(session, CIPHER, case=case, actor=actor, body="note one")
        with pytest.raises(ValueError, match="needs a reason"):
            case_view.view_case(session, CIPHER, case=case, actor=actor, reason=" ")
        view = case_view.view_case(session, CIPHER, case=case, actor=actor, reason="triage")
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
        view = case_view.view_case(session, CIPHER, case=case, actor=actor, reason="call back")
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
        view = case_view.view_case(session, other, case=case, actor=actor, reason="check")
        assert view.narrative is None and view.answers is None
        assert view.unreadable == ["case.narrative", "case.answers", "case.safe_time"]
