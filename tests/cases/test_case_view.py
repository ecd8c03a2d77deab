"""Reading a case: every decryption audited, unreadable fields named."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from bot.cases import case_view, commands
from bot.cases.access import NotPermitted
from bot.core.privacy import Cipher, new_key
from tests.cases.casework import actions, make_case, work
from tests.cases.helpers import CIPHER, team
from tests.conftest import TEST_PHONES


def test_view_case_audits_every_decryption(engine: Engine) -> None:
    team(engine)
    ref = make_case(engine, address=TEST_PHONES[1], consent_contact="yes", people="3")
    with work(engine, ref, "amani") as (session, case, actor):
        commands.claim(session, case=case, actor=actor)
        commands.add_note(session, CIPHER, case=case, actor=actor, body="note one")
        with pytest.raises(ValueError, match="needs a reason"):
            case_view.view_case(session, CIPHER, case=case, actor=actor, reason=" ")
        view = case_view.view_case(session, CIPHER, case=case, actor=actor, reason="triage")
        # The holder may call back the number the person consented to (issue 13).
        assert (view.narrative, view.safe_time, view.contact_phone) == (
            "a narrative",
            "mornings",
            TEST_PHONES[1],
        )
        assert not view.contact_phone_hidden and view.answers == {
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
        + [("decrypt", "amani")] * 5
        + [("view_case", "joseph")]
        + [("decrypt", "joseph")] * 5
    )


def test_unreadable_fields_are_named_not_fatal(engine: Engine) -> None:
    team(engine)
    ref = make_case(engine)
    other = Cipher.from_list([new_key()])
    with work(engine, ref, "amani") as (session, case, actor):
        commands.acknowledge(session, case=case, actor=actor)
        view = case_view.view_case(session, other, case=case, actor=actor, reason="check")
        assert view.narrative is None and view.answers is None
        assert view.unreadable == ["case.narrative", "case.answers", "case.safe_time"]


def test_only_the_holder_or_a_supervisor_reads_a_case(engine: Engine) -> None:
    team(engine)
    ref = make_case(engine)
    # Nobody holds it yet: even an operator on the team may not read it.
    refusal = pytest.raises(NotPermitted, match=r"holding case .* or a supervisor")
    with work(engine, ref, "lerato") as (session, case, actor), refusal:
        case_view.view_case(session, CIPHER, case=case, actor=actor, reason="curious")
    # Acknowledged by amani while nobody holds it: amani may, lerato still may not.
    with work(engine, ref, "amani") as (session, case, actor):
        commands.acknowledge(session, case=case, actor=actor)
        assert case_view.view_case(session, CIPHER, case=case, actor=actor, reason="triage")
    with work(engine, ref, "lerato") as (session, case, actor), pytest.raises(NotPermitted):
        case_view.view_case(session, CIPHER, case=case, actor=actor, reason="curious")
    # Claimed by lerato: now she holds it, and amani no longer does.
    with work(engine, ref, "lerato") as (session, case, actor):
        commands.claim(session, case=case, actor=actor)
        view = case_view.view_case(session, CIPHER, case=case, actor=actor, reason="work")
        assert view.narrative == "a narrative"
    with work(engine, ref, "amani") as (session, case, actor), pytest.raises(NotPermitted):
        case_view.view_case(session, CIPHER, case=case, actor=actor, reason="again")
    with work(engine, ref, "joseph") as (session, case, actor):
        view = case_view.view_case(session, CIPHER, case=case, actor=actor, reason="review")
        assert view.narrative == "a narrative"
    audited = actions(engine, ref)
    assert [a for a in audited if a[0] == "refused"] == [
        ("refused", "lerato"),
        ("refused", "lerato"),
        ("refused", "amani"),
    ]
    # A refused reader decrypted nothing.
    decrypted_by = {actor for action, actor in audited if action == "decrypt"}
    assert decrypted_by == {"amani", "lerato", "joseph"}
    assert [a for a in audited if a[0] == "view_case"] == [
        ("view_case", "amani"),
        ("view_case", "lerato"),
        ("view_case", "joseph"),
    ]
