"""The case page: what each role sees and may do, reveals on record, forms that change once."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session, col, select

from bot.models import AuditEntry, CaseEvent, CaseNote
from tests.admin.conftest import Web
from tests.api import NARRATIVE, SAFE_TIME, load, new_case, set_status
from tests.conftest import TEST_PHONES, assert_no_phone_numbers, database_text

ONCE = re.compile(r'name="once" value="([^"]+)"')


def audit(web: Web, reference: str) -> list[tuple[str, str, str | None]]:
    """The case's audit entries: (actor, action, reason)."""
    case = load(web.engine, reference)
    with Session(web.engine) as db:
        rows = db.exec(
            select(AuditEntry)
            .where(col(AuditEntry.case_id) == case.id)
            .order_by(col(AuditEntry.id))
        ).all()
        return [(e.actor, e.action, e.reason) for e in rows]


def kinds(web: Web, reference: str) -> list[str]:
    """The case's timeline, by kind."""
    case = load(web.engine, reference)
    with Session(web.engine) as db:
        rows = db.exec(
            select(CaseEvent).where(col(CaseEvent.case_id) == case.id).order_by(col(CaseEvent.id))
        ).all()
        return [e.kind for e in rows]


def test_the_page_shows_the_case_without_what_was_reported(web: Web) -> None:
    ref = new_case(web.engine, address=TEST_PHONES[1], consent_contact=True)
    web.as_("joseph")
    page = web.client.get(f"/cases/{ref}")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    text = page.text
    assert ref in text and "rule for P1" in text and "10 min left to triage" in text
    assert "Contact back" in text and "as the person answered on USSD" in text
    assert NARRATIVE not in text and SAFE_TIME not in text and "000000002" not in text
    assert "Nobody holds this case." in text and "created" in text
    assert web.client.get("/cases/NOPE-00").status_code == 404


@pytest.mark.parametrize(
    ("who", "reads", "claims"),
    [("lerato", False, False), ("amani", True, False), ("joseph", True, True), ("ada", True, True)],
)
def test_what_each_role_is_offered(web: Web, who: str, reads: bool, claims: bool) -> None:
    ref = new_case(web.engine, address=TEST_PHONES[1], consent_contact=True)
    web.as_("amani")
    assert web.post(f"/cases/{ref}/claim").status_code == 303
    web.as_(who)
    text = web.client.get(f"/cases/{ref}").text
    assert (f'action="/cases/{ref}/reveal"' in text) is reads
    assert (f'action="/cases/{ref}/contact"' in text) is reads
    assert (f'action="/cases/{ref}/consent"' in text) is reads
    assert (f'action="/cases/{ref}/claim"' in text) is claims
    assert f'action="/cases/{ref}/notes"' in text  # anyone on the team may add a note
    assert NARRATIVE not in text and "000000002" not in text


def test_acknowledge_and_claim_retried_change_nothing_twice(web: Web) -> None:
    ref = new_case(web.engine)
    web.as_("amani")
    for _ in range(2):
        assert web.post(f"/cases/{ref}/ack").status_code == 303
    for _ in range(2):
        assert web.post(f"/cases/{ref}/claim").status_code == 303
    assert kinds(web, ref).count("ack") == 1 and kinds(web, ref).count("claim") == 1
    web.as_("lerato")  # another operator may not take it over
    refused = web.post(f"/cases/{ref}/claim")
    assert refused.status_code == 409
    assert load(web.engine, ref).assignee_id == web.ids["amani"]


POSTS = [
    ("ack", {}),
    ("claim", {}),
    ("status", {"to": "triaged"}),
    ("notes", {"body": "a note"}),
    ("consent", {"refer": "yes"}),
    ("reveal", {"reason": "triage"}),
    ("contact", {"reason": "call back"}),
]


