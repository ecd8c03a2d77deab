"""Signing in to the team web and out, as a person does: cookies, redirects, refusals."""

from __future__ import annotations

import pytest
from sqlmodel import Session, col, select

from admin.routes.signin import local_path
from bot.auth.throttle import MAX_FAILURES
from bot.models import Operator, WebSession
from tests.admin.conftest import Web


def test_home_sends_a_stranger_to_sign_in_and_a_member_to_the_queue(web: Web) -> None:
    assert web.client.get("/", follow_redirects=False).headers["location"] == "/signin"
    web.as_role("operator")
    assert web.client.get("/", follow_redirects=False).headers["location"] == "/queue"


def test_signing_in_sets_a_session_cookie_and_goes_to_the_page_asked_for(web: Web) -> None:
    web.set_cookie("a-session-id-planted-by-someone-else")
    asked = web.client.get("/queue?who=mine", follow_redirects=False)
    assert asked.headers["location"] == "/signin?next=%2Fqueue%3Fwho%3Dmine"
    response = web.sign_in("Ada ", next="/queue?who=mine")
    assert response.status_code == 303
    assert response.headers["location"] == "/queue?who=mine"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    session_id = response.cookies.get(web.cookie)
    assert session_id and session_id != "a-session-id-planted-by-someone-else"
    with Session(web.engine) as db:
        stored = db.exec(select(WebSession)).all()
    assert len(stored) == 1 and session_id not in stored[0].id_hash  # only a hash is kept
    page = web.client.get("/queue")
    assert page.status_code == 200 and "Ada" in page.text


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", ""],
)
def test_after_sign_in_only_a_local_page_is_a_destination(target: str) -> None:
    assert local_path(target) == "/queue"
    assert local_path("/queue?area=cd-kinshasa") == "/queue?area=cd-kinshasa"


def test_a_wrong_password_or_unknown_name_is_refused_alike(web: Web) -> None:
    wrong = web.sign_in("ada", "not the password at all")
    unknown = web.sign_in("nobody-here", "not the password at all")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "Wrong username or password." in response.text
        assert web.cookie not in response.cookies
    assert "nobody-here" in unknown.text  # the name typed is kept in the form, escaped


def test_too_many_failures_are_throttled_with_a_neutral_page(web: Web) -> None:
    for _ in range(MAX_FAILURES):
        assert web.sign_in("ada", "wrong password, again").status_code == 401
    refused = web.sign_in("ada")  # even the right password, from this address
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert "Too many failed sign-ins" in refused.text


def test_a_sign_in_without_its_form_token_is_refused(web: Web) -> None:
    response = web.client.post(
        "/signin", data={"username": "ada", "password": "x"}, follow_redirects=False
    )
    assert response.status_code == 403 and web.cookie not in response.cookies


def test_signing_out_ends_the_session(web: Web) -> None:
    assert web.sign_in("ada").status_code == 303
    session_id = web.session_id()
    response = web.post("/signout")
    assert response.status_code == 303 and response.headers["location"] == "/signin"
    assert "You are signed out." in web.client.get("/signin").text
    web.set_cookie(session_id)  # a copy of the old cookie opens nothing
    assert web.client.get("/queue", follow_redirects=False).status_code == 303


def test_the_language_chosen_on_the_sign_in_page_is_kept(web: Web) -> None:
    page = web.client.get("/signin?lang=fr")
    assert "Se connecter" in page.text and 'lang="fr"' in page.text
    assert web.sign_in("ada", lang="fr").status_code == 303
    assert "Dossiers ouverts" in web.client.get("/queue").text
    with Session(web.engine) as db:
        ada = db.exec(select(Operator).where(col(Operator.username) == "ada")).one()
        assert ada.lang == "fr"


def test_my_language_from_my_account(web: Web) -> None:
    web.as_role("supervisor")
    assert "Open cases" in web.client.get("/queue").text
    assert web.post("/account/language", {"lang": "st"}).status_code == 303
    assert "Linyeoe tse bulehileng" in web.client.get("/queue").text
    assert web.post("/account/language", {"lang": "xx"}).status_code == 422


def test_an_idle_session_ends_and_says_so(web: Web) -> None:
    web.as_role("supervisor")
    web.clock.advance(minutes=29)
    assert web.client.get("/queue").status_code == 200
    web.clock.advance(minutes=29)  # activity at 29 min kept it alive
    assert web.client.get("/queue").status_code == 200
    web.clock.advance(minutes=31)
    response = web.client.get("/queue", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/signin")
    assert "Your session has ended" in web.client.get(response.headers["location"]).text


def test_a_session_ends_at_its_absolute_limit_however_active(web: Web) -> None:
    web.as_role("supervisor")
    for _ in range(12 * 3):
        web.clock.advance(minutes=20)
        status = web.client.get("/queue", follow_redirects=False).status_code
    assert status == 303


def test_a_password_change_or_deactivation_ends_web_sessions(web: Web) -> None:
    from bot.auth.account import set_own_password
    from bot.team.operators import deactivate

    web.as_("joseph")
    set_own_password(web.engine, web.ids["joseph"], "new hash")
    assert web.client.get("/queue", follow_redirects=False).status_code == 303
    web.as_("lerato")
    with Session(web.engine) as db:
        lerato = db.get(Operator, web.ids["lerato"])
        assert lerato is not None
        deactivate(db, lerato, actor="ada")
        db.commit()
    assert web.client.get("/queue", follow_redirects=False).status_code == 303
