"""The audit trail page (supervisors and admins): filtered, paginated, never content or numbers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from bot.governance import audit
from bot.models import AuditEntry, Case
from tests.admin.conftest import Web
from tests.api import NARRATIVE, new_case
from tests.cases.helpers import T0
from tests.conftest import TEST_PHONES, assert_no_phone_numbers


def record(web: Web, *entries: tuple[str, str, str | None, str | None, int]) -> None:
    """(actor, action, case reference, reason, minutes after T0) entries."""
    with Session(web.engine) as db:
        for actor, action, ref, reason, minutes in entries:
            case_id = None
            if ref is not None:
                case_id = db.exec(select(Case.id).where(col(Case.reference) == ref)).one()
            audit.record(
                db,
                actor=actor,
                action=action,
                case_id=case_id,
                reason=reason,
                at=T0 - timedelta(days=1) + timedelta(minutes=minutes),
            )
        db.commit()


def rows(text: str) -> int:
    return text.count('<th scope="row"')


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_supervisors_and_admins_read_the_trail_and_the_reading_is_recorded(
    web: Web, role: str
) -> None:
    ref = new_case(web.engine, priority="P1")
    record(web, ("amani", "ack", ref, None, 1))
    web.as_role(role)
    page = web.client.get("/audit")
    assert page.status_code == 200
    assert "amani" in page.text and ref in page.text and "ack" in page.text
    with Session(web.engine) as db:
        viewed = db.exec(select(AuditEntry).where(col(AuditEntry.action) == "view_audit")).all()
    assert [e.actor for e in viewed] == ["joseph" if role == "supervisor" else "ada"]


def test_an_operator_may_not_read_the_trail(web: Web) -> None:
    web.as_role("operator")
    assert web.client.get("/audit", follow_redirects=False).status_code == 403
    assert 'href="/audit"' not in web.client.get("/queue").text


def test_filters_by_case_operator_action_and_period(web: Web) -> None:
    first = new_case(web.engine, priority="P1")
    second = new_case(web.engine, priority="P2")
    record(
        web,
        ("amani", "ack", first, None, 1),
        ("lerato", "claim", second, None, 2),
        ("amani", "note", second, None, 60 * 24 * 2),
    )
    web.as_role("supervisor")

    def count(query: str) -> int:
        return rows(web.client.get("/audit?" + query).text)

    assert count(f"case={first.lower()}") == 1
    assert count("operator=amani") == 2
    assert count("operator=amani&action=note") == 1
    day = (T0 - timedelta(days=1)).date().isoformat()
    assert count(f"since={day}&until={day}&operator=amani") == 1
    assert count("since=nonsense&operator=lerato") == 1
    unknown = web.client.get("/audit?case=ZZZZ-99")
    assert unknown.status_code == 404 and "No case has the reference ZZZZ-99" in unknown.text


def test_the_trail_is_paginated_newest_first(web: Web) -> None:
    record(web, *[("amani", "ack", None, f"entry {n}", n) for n in range(60)])
    web.as_role("admin")
    first = web.client.get("/audit?operator=amani").text
    assert rows(first) == audit.PER_PAGE
    assert "entry 59" in first and "entry 9<" not in first
    assert "page 1 of 2" in first and 'href="/audit?operator=amani&amp;page=2"' in first
    second = web.client.get("/audit?operator=amani&page=2").text
    assert rows(second) == 10 and "entry 0<" in second
    assert rows(web.client.get("/audit?operator=amani&page=99").text) == 10


def test_entries_never_show_content_or_numbers(web: Web) -> None:
    ref = new_case(web.engine, priority="P1", consent_contact=True, address=TEST_PHONES[0])
    record(web, ("amani", "decrypt", ref, f"case.contact_phone: called {TEST_PHONES[0]}", 1))
    web.as_role("supervisor")
    page = web.client.get(f"/audit?case={ref}").text
    assert "case.contact_phone: called •••" in page
    assert NARRATIVE not in page
    assert_no_phone_numbers(page)