@pytest.mark.parametrize(("action", "form"), POSTS)
def test_a_post_without_its_csrf_token_is_refused(
    web: Web, action: str, form: dict[str, str]
) -> None:
    ref = new_case(web.engine, address=TEST_PHONES[1], consent_contact=True)
    web.as_("joseph")
    before = (kinds(web, ref), audit(web, ref))
    for data in (form, {**form, "csrf": "forged"}):
        response = web.client.post(f"/cases/{ref}/{action}", data=data, follow_redirects=False)
        assert response.status_code == 403
        assert NARRATIVE not in response.text
    assert (kinds(web, ref), audit(web, ref)) == before


def test_moves_offered_are_the_workflow_s_and_a_forged_one_is_refused(web: Web) -> None:
    ref = new_case(web.engine)
    web.as_("joseph")
    text = web.client.get(f"/cases/{ref}").text
    offered = set(re.findall(r'name="to" value="([a-z_]+)"', text))
    assert offered == {"triaged", "closed"}
    forged = web.post(f"/cases/{ref}/status", {"to": "referred"})
    assert forged.status_code == 409
    assert "This status change is not allowed" in forged.text
    assert "<b>closed</b>, <b>triaged</b>" in forged.text
    assert load(web.engine, ref).status == "new"
    assert web.post(f"/cases/{ref}/status", {"to": "triaged"}).status_code == 303
    assert web.post(f"/cases/{ref}/status", {"to": "triaged"}).status_code == 303  # a retry
    assert kinds(web, ref).count("status") == 1
    closing = web.post(f"/cases/{ref}/status", {"to": "closed", "reason": "bored"})
    assert closing.status_code == 422 and load(web.engine, ref).status == "triaged"
    done = web.post(f"/cases/{ref}/status", {"to": "closed", "reason": "duplicate"})
    assert done.status_code == 303 and load(web.engine, ref).close_reason == "duplicate"


def test_only_a_supervisor_is_offered_reopening(web: Web) -> None:
    ref = new_case(web.engine, status="closed")
    web.as_("amani")
    assert 'name="to"' not in web.client.get(f"/cases/{ref}").text
    assert web.post(f"/cases/{ref}/status", {"to": "active"}).status_code == 403
    assert load(web.engine, ref).status == "closed"
    web.as_("joseph")
    assert 'name="to" value="active"' in web.client.get(f"/cases/{ref}").text
    assert web.post(f"/cases/{ref}/status", {"to": "active"}).status_code == 303
    assert load(web.engine, ref).status == "active"


def test_reveal_the_report_with_a_reason_on_record(web: Web) -> None:
    ref = new_case(web.engine)
    web.as_("joseph")
    assert web.post(f"/cases/{ref}/claim").status_code == 303
    assert web.post(f"/cases/{ref}/notes", {"body": "spoke to the aunt"}).status_code == 303
    assert web.post(f"/cases/{ref}/reveal", {"reason": " "}).status_code == 422
    shown = web.post(f"/cases/{ref}/reveal", {"reason": "triage"})
    assert shown.status_code == 200 and shown.headers["cache-control"] == "no-store"
    assert NARRATIVE in shown.text and SAFE_TIME in shown.text
    assert "spoke to the aunt" in shown.text
    assert ("joseph", "reveal", "triage") in audit(web, ref)
    again = web.client.get(f"/cases/{ref}").text
    assert NARRATIVE not in again and "spoke to the aunt" not in again
    web.as_("lerato")
    refused = web.post(f"/cases/{ref}/reveal", {"reason": "curious"})
    assert refused.status_code == 403 and NARRATIVE not in refused.text
    assert ("lerato", "refused", "read its content") in audit(web, ref)


