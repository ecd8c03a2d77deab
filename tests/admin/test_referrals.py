"""Referrals from the case page: search by area and above, the consent gate, the override."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session, col, select

from bot.models import AuditEntry, PartnerCode, Referral
from tests.admin.conftest import Web
from tests.api import add_service, load, new_case


def referrals(web: Web, reference: str) -> list[Referral]:
    """The case's referrals."""
    case = load(web.engine, reference)
    with Session(web.engine) as db:
        return list(db.exec(select(Referral).where(col(Referral.case_id) == case.id)).all())


def test_search_finds_the_case_s_area_and_the_places_above(web: Web) -> None:
    add_service(web.engine, name="Kikwit shelter")
    add_service(web.engine, name="Kwilu clinic", service_type="medical", areas="cd-kwilu")
    add_service(web.engine, name="National line", service_type="legal", areas="cd")
    add_service(web.engine, name="Maseru shelter", areas="ls-maseru", languages="st,fr")
    add_service(web.engine, name="Lingala only", areas="cd", languages="ln")
    ref = new_case(web.engine, consent_refer="yes")
    web.as_("joseph")
    page = web.client.get(f"/cases/{ref}/referrals/new")
    assert page.status_code == 200
    found = re.findall(r"<b>([^<]+)</b> <small>", page.text)
    assert found == ["Kikwit shelter", "Kwilu clinic", "National line"]
    shelters = web.client.get(f"/cases/{ref}/referrals/new?service_type=shelter").text
    assert re.findall(r"<b>([^<]+)</b> <small>", shelters) == ["Kikwit shelter"]
    anywhere = web.client.get(f"/cases/{ref}/referrals/new?area=&lang=").text
    assert "Maseru shelter" in anywhere and "Lingala only" in anywhere


def test_refer_with_consent_and_follow_the_referral(web: Web) -> None:
    service = add_service(web.engine)
    ref = new_case(web.engine, consent_refer="yes", status="active")
    web.as_("amani")
    made = web.post(f"/cases/{ref}/referrals", {"service_id": str(service)})
    assert made.status_code == 303 and made.headers["location"] == f"/cases/{ref}#referrals"
    [referral] = referrals(web, ref)
    assert load(web.engine, ref).status == "referred"
    web.as_("joseph")  # reads English
    text = web.client.get(f"/cases/{ref}").text
    path = f"/cases/{ref}/referrals/{referral.id}"
    assert set(re.findall(rf'action="{path}".*?name="to" value="([a-z_]+)"', text, re.S)) == {
        "accepted",
        "rejected",
        "revoked",
    }
    assert web.post(path, {"to": "accepted"}).status_code == 303
    assert web.post(path, {"to": "accepted"}).status_code == 303  # a retry: nothing twice
    forged = web.post(path, {"to": "revoked"})
    assert forged.status_code == 409 and "<b>done</b>" in forged.text
    assert web.post(path, {"to": "done"}).status_code == 422  # an outcome is needed
    assert web.post(path, {"to": "done", "outcome": "successful"}).status_code == 303
    [done] = referrals(web, ref)
    assert (done.status, done.outcome) == ("done", "successful")
    other = new_case(web.engine, consent_refer="yes")
    assert web.post(f"/cases/{other}/referrals/{referral.id}", {"to": "done"}).status_code == 404
    assert web.post(f"/cases/{ref}/referrals/{2**40}", {"to": "done"}).status_code == 422
    assert web.post(f"/cases/{ref}/referrals", {"service_id": str(2**40)}).status_code == 422


def test_without_consent_an_operator_is_told_why_and_a_supervisor_overrides(web: Web) -> None:
    service = add_service(web.engine)
    ref = new_case(web.engine, status="active")
    web.as_("amani")
    page = web.client.get(f"/cases/{ref}/referrals/new").text
    assert 'name="service_id"' not in page
    forged = web.post(f"/cases/{ref}/referrals", {"service_id": str(service)})
    assert forged.status_code == 409 and "no consent to refer" in forged.text
    assert referrals(web, ref) == []
    web.as_("joseph")
    page = web.client.get(f"/cases/{ref}/referrals/new").text
    assert 'name="override_reason"' in page
    no_reason = web.post(f"/cases/{ref}/referrals", {"service_id": str(service)})
    assert no_reason.status_code == 409 and "an override needs a reason" in no_reason.text
    made = web.post(
        f"/cases/{ref}/referrals", {"service_id": str(service), "override_reason": "child at risk"}
    )
    assert made.status_code == 303
    [referral] = referrals(web, ref)
    assert referral.override_by == web.ids["joseph"]
    with Session(web.engine) as db:
        entries = db.exec(select(AuditEntry).where(col(AuditEntry.action) == "referral_override"))
        assert [(e.actor, e.reason) for e in entries] == [("joseph", "child at risk")]
    assert "override by joseph" in web.client.get(f"/cases/{ref}").text


@pytest.mark.parametrize("path", ["referrals", "referrals/1"])
def test_referral_posts_need_their_csrf_token(web: Web, path: str) -> None:
    service = add_service(web.engine)
    ref = new_case(web.engine, consent_refer="yes", status="active")
    web.as_("joseph")
    data = {"service_id": str(service), "to": "accepted"}
    response = web.client.post(f"/cases/{ref}/{path}", data=data, follow_redirects=False)
    assert response.status_code == 403 and referrals(web, ref) == []


def test_a_referral_can_ask_the_service_to_confirm_by_sms(web: Web) -> None:
    service = add_service(web.engine)
    ref = new_case(web.engine, consent_refer="yes", status="active")
    web.as_("amani")
    page = web.client.get(f"/cases/{ref}/referrals/new").text
    assert 'name="confirm_by_sms"' in page
    made = web.post(f"/cases/{ref}/referrals", {"service_id": str(service), "confirm_by_sms": "1"})
    assert made.status_code == 303
    [referral] = referrals(web, ref)
    with Session(web.engine) as db:
        assert len(db.exec(select(PartnerCode)).all()) == 1
    case_page = web.client.get(f"/cases/{ref}").text
    action = f"/cases/{ref}/referrals/{referral.id}/partner-code"
    assert f'action="{action}"' in case_page and "code envoyé par SMS" in case_page
    assert web.post(action, {}).status_code == 303
    with Session(web.engine) as db:
        assert len(db.exec(select(PartnerCode)).all()) == 2
    silent = add_service(web.engine, name="No phone", phones="")
    other = new_case(web.engine, consent_refer="yes", status="active")
    refused = web.post(
        f"/cases/{other}/referrals", {"service_id": str(silent), "confirm_by_sms": "1"}
    )
    assert refused.status_code == 409 and "no phone number" in refused.text
    assert referrals(web, other) == [], "nothing made"
