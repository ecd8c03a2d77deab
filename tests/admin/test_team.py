"""The team page (admins): add a member, change a role, deactivate, reset a password."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session, col, select

from bot.auth.passwords import verify_password
from bot.models import AuditEntry, Operator
from tests.admin.conftest import Web
from tests.api import PASSWORD
from tests.conftest import TEST_PHONES, assert_no_phone_numbers, database_text

NEW_PASSWORD = "a long new password"


def member(web: Web, username: str) -> Operator:
    with Session(web.engine) as db:
        return db.exec(select(Operator).where(col(Operator.username) == username)).one()


def audited(web: Web) -> list[str | None]:
    with Session(web.engine) as db:
        entries = db.exec(
            select(AuditEntry)
            .where(col(AuditEntry.action).in_(["add_operator", "change_operator"]))
            .order_by(col(AuditEntry.id))
        ).all()
        return [e.reason for e in entries]


@pytest.mark.parametrize("role", ["operator", "supervisor"])
def test_only_admins_see_or_change_the_team(web: Web, role: str) -> None:
    web.as_role(role)
    assert web.client.get("/team", follow_redirects=False).status_code == 403
    assert web.post("/team/lerato/deactivate").status_code == 403
    assert web.post("/team/lerato/password").status_code == 403
    assert web.post("/team", {"username": "neo", "name": "Neo", "role": "admin"}).status_code == 403
    assert member(web, "lerato").active
    assert 'href="/team"' not in web.client.get("/queue").text


def test_an_admin_sees_the_team_without_phone_numbers(web: Web) -> None:
    web.as_role("admin")
    page = web.client.get("/team")
    assert page.status_code == 200
    for name in ("Amani", "Lerato", "Joseph", "Ada"):
        assert name in page.text
    assert "kept (encrypted)" in page.text
    assert_no_phone_numbers(page.text)


def test_an_admin_adds_a_member_with_a_temporary_password_shown_once(web: Web) -> None:
    web.as_role("admin")
    added = web.post(
        "/team",
        {
            "username": "Neo",
            "name": "Neo M.",
            "role": "supervisor",
            "lang": "st",
            "phone": TEST_PHONES[2],
        },
    )
    assert added.status_code == 200
    shown = re.search(r'<code class="secret">([^<]+)</code>', added.text)
    assert shown is not None
    neo = member(web, "neo")
    assert (neo.role, neo.lang) == ("supervisor", "st")
    assert verify_password(neo.password_hash, shown.group(1))
    assert shown.group(1) not in web.client.get("/team").text
    assert_no_phone_numbers(database_text(web.engine), added.text)
    typed = web.post(
        "/team",
        {"username": "thabo", "name": "Thabo", "role": "operator", "password": NEW_PASSWORD},
    )
    assert typed.status_code == 303
    assert verify_password(member(web, "thabo").password_hash, NEW_PASSWORD)
    taken = web.post("/team", {"username": "AMANI", "name": "A", "role": "operator"})
    assert taken.status_code == 409 and "This username is taken." in taken.text
    bad = web.post(
        "/team", {"username": "x y", "name": "X", "role": "operator", "phone": TEST_PHONES[0]}
    )
    assert bad.status_code == 422 and "Check: Username." in bad.text
    assert_no_phone_numbers(bad.text)
    assert audited(web) == ["neo as supervisor", "thabo as operator"]


def test_an_admin_changes_a_role_deactivates_and_reactivates(web: Web) -> None:
    web.as_role("admin")
    assert web.post("/team/lerato/role", {"role": "supervisor"}).status_code == 303
    assert member(web, "lerato").role == "supervisor"
    assert web.post("/team/lerato/role", {"role": "root"}).status_code == 422
    assert web.post("/team/lerato/deactivate").status_code == 303
    assert web.post("/team/lerato/deactivate").status_code == 303  # a retry: nothing more
    assert not member(web, "lerato").active
    assert web.post("/team/lerato/reactivate").status_code == 303
    assert member(web, "lerato").active
    assert web.post("/team/ghost/deactivate").status_code == 404
    assert audited(web) == ["lerato: role supervisor", "lerato: deactivated", "lerato: active"]


def test_the_last_active_admin_is_kept(web: Web) -> None:
    web.as_role("admin")
    for path, data in (("/team/ada/deactivate", {}), ("/team/ada/role", {"role": "operator"})):
        refused = web.post(path, data)
        assert refused.status_code == 303
        page = web.client.get("/team").text
        assert "The team needs one active admin" in page
    ada = member(web, "ada")
    assert (ada.role, ada.active) == ("admin", True)
    assert web.post("/team/joseph/role", {"role": "admin"}).status_code == 303
    assert web.post("/team/ada/role", {"role": "supervisor"}).status_code == 303
    assert member(web, "ada").role == "supervisor"


def test_deactivation_and_a_password_reset_end_the_members_sessions(web: Web) -> None:
    web.as_("amani")
    assert web.client.get("/queue").status_code == 200
    amani_cookie = web.session_id()
    web.as_role("admin")
    reset = web.post("/team/amani/password", {"password": NEW_PASSWORD})
    assert reset.status_code == 303
    assert verify_password(member(web, "amani").password_hash, NEW_PASSWORD)
    admin_cookie = web.session_id()
    web.set_cookie(amani_cookie)
    ended = web.client.get("/queue", follow_redirects=False)
    assert ended.status_code == 303 and ended.headers["location"].startswith("/signin")
    assert web.sign_in("amani", NEW_PASSWORD).status_code == 303
    amani_cookie = web.session_id()
    web.set_cookie(admin_cookie)
    assert web.post("/team/amani/deactivate").status_code == 303
    web.set_cookie(amani_cookie)
    assert web.client.get("/queue", follow_redirects=False).status_code == 303
    assert web.sign_in("amani", NEW_PASSWORD).status_code != 303


def test_a_temporary_password_reset_and_a_weak_typed_one(web: Web) -> None:
    web.as_role("admin")
    reset = web.post("/team/lerato/password")
    assert reset.status_code == 200
    shown = re.search(r'<code class="secret">([^<]+)</code>', reset.text)
    assert shown is not None
    assert verify_password(member(web, "lerato").password_hash, shown.group(1))
    assert not verify_password(member(web, "lerato").password_hash, PASSWORD)
    weak = web.post("/team/lerato/password", {"password": "short"})
    assert weak.status_code == 422 and "Check: Password." in weak.text
    assert verify_password(member(web, "lerato").password_hash, shown.group(1))


@pytest.mark.parametrize(
    "path", ["/team", "/team/lerato/role", "/team/lerato/deactivate", "/team/lerato/password"]
)
def test_a_change_without_its_csrf_token_changes_nothing(web: Web, path: str) -> None:
    web.as_role("admin")
    before = member(web, "lerato").model_dump()
    data = {
        "csrf": "forged",
        "role": "admin",
        "password": NEW_PASSWORD,
        "username": "neo",
        "name": "Neo",
    }
    assert web.client.post(path, data=data).status_code == 403
    assert member(web, "lerato").model_dump() == before
    with Session(web.engine) as db:
        assert db.exec(select(Operator).where(col(Operator.username) == "neo")).first() is None