def test_the_operator_who_acknowledged_reveals_the_number(
    web: Web, caplog: pytest.LogCaptureFixture
) -> None:
    ref = new_case(web.engine, address=TEST_PHONES[1], consent_contact=True)
    web.as_("amani")
    assert web.post(f"/cases/{ref}/ack").status_code == 303
    shown = web.post(f"/cases/{ref}/contact", {"reason": "P1 call back"})
    assert shown.status_code == 200 and f'href="tel:{TEST_PHONES[1]}"' in shown.text
    assert shown.headers["cache-control"] == "no-store"
    assert TEST_PHONES[1] not in web.client.get(f"/cases/{ref}").text
    web.as_("lerato")
    refused = web.post(f"/cases/{ref}/contact", {"reason": "call"})
    assert refused.status_code == 403 and TEST_PHONES[1] not in refused.text
    entries = audit(web, ref)
    assert ("amani", "reveal_contact", "P1 call back") in entries
    assert ("amani", "decrypt", "case.contact_phone: P1 call back") in entries
    assert ("lerato", "refused", "see its contact number") in entries
    assert_no_phone_numbers(database_text(web.engine), caplog.text)


def test_a_note_is_added_once_even_when_the_form_is_sent_twice(web: Web) -> None:
    ref = new_case(web.engine)
    web.as_("joseph")
    page = web.client.get(f"/cases/{ref}").text
    found = ONCE.search(page)
    assert found is not None
    form = {"body": "called back, no answer", "once": found.group(1)}
    first = web.post(f"/cases/{ref}/notes", form)
    assert first.status_code == 303 and first.headers["location"] == f"/cases/{ref}#notes"
    assert "Note added." in web.client.get(f"/cases/{ref}").text
    assert web.post(f"/cases/{ref}/notes", form).status_code == 303
    assert "Already done" in web.client.get(f"/cases/{ref}").text
    with Session(web.engine) as db:
        notes = db.exec(select(CaseNote)).all()
    assert len(notes) == 1 and "called back" not in notes[0].body
    assert web.post(f"/cases/{ref}/notes", {"body": "  "}).status_code == 422


def test_withdrawing_contact_consent_keeps_the_number_for_the_grace(web: Web) -> None:
    ref = new_case(web.engine, address=TEST_PHONES[1], consent_contact=True)
    web.as_("lerato")
    assert web.post(f"/cases/{ref}/consent", {"contact": "no"}).status_code == 403
    web.as_("joseph")
    assert web.post(f"/cases/{ref}/claim").status_code == 303
    assert web.post(f"/cases/{ref}/consent", {"contact": "no"}).status_code == 303
    text = web.client.get(f"/cases/{ref}").text
    assert "the number will be deleted on" in text and "recorded by joseph" in text
    assert f'action="/cases/{ref}/contact"' not in text
    case = load(web.engine, ref)
    assert not case.consent_contact and case.contact_phone is not None
    assert web.post(f"/cases/{ref}/consent", {"contact": "yes"}).status_code == 303
    assert load(web.engine, ref).consent_contact


def test_a_closed_case_offers_nothing_to_an_operator(web: Web) -> None:
    ref = new_case(web.engine)
    set_status(web.engine, ref, "closed")
    web.as_("amani")
    text = web.client.get(f"/cases/{ref}").text
    assert f'action="/cases/{ref}/claim"' not in text
    assert "/referrals/new" not in text


def test_a_telegram_chat_is_not_shown_as_a_number(web: Web) -> None:
    ref = new_case(web.engine, address="telegram:424242", consent_contact=True)
    web.as_("joseph")
    shown = web.post(f"/cases/{ref}/contact", {"reason": "answer"})
    assert shown.status_code == 200 and "answer through the bot" in shown.text
    assert "424242" not in shown.text and "tel:" not in shown.text


def test_the_area_and_the_exploitation_read_as_words(web: Web) -> None:
    ref = new_case(web.engine, exploitation="forced_labour")
    web.as_("joseph")
    page = web.client.get(f"/cases/{ref}").text
    assert "Kikwit (ville), Kwilu, DR Congo" in page and "cd-kwilu-kikwit</dd>" not in page
    assert "forced labour" in page and "forced_labour" not in page
    queue = web.client.get("/queue").text
    assert "Kikwit (ville), Kwilu, DR Congo" in queue
    assert '<option value="cd-kwilu-kikwit"' in queue
    web.as_("amani")
    assert "travail forcé" in web.client.get(f"/cases/{ref}").text
