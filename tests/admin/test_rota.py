"""The rota page: a week of shifts, who is on call now, gaps flagged; supervisors change it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import Session, col, delete, select

from bot.models import AuditEntry, Shift
from tests.admin.conftest import Web
from tests.cases.helpers import T0

MONDAY = (T0 - timedelta(days=T0.weekday())).replace(hour=0)
"""The Monday of the test clock's week (the seeded shift covers T0 for 12 hours)."""


def shifts(web: Web) -> list[Shift]:
    with Session(web.engine) as db:
        return list(db.exec(select(Shift).order_by(col(Shift.starts_at))).all())


def audited(web: Web, action: str) -> list[str]:
    with Session(web.engine) as db:
        entries = db.exec(select(AuditEntry).where(col(AuditEntry.action) == action)).all()
        return [e.actor for e in entries]


def shift_form(start: str, end: str, **people: str) -> dict[str, str]:
    return {"starts_at": start, "ends_at": end, "primary": "lerato", **people}


@pytest.mark.parametrize("role", ["operator", "supervisor", "admin"])
def test_everyone_sees_the_week_and_who_is_on_call_now(web: Web, role: str) -> None:
    web.clock.advance(hours=1)
    web.as_role(role)
    page = web.client.get("/rota")
    assert page.status_code == 200
    text = page.text
    on_call = text[text.index("now-title") : text.index("week-nav")]
    assert "Amani" in on_call  # the seeded shift's primary
    assert T0.date().isoformat() in text
    may_change = role != "operator"
    assert ('href="/rota/new' in text) is may_change
    assert ("/remove" in text) is may_change


def test_gaps_without_a_primary_are_flagged_in_words(web: Web) -> None:
    web.as_role("supervisor")
    text = web.client.get("/rota").text
    assert re.search(r"\d+ gaps without a primary this week", text)
    assert text.count('class="gap"') >= 7  # every day has hours nobody covers
    assert "No primary" in text
    with Session(web.engine) as db:
        db.exec(delete(Shift))
        db.commit()
    empty = web.client.get("/rota").text
    assert "Nobody is on call now" in empty


def test_previous_and_next_week(web: Web) -> None:
    web.as_role("supervisor")
    text = web.client.get("/rota").text
    before = (MONDAY - timedelta(days=7)).date().isoformat()
    after = (MONDAY + timedelta(days=7)).date().isoformat()
    assert f'href="/rota?week={before}"' in text and f'href="/rota?week={after}"' in text
    later = web.client.get(f"/rota?week={after}").text
    assert f"Week of {after}" in later and "Amani" not in later.split("week-nav")[1]
    assert web.client.get("/rota?week=not-a-day").status_code == 200


def test_a_supervisor_adds_changes_and_removes_a_shift(web: Web) -> None:
    web.as_role("supervisor")
    day = (T0 + timedelta(days=1)).date().isoformat()
    assert web.client.get(f"/rota/new?day={day}").status_code == 200
    added = web.post("/rota", shift_form(f"{day}T08:00", f"{day}T20:00", backup="amani"))
    assert added.status_code == 303
    assert "Shift added." in web.client.get(added.headers["location"]).text
    new = shifts(web)[-1]
    assert new.id is not None
    assert web.client.get(f"/rota/{new.id}").status_code == 200
    changed = web.post(f"/rota/{new.id}", shift_form(f"{day}T09:00", f"{day}T21:00"))
    assert changed.status_code == 303
    assert shifts(web)[-1].backup_id is None
    assert web.post(f"/rota/{new.id}/remove").status_code == 303
    assert web.post(f"/rota/{new.id}/remove").status_code == 303  # a retry changes nothing
    assert len(shifts(web)) == 1
    assert audited(web, "add_shift") == ["joseph"]
    assert audited(web, "change_shift") == ["joseph"]
    assert audited(web, "remove_shift") == ["joseph"]


def test_a_broken_rule_shows_the_form_again(web: Web) -> None:
    web.as_role("admin")
    day = T0.date().isoformat()
    refused = web.post("/rota", shift_form(f"{day}T20:00", f"{day}T08:00"))
    assert refused.status_code == 422
    assert "Nothing was saved. Check: Ends." in refused.text
    assert f'value="{day}T20:00"' in refused.text
    assert web.post("/rota", shift_form("soon", "later")).status_code == 422
    same = web.post("/rota", shift_form(f"{day}T08:00", f"{day}T09:00", backup="lerato"))
    assert same.status_code == 422 and "Check: Backup." in same.text
    assert len(shifts(web)) == 1


def test_an_operator_may_not_change_the_rota(web: Web) -> None:
    web.as_role("operator")
    day = T0.date().isoformat()
    assert web.client.get("/rota/new", follow_redirects=False).status_code == 403
    assert web.post("/rota", shift_form(f"{day}T08:00", f"{day}T09:00")).status_code == 403
    first = shifts(web)[0]
    assert web.post(f"/rota/{first.id}/remove").status_code == 403
    assert len(shifts(web)) == 1


@pytest.mark.parametrize("path", ["/rota", "/rota/1", "/rota/1/remove"])
def test_a_change_without_its_csrf_token_changes_nothing(web: Web, path: str) -> None:
    web.as_role("supervisor")
    day = T0.date().isoformat()
    response = web.client.post(
        path, data={"csrf": "x", **shift_form(f"{day}T08:00", f"{day}T09:00")}
    )
    assert response.status_code == 403
    assert [s.id for s in shifts(web)] == [1]
    assert shifts(web)[0].primary_id == web.ids["amani"]


def test_the_week_stacks_at_390_px(web: Web) -> None:
    css = web.client.get("/static/web.css").text
    assert ".week { list-style: none" in css
    assert "@media (max-width: 1000px) { .week { grid-template-columns: 1fr; } }" in css
