"""The case page's model: nothing decrypted, who recorded each consent, what each may do."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.cases import commands
from bot.cases.case_page import case_page
from bot.models import Service
from tests.cases.casework import actions, make_case, work
from tests.cases.helpers import CIPHER, T0, team
from tests.conftest import TEST_PHONES


def test_the_page_decrypts_nothing_and_lists_who_did_what(engine: Engine) -> None:
    team(engine)
    ref = make_case(engine, address=TEST_PHONES[1], consent_contact="yes")
    with work(engine, ref, "amani") as (session, case, actor):
        commands.claim(session, case=case, actor=actor, now=T0 + timedelta(minutes=2))
        commands.add_note(session, CIPHER, case=case, actor=actor, body="secret words")
        commands.record_consent(session, case=case, actor=actor, refer=True, now=T0)
    before = actions(engine, ref)
    with work(engine, ref, "amani") as (session, case, actor):
        page = case_page(session, case=case, actor=actor, now=T0 + timedelta(minutes=4))
    assert actions(engine, ref) == before  # reading the page is not a reveal
    assert "secret words" not in repr(page) and "a narrative" not in repr(page)
    assert (page.reference, page.priority, page.rule, page.assignee) == (ref, "P1", "tip", "amani")
    assert page.seconds_left == 6 * 60 and page.target_met
    assert [(n.author) for n in page.notes] == ["amani"]
    consents = {c.name: (c.given, c.by, c.channel) for c in page.consents}
    assert consents == {
        "contact": (True, None, "sms"),
        "refer": (True, "amani", "sms"),
        "police": (False, None, "sms"),
    }
    kinds = [e.kind for e in page.timeline]
    assert kinds[0] == "created" and {"ack", "claim", "note", "consent"} <= set(kinds)
    may = page.may
    assert (may.read_content, may.reveal_contact, may.change_consent) == (True, True, True)
    assert (may.acknowledge, may.claim, may.refer, may.override) == (False, False, True, False)
    assert may.moves == ["closed", "triaged"] and page.contact_on_file


def test_what_each_role_may_do(engine: Engine) -> None:
    team(engine)
    ref = make_case(engine, address=TEST_PHONES[1], consent_contact="yes")
    with work(engine, ref, "amani") as (session, case, actor):
        commands.claim(session, case=case, actor=actor)
    with work(engine, ref, "lerato") as (session, case, actor):
        other = case_page(session, case=case, actor=actor).may
    with work(engine, ref, "joseph") as (session, case, actor):
        boss = case_page(session, case=case, actor=actor).may
    # Another operator: sees the summary, may note and move it, but not read it, take it
    # over, or refer it without consent.
    assert (other.read_content, other.reveal_contact, other.change_consent) == (False,) * 3
    assert (other.claim, other.refer, other.override, other.note) == (False, False, True, True)
    assert (boss.read_content, boss.reveal_contact, boss.claim, boss.refer) == (True,) * 4


def test_a_closed_case_offers_reopening_to_supervisors_only(engine: Engine) -> None:
    team(engine)
    ref = make_case(engine)
    with work(engine, ref, "joseph") as (session, case, actor):
        commands.change_status(session, case=case, actor=actor, to="closed", reason="duplicate")
    with work(engine, ref, "amani") as (session, case, actor):
        page = case_page(session, case=case, actor=actor)
        assert page.may.moves == [] and not page.may.claim and not page.may.refer
    with work(engine, ref, "joseph") as (session, case, actor):
        assert case_page(session, case=case, actor=actor).may.moves == ["active"]


def test_withdrawn_contact_shows_when_the_number_goes_and_who_may_restore_it(
    engine: Engine,
) -> None:
    team(engine)
    ref = make_case(engine, address=TEST_PHONES[1], consent_contact="yes")
    with work(engine, ref, "amani") as (session, case, actor):
        commands.claim(session, case=case, actor=actor)
        commands.record_consent(session, case=case, actor=actor, contact=False, now=T0)
    with work(engine, ref, "amani") as (session, case, actor):
        page = case_page(session, case=case, actor=actor)
        assert page.contact_delete_after is not None and not page.contact_on_file
        assert not page.may.restore_contact and not page.may.reveal_contact
        assert [c.by for c in page.consents if c.name == "contact"] == ["amani"]
    with work(engine, ref, "joseph") as (session, case, actor):
        assert case_page(session, case=case, actor=actor).may.restore_contact


def test_referrals_carry_their_next_moves(engine: Engine) -> None:
    from bot.cases.referrals import create_referral, update_referral

    team(engine)
    ref = make_case(engine, consent_refer="yes")
    with Session(engine) as session:
        service = Service(name="Maison", organisation="Caritas", service_type="shelter", areas="x")
        session.add(service)
        session.commit()
        service_id = service.id
    with work(engine, ref, "joseph") as (session, case, actor):
        shelter = session.get(Service, service_id)
        assert shelter is not None
        first = create_referral(
            session, case=case, service=shelter, actor=actor, override_reason="at risk"
        )
        update_referral(session, first, actor=actor, to="accepted")
    with work(engine, ref, "amani") as (session, case, actor):
        [line] = case_page(session, case=case, actor=actor).referrals
    assert (line.service, line.status, line.moves) == ("Maison", "accepted", ["done"])
