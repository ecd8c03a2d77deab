"""The case API: who may do what (a table), the queue, and handling a case end to end."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.api.auth import Require
from bot.auth import passwords
from bot.cases.status import Status, allowed
from bot.models import (
    AuditEntry,
    CaseEvent,
    CaseNote,
    Escalation,
    Operator,
    OutboundMessage,
    PartnerCode,
)
from bot.team.oncall import on_call
from tests.api import (
    BY_ROLE,
    FAST_HASHER,
    NARRATIVE,
    PASSWORD,
    SAFE_TIME,
    Clock,
    add_referral,
    add_service,
    headers,
    load,
    make_app,
    new_case,
    seed_team,
)
from tests.cases.helpers import CIPHER, T0
from tests.conftest import TEST_PHONES, assert_no_phone_numbers, database_text

STAFF = frozenset({"operator", "supervisor", "admin"})
SUPERVISORS = frozenset({"supervisor", "admin"})
ADMINS = frozenset({"admin"})
STATUSES = [s.value for s in Status]


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "HASHER", FAST_HASHER)


@dataclass
class Api:
    """The running app, its clock and database, and requests as a member of the team."""

    client: TestClient
    clock: Clock
    engine: Engine
    app: FastAPI
    tokens: dict[str, dict[str, str]] = field(default_factory=dict)

    def auth(self, who: str | None) -> dict[str, str]:
        if who is None:
            return {}
        if who not in self.tokens:
            self.tokens[who] = headers(self.app, self.engine, who)
        return self.tokens[who]

    def get(self, path: str, who: str | None, **params: Any) -> httpx2.Response:
        return self.client.get(path, params=params, headers=self.auth(who))

    def post(self, path: str, who: str | None, body: Any = None) -> httpx2.Response:
        return self.client.post(path, json=body, headers=self.auth(who))

    def request(self, method: str, path: str, who: str | None, **kw: Any) -> httpx2.Response:
        return self.client.request(method, path, headers=self.auth(who), **kw)


@pytest.fixture
def api(database_url: str, tmp_path: Path) -> Iterator[Api]:
    app, clock = make_app(database_url, tmp_path)
    with TestClient(app) as client:
        engine: Engine = app.state.engine
        seed_team(engine)
        yield Api(client, clock, engine, app)


def events(engine: Engine, reference: str, kind: str | None = None) -> list[CaseEvent]:
    case = load(engine, reference)
    with Session(engine) as session:
        query = select(CaseEvent).where(col(CaseEvent.case_id) == case.id)
        if kind is not None:
            query = query.where(col(CaseEvent.kind) == kind)
        return list(session.exec(query.order_by(col(CaseEvent.id))).all())


def audit_entries(engine: Engine, reference: str) -> list[AuditEntry]:
    case = load(engine, reference)
    with Session(engine) as session:
        query = select(AuditEntry).where(col(AuditEntry.case_id) == case.id)
        return list(session.exec(query.order_by(col(AuditEntry.id))).all())


# --- who may do what ------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What one request of the matrix acts on: a fresh case, the team's service, a referral."""

    role: str
    ref: str
    service_id: int
    referral_id: int


@dataclass(frozen=True)
class Endpoint:
    """One route, the roles it lets in, and a request that succeeds for them."""

    method: str
    route: str
    roles: frozenset[str]
    body: Callable[[Target], Any] | None = None
    params: dict[str, str] = field(default_factory=dict)
    created: int = 200
    held: bool = False
    """Only the case's holder (or a supervisor) may: the caller claims the case first."""

    def path(self, target: Target) -> str:
        return (
            self.route.replace("{ref}", target.ref)
            .replace("{username}", "lerato")
            .replace("{referral_id}", str(target.referral_id))
        )


def _new_operator(target: Target) -> dict[str, str]:
    return {
        "username": f"new-{target.role}",
        "name": "New",
        "role": "operator",
        "password": PASSWORD,
    }


def _shift(target: Target) -> dict[str, str]:
    start = T0 + timedelta(days=1)
    return {
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=8)).isoformat(),
        "primary": "lerato",
        "backup": "amani",
        "supervisor": "joseph",
    }


ENDPOINTS = [
    Endpoint("GET", "/api/queue", STAFF),
    Endpoint("POST", "/api/cases/{ref}/ack", STAFF),
    Endpoint("POST", "/api/cases/{ref}/claim", STAFF),
    Endpoint("POST", "/api/cases/{ref}/status", STAFF, body=lambda _: {"to": "triaged"}),
    Endpoint(
        "POST", "/api/cases/{ref}/notes", STAFF, body=lambda _: {"body": "no answer"}, created=201
    ),
    Endpoint("POST", "/api/cases/{ref}/consent", STAFF, body=lambda _: {"police": True}, held=True),
    Endpoint("GET", "/api/cases/{ref}", STAFF, params={"reason": "triage"}, held=True),
    Endpoint("GET", "/api/audit", SUPERVISORS, params={"case": "{ref}"}),
    Endpoint("GET", "/api/services", STAFF, params={"area": "cd-kwilu-kikwit"}),
    Endpoint(
        "POST",
        "/api/cases/{ref}/referrals",
        STAFF,
        body=lambda t: {"service_id": t.service_id},
        created=201,
    ),
    Endpoint(
        "POST", "/api/referrals/{referral_id}/status", STAFF, body=lambda _: {"to": "accepted"}
    ),
    Endpoint("POST", "/api/referrals/{referral_id}/partner-code", STAFF, created=202),
    Endpoint("GET", "/api/operators", SUPERVISORS),
    Endpoint("POST", "/api/operators", ADMINS, body=_new_operator, created=201),
    Endpoint("PATCH", "/api/operators/{username}", ADMINS, body=lambda _: {"active": True}),
    Endpoint("POST", "/api/shifts", SUPERVISORS, body=_shift, created=201),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method} {e.route}")
def test_role_matrix(api: Api, endpoint: Endpoint) -> None:
    service_id = add_service(api.engine)
    for role in (None, "operator", "supervisor", "admin"):
        ref = new_case(api.engine, priority="P2", consent_refer="yes")
        target = Target(role or "anonymous", ref, service_id, add_referral(api.engine, ref))
        params = {k: v.replace("{ref}", ref) for k, v in endpoint.params.items()}
        if endpoint.held and role is not None:
            assert api.post(f"/api/cases/{ref}/claim", BY_ROLE[role]).status_code == 200
        response = api.request(
            endpoint.method,
            endpoint.path(target),
            BY_ROLE[role] if role else None,
            params=params,
            json=endpoint.body(target) if endpoint.body else None,
        )
        if role is None:
            expected = 401
        elif role in endpoint.roles:
            expected = endpoint.created
        else:
            expected = 403
        assert response.status_code == expected, (role, response.text)


def api_routes(app: FastAPI) -> dict[tuple[str, str], APIRoute]:
    """Every (method, path) under /api/ the app answers, with its route."""
    found: dict[tuple[str, str], APIRoute] = {}
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        path = context.path or ""
        if isinstance(route, APIRoute) and path.startswith("/api/"):
            for method in context.methods or ():
                found[(method, path)] = route
    return found


def role_checks(route: APIRoute) -> list[Require]:
    """The Require dependencies anywhere in a route's dependency tree."""
    checks: list[Require] = []
    stack = list(route.dependant.dependencies)
    while stack:
        dependant = stack.pop()
        if isinstance(dependant.call, Require):
            checks.append(dependant.call)
        stack.extend(dependant.dependencies)
    return checks


def test_every_api_route_declares_its_roles(tmp_path: Path) -> None:
    app, _ = make_app(f"sqlite:///{tmp_path / 'routes.db'}", tmp_path)
    routes = api_routes(app)
    assert ("POST", "/api/login") in routes
    assert not role_checks(routes.pop(("POST", "/api/login")))
    assert len(routes) >= len(ENDPOINTS)
    for (method, path), route in routes.items():
        checks = role_checks(route)
        assert checks, f"{method} {path} has no role dependency (deny by default)"
    table = {(e.method, e.route): e.roles for e in ENDPOINTS}
    for key, route in routes.items():
        if key in table:
            assert {role for check in role_checks(route) for role in check.roles} == table[key]
    missing = set(table) - set(routes)
    assert not missing, f"the matrix names routes the app lacks: {missing}"


# --- the queue ------------------------------------------------------------------------------

QUEUE_FIELDS = {
    "reference",
    "kind",
    "priority",
    "rule",
    "due_at",
    "seconds_left",
    "target_met",
    "channel",
    "lang",
    "area",
    "minor",
    "consent_contact",
    "consent_refer",
    "consent_police",
    "assignee",
    "status",
    "acknowledged",
    "created_at",
}


def test_queue_order_and_fields(api: Api) -> None:
    p3 = new_case(api.engine, priority="P3")
    p1_late = new_case(api.engine, priority="P1", at=T0 + timedelta(minutes=1))
    p2 = new_case(api.engine, priority="P2", consent_refer="yes", minor="yes")
    p1 = new_case(api.engine, priority="P1")
    closed = new_case(api.engine, priority="P1", status="closed")
    assert api.post(f"/api/cases/{p2}/claim", "lerato").status_code == 200
    api.clock.now = T0 + timedelta(minutes=20)
    response = api.get("/api/queue", "amani")
    assert response.status_code == 200
    queue = response.json()
    assert [item["reference"] for item in queue] == [p1, p1_late, p2, p3]
    assert closed not in response.text
    for item in queue:
        assert set(item) == QUEUE_FIELDS
    first, second, third, fourth = queue
    assert (first["priority"], first["rule"], first["seconds_left"]) == ("P1", "rule for P1", -600)
    assert (first["acknowledged"], first["target_met"], first["assignee"]) == (False, False, None)
    assert second["seconds_left"] == -540
    assert (first["channel"], first["lang"], first["area"], first["status"]) == (
        "ussd",
        "fr",
        "cd-kwilu-kikwit",
        "new",
    )
    assert third["seconds_left"] == 24 * 3600 - 1200
    assert (third["assignee"], third["acknowledged"], third["target_met"]) == ("lerato", True, True)
    assert (third["minor"], third["consent_refer"], third["consent_contact"]) == (True, True, False)
    assert fourth["seconds_left"] == 72 * 3600 - 1200
    assert NARRATIVE not in response.text and SAFE_TIME not in response.text
    assert "ph_test" not in response.text, "the contact pseudonym stays out of the queue"


# --- acknowledging and claiming -------------------------------------------------------------


def test_ack_stops_the_escalation(api: Api) -> None:
    ref = new_case(api.engine, priority="P1")
    case = load(api.engine, ref)
    with Session(api.engine) as session:
        step = session.exec(select(Escalation).where(col(Escalation.case_id) == case.id)).one()
        assert step.done is False
    api.clock.advance(minutes=3)
    response = api.post(f"/api/cases/{ref}/ack", "amani")
    assert response.status_code == 200
    assert response.json()["first"] is True
    with Session(api.engine) as session:
        step = session.exec(select(Escalation).where(col(Escalation.case_id) == case.id)).one()
        assert step.done is True and step.acknowledged_at == T0 + timedelta(minutes=3)
    assert load(api.engine, ref).acknowledged_at == T0 + timedelta(minutes=3)
    [ack] = events(api.engine, ref, "ack")
    assert (ack.actor, ack.at) == ("amani", T0 + timedelta(minutes=3))
    assert api.post(f"/api/cases/{ref}/ack", "lerato").json()["first"] is False
    assert [e.action for e in audit_entries(api.engine, ref)] == ["ack", "ack"]
    assert api.post("/api/cases/AAAA-33/ack", "amani").status_code == 404


def test_claim(api: Api) -> None:
    ref = new_case(api.engine, priority="P1")
    response = api.post(f"/api/cases/{ref}/claim", "amani")
    assert response.status_code == 200 and response.json()["assignee"] == "amani"
    case = load(api.engine, ref)
    assert case.acknowledged_at == T0, "claiming acknowledges"
    with Session(api.engine) as session:
        amani = session.exec(select(Operator).where(col(Operator.username) == "amani")).one()
    assert case.assignee_id == amani.id
    again = api.post(f"/api/cases/{ref}/claim", "amani")
    assert again.status_code == 200
    taken = api.post(f"/api/cases/{ref}/claim", "lerato")
    assert taken.status_code == 409 and "claimed by amani" in taken.json()["detail"]
    assert api.post(f"/api/cases/{ref}/claim", "joseph").json()["assignee"] == "joseph"
    claims = events(api.engine, ref, "claim")
    assert [(e.actor, e.detail) for e in claims] == [("amani", None), ("joseph", "from amani")]
    assert [e.actor for e in events(api.engine, ref, "ack")] == ["amani"]
    closed = new_case(api.engine, status="closed")
    assert api.post(f"/api/cases/{closed}/claim", "amani").status_code == 409
    assert api.post("/api/cases/nonsense/claim", "amani").status_code == 404


# --- status ---------------------------------------------------------------------------------


def test_every_status_transition(api: Api) -> None:
    for source in STATUSES:
        for target in STATUSES:
            ref = new_case(api.engine, priority="P3", status=source)
            body = {"to": target, "reason": "resolved" if target == "closed" else None}
            response = api.post(f"/api/cases/{ref}/status", "joseph", body)
            if target in allowed(source):
                assert response.status_code == 200, (source, target, response.text)
                assert response.json()["status"] == target
                assert response.json()["allowed"] == allowed(target)
                [change] = events(api.engine, ref, "status")
                assert (change.actor, change.at) == ("joseph", T0)
                assert (change.from_status, change.to_status) == (source, target)
                assert load(api.engine, ref).status == target
            else:
                assert response.status_code == 409, (source, target, response.text)
                assert response.json()["allowed"] == allowed(source)
                assert f"cannot become {target}" in response.json()["detail"]
                assert not events(api.engine, ref, "status")
                assert load(api.engine, ref).status == source


def test_close_needs_a_reason(api: Api) -> None:
    ref = new_case(api.engine, priority="P2", status="active")
    for body in ({"to": "closed"}, {"to": "closed", "reason": "because"}):
        response = api.post(f"/api/cases/{ref}/status", "amani", body)
        assert response.status_code == 422
        assert "closing needs a reason" in response.json()["detail"]
    api.clock.advance(hours=1)
    done = api.post(f"/api/cases/{ref}/status", "amani", {"to": "closed", "reason": "duplicate"})
    assert done.status_code == 200 and done.json()["close_reason"] == "duplicate"
    case = load(api.engine, ref)
    assert (case.status, case.close_reason, case.closed_at) == (
        "closed",
        "duplicate",
        T0 + timedelta(hours=1),
    )
    [change] = events(api.engine, ref, "status")
    assert change.detail == "duplicate"
    [entry] = [e for e in audit_entries(api.engine, ref) if e.action == "status"]
    assert (entry.actor, entry.reason) == ("amani", "active → closed: duplicate")


def test_reopening_needs_a_supervisor(api: Api) -> None:
    ref = new_case(api.engine, priority="P2", status="closed")
    refused = api.post(f"/api/cases/{ref}/status", "amani", {"to": "active"})
    assert refused.status_code == 403 and "supervisor" in refused.json()["detail"]
    assert load(api.engine, ref).status == "closed"
    reopened = api.post(f"/api/cases/{ref}/status", "joseph", {"to": "active", "reason": "new"})
    assert reopened.status_code == 200
    case = load(api.engine, ref)
    assert (case.status, case.close_reason, case.closed_at) == ("active", None, None)


def test_bad_bodies_are_422_and_unknown_cases_404(api: Api) -> None:
    ref = new_case(api.engine)
    bad = [
        ("status", {"to": "bogus"}),
        ("status", {}),
        ("status", {"to": "triaged", "extra": 1}),
        ("status", {"to": "triaged", "reason": "x" * 301}),
        ("notes", {}),
        ("notes", {"body": ""}),
        ("notes", {"body": "x" * 10_001}),
        ("consent", {}),
        ("consent", {"refer": "perhaps"}),
    ]
    for what, body in bad:
        response = api.post(f"/api/cases/{ref}/{what}", "amani", body)
        assert response.status_code == 422, (what, body, response.text)
    assert api.post(f"/api/cases/{ref}/notes", "amani", {"body": "   "}).status_code == 422
    for what, body in [("status", {"to": "triaged"}), ("notes", {"body": "x"}), ("ack", None)]:
        assert api.post(f"/api/cases/AAAA-33/{what}", "amani", body).status_code == 404
    assert api.get("/api/cases/AAAA-33", "amani", reason="triage").status_code == 404
    assert api.get("/api/audit", "joseph", case="AAAA-33").status_code == 404
    assert load(api.engine, ref).status == "new"


# --- notes, consent, reading ----------------------------------------------------------------


def test_notes_are_encrypted_at_rest(api: Api) -> None:
    ref = new_case(api.engine)
    text = "spoke with the aunt; the girl is at the market in Kikwit"
    response = api.post(f"/api/cases/{ref}/notes", "amani", {"body": text})
    assert response.status_code == 201
    assert text not in database_text(api.engine)
    assert "the aunt" not in database_text(api.engine)
    with Session(api.engine) as session:
        note = session.exec(select(CaseNote)).one()
        assert CIPHER.decrypt(note.body, "case_note.body") == text
    [event] = events(api.engine, ref, "note")
    assert (event.actor, event.detail) == ("amani", f"note {response.json()['id']}")
    shown = api.get(f"/api/cases/{ref}", "joseph", reason="follow up").json()
    assert [(n["author"], n["body"]) for n in shown["notes"]] == [("amani", text)]


def test_view_is_audited_and_needs_a_reason(api: Api) -> None:
    ref = new_case(api.engine, priority="P2")
    api.post(f"/api/cases/{ref}/notes", "amani", {"body": "first call"})
    before = len(audit_entries(api.engine, ref))
    assert api.get(f"/api/cases/{ref}", "joseph").status_code == 422
    assert api.get(f"/api/cases/{ref}", "joseph", reason="").status_code == 422
    assert api.get(f"/api/cases/{ref}", "joseph", reason="   ").status_code == 422
    assert len(audit_entries(api.engine, ref)) == before, "a refused view reads nothing"
    response = api.get(f"/api/cases/{ref}", "joseph", reason="triage call")
    assert response.status_code == 200
    case = response.json()
    assert case["narrative"] == NARRATIVE and case["safe_time"] == SAFE_TIME
    assert case["answers"]["U1"] == "yes" and "description" not in case["answers"]
    assert [n["body"] for n in case["notes"]] == ["first call"]
    assert [e["kind"] for e in case["timeline"]] == ["created", "note"]
    assert case["allowed"] == ["closed", "triaged"] and case["unreadable"] == []
    assert case["contact_phone"] is None and case["contact_phone_hidden"] is False
    entries = audit_entries(api.engine, ref)[before:]
    assert [(e.actor, e.action) for e in entries] == [("joseph", "view_case")] + [
        ("joseph", "decrypt")
    ] * 4
    assert entries[0].reason == "triage call"
    assert sorted(e.reason or "" for e in entries[1:]) == [
        "case.answers: triage call",
        "case.narrative: triage call",
        "case.safe_time: triage call",
        "case_note.body: triage call",
    ]
    trail = api.get("/api/audit", "joseph", case=ref.lower().replace("-", " ")).json()
    assert {"view_case", "decrypt", "note"} <= {entry["action"] for entry in trail}
    assert all(entry["case"] == ref for entry in trail)
    assert any(
        e.action == "view_audit" and e.actor == "joseph" for e in audit_entries(api.engine, ref)
    )


def test_consent_is_recorded_with_who_and_when(api: Api) -> None:
    ref = new_case(api.engine, priority="P2")
    api.clock.advance(hours=2)
    response = api.post(f"/api/cases/{ref}/consent", "joseph", {"refer": True, "police": False})
    assert response.status_code == 200
    assert response.json() == {
        "reference": ref,
        "consent_contact": False,
        "consent_refer": True,
        "consent_police": False,
        "recorded": "refer yes, police no",
    }
    case = load(api.engine, ref)
    assert (case.consent_refer, case.consent_police, case.consent_contact) == (True, False, False)
    [event] = events(api.engine, ref, "consent")
    assert (event.actor, event.at, event.detail) == (
        "joseph",
        T0 + timedelta(hours=2),
        "refer yes, police no",
    )
    assert [e.action for e in audit_entries(api.engine, ref)] == ["consent"]


def test_a_stranger_operator_may_not_read_or_change_consent(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ref = new_case(api.engine, address=TEST_PHONES[1], consent_contact=True)
    assert api.post(f"/api/cases/{ref}/claim", "amani").status_code == 200
    read = api.get(f"/api/cases/{ref}", "lerato", reason="curious")
    assert read.status_code == 403
    assert read.json() == {
        "detail": f"only the operator holding case {ref} or a supervisor may read its content; "
        "claim the case or ask a supervisor"
    }
    withdraw = api.post(f"/api/cases/{ref}/consent", "lerato", {"contact": False})
    assert withdraw.status_code == 403 and "change its consent" in withdraw.json()["detail"]
    case = load(api.engine, ref)
    assert case.consent_contact is True and case.contact_phone_delete_after is None
    trail = [(e.actor, e.action, e.reason) for e in audit_entries(api.engine, ref)]
    assert [t for t in trail if t[0] == "lerato"] == [
        ("lerato", "refused", "read its content"),
        ("lerato", "refused", "change its consent"),
    ]
    assert api.get(f"/api/cases/{ref}", "amani", reason="call back").status_code == 200
    assert api.get(f"/api/cases/{ref}", "joseph", reason="review").status_code == 200
    assert_no_phone_numbers(database_text(api.engine), caplog.text)


def test_phone_only_for_the_holder_and_supervisors_with_consent(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    consented = new_case(api.engine, address=TEST_PHONES[1], consent_contact=True)
    refused = new_case(api.engine, address=TEST_PHONES[2], consent_contact=False)
    assert load(api.engine, refused).contact_phone is None
    assert api.post(f"/api/cases/{consented}/ack", "amani").status_code == 200
    # Who acknowledged it (on call, nobody holding it) may call the person back.
    holder = api.get(f"/api/cases/{consented}", "amani", reason="call back").json()
    assert (holder["contact_phone"], holder["contact_phone_hidden"]) == (TEST_PHONES[1], False)
    assert api.get(f"/api/cases/{consented}", "lerato", reason="call").status_code == 403
    for who in ("joseph", "ada"):
        shown = api.get(f"/api/cases/{consented}", who, reason="call back").json()
        assert shown["contact_phone"] == TEST_PHONES[1]
    none = api.get(f"/api/cases/{refused}", "joseph", reason="call back").json()
    assert (none["contact_phone"], none["contact_phone_hidden"]) == (None, False)
    decrypted = [
        e.actor
        for e in audit_entries(api.engine, consented)
        if e.reason == "case.contact_phone: call back"
    ]
    assert decrypted == ["amani", "joseph", "ada"]
    withdrawn = api.post(f"/api/cases/{consented}/consent", "amani", {"contact": False})
    assert withdrawn.json()["recorded"] == "contact no, number deleted after 2026-11-29 08:00 UTC"
    assert load(api.engine, consented).contact_phone is not None  # the grace (7 days)
    after = api.get(f"/api/cases/{consented}", "joseph", reason="call back").json()
    assert (after["contact_phone"], after["contact_phone_hidden"]) == (None, True)
    # The holder may not take it back; a supervisor may, and the number is kept.
    undo = api.post(f"/api/cases/{consented}/consent", "amani", {"contact": True})
    assert undo.status_code == 403 and "only a supervisor" in undo.json()["detail"]
    restored = api.post(f"/api/cases/{consented}/consent", "joseph", {"contact": True})
    assert restored.json()["recorded"] == "contact yes, number kept (withdrawal undone)"
    again = api.get(f"/api/cases/{consented}", "joseph", reason="call back").json()
    assert again["contact_phone"] == TEST_PHONES[1]
    assert_no_phone_numbers(database_text(api.engine), caplog.text)


# --- the team -------------------------------------------------------------------------------


def test_admin_adds_operators(api: Api) -> None:
    body = {
        "username": "Neo",
        "name": "Neo Mokoena",
        "role": "supervisor",
        "password": "a new long password",
        "lang": "st",
        "phone": TEST_PHONES[2],
    }
    response = api.post("/api/operators", "ada", body)
    assert response.status_code == 201
    created = response.json()
    assert (created["username"], created["role"], created["has_phone"]) == (
        "neo",
        "supervisor",
        True,
    )
    assert "phone" not in created and "password_hash" not in created
    assert_no_phone_numbers(database_text(api.engine))
    with Session(api.engine) as session:
        neo = session.exec(select(Operator).where(col(Operator.username) == "neo")).one()
        assert CIPHER.decrypt(neo.phone or "", "operator.phone") == TEST_PHONES[2]
        assert (neo.password_hash or "").startswith("$argon2id$")
    signed_in = api.client.post(
        "/api/login", json={"username": "neo", "password": "a new long password"}
    )
    assert signed_in.status_code == 200 and signed_in.json()["role"] == "supervisor"
    assert api.post("/api/operators", "ada", body).status_code == 409
    for change in (
        {"password": "short"},
        {"role": "root"},
        {"username": "no spaces please"},
        {"phone": "12"},
        {"lang": "de"},
    ):
        response = api.post("/api/operators", "ada", {**body, "username": "other", **change})
        assert response.status_code == 422, change
    listed = api.get("/api/operators", "joseph").json()
    assert [o["username"] for o in listed] == ["ada", "amani", "joseph", "lerato", "neo"]


def test_the_last_admin_stays(api: Api) -> None:
    response = api.request("PATCH", "/api/operators/ada", "ada", json={"active": False})
    assert response.status_code == 409
    response = api.request("PATCH", "/api/operators/ada", "ada", json={"role": "operator"})
    assert response.status_code == 409
    assert api.request("PATCH", "/api/operators/ghost", "ada", json={}).status_code == 404


def test_supervisor_adds_shifts(api: Api) -> None:
    start = T0 + timedelta(days=2)
    body = {
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=12)).isoformat(),
        "primary": "lerato",
        "backup": "amani",
        "supervisor": "joseph",
    }
    response = api.post("/api/shifts", "joseph", body)
    assert response.status_code == 201
    assert response.json()["primary"] == "lerato"
    with Session(api.engine) as session:
        team = on_call(session, start + timedelta(hours=1))
        assert team.primary is not None and team.primary.username == "lerato"
        assert team.supervisor is not None and team.supervisor.username == "joseph"
    for change in (
        {"primary": "ghost"},
        {"backup": "lerato"},
        {"supervisor": "amani"},
        {"ends_at": start.isoformat()},
        {"ends_at": (start + timedelta(days=8)).isoformat()},
        {"starts_at": "2026-11-24T08:00:00"},  # no time zone
    ):
        assert api.post("/api/shifts", "joseph", {**body, **change}).status_code == 422, change


def test_a_case_handled_end_to_end_leaves_no_number_behind(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ref = new_case(api.engine, priority="P1", address=TEST_PHONES[0], consent_contact=True)
    api.clock.advance(minutes=2)
    assert api.post(f"/api/cases/{ref}/claim", "amani").status_code == 200
    for target in ("triaged", "active"):
        assert api.post(f"/api/cases/{ref}/status", "amani", {"to": target}).status_code == 200
    assert api.post(f"/api/cases/{ref}/notes", "amani", {"body": "called at 9"}).status_code == 201
    assert (
        api.get(f"/api/cases/{ref}", "joseph", reason="check").json()["contact_phone"]
        == (TEST_PHONES[0])
    )
    closing = {"to": "closed", "reason": "resolved"}
    assert api.post(f"/api/cases/{ref}/status", "amani", closing).status_code == 200
    assert [e.kind for e in events(api.engine, ref)] == [
        "created",
        "alert",
        "ack",
        "claim",
        "status",
        "status",
        "note",
        "status",
    ]
    assert ref not in {item["reference"] for item in api.get("/api/queue", "amani").json()}
    assert_no_phone_numbers(database_text(api.engine), caplog.text)


# --- services and referrals -----------------------------------------------------------------


def test_services_are_found_by_filters(api: Api) -> None:
    shelter = add_service(api.engine)
    add_service(api.engine, name="Clinique Bondeko", service_type="medical", status="paused")
    add_service(api.engine, name="Maseru shelter", areas="ls-maseru", languages="st,en")
    found = api.get("/api/services", "amani", area="cd-kwilu-kikwit", lang="fr").json()
    assert [(s["id"], s["areas"], s["languages"]) for s in found] == [
        (shelter, ["cd-kwilu-kikwit"], ["fr", "ln"])
    ]
    assert [s["name"] for s in api.get("/api/services", "amani", lang="st").json()] == [
        "Maseru shelter"
    ]
    assert api.get("/api/services", "amani", service_type="spa").status_code == 422
    assert api.get("/api/services", "amani", age=-1).status_code == 422


def test_referral_needs_consent_or_a_supervisor_override(api: Api) -> None:
    service = add_service(api.engine)
    ref = new_case(api.engine, priority="P2", status="active")
    refused = api.post(f"/api/cases/{ref}/referrals", "amani", {"service_id": service})
    assert refused.status_code == 409 and "no consent to refer" in refused.json()["detail"]
    no_reason = api.post(f"/api/cases/{ref}/referrals", "joseph", {"service_id": service})
    assert no_reason.status_code == 409 and "needs a reason" in no_reason.json()["detail"]
    override = {"service_id": service, "override_reason": "child in immediate danger"}
    made = api.post(f"/api/cases/{ref}/referrals", "joseph", override)
    assert made.status_code == 201
    assert (made.json()["status"], made.json()["override"]) == ("in_progress", True)
    assert load(api.engine, ref).status == "referred"
    assert "referral_override" in [e.action for e in audit_entries(api.engine, ref)]
    unknown = api.post(f"/api/cases/{ref}/referrals", "joseph", {"service_id": 999_999})
    assert unknown.status_code == 422


def test_referral_lifecycle(api: Api) -> None:
    service = add_service(api.engine)
    ref = new_case(api.engine, priority="P2", status="active", consent_refer="yes")
    made = api.post(f"/api/cases/{ref}/referrals", "amani", {"service_id": service})
    assert made.status_code == 201 and made.json()["override"] is False
    referral = made.json()["id"]
    twice = api.post(f"/api/cases/{ref}/referrals", "amani", {"service_id": service})
    assert twice.status_code == 409
    path = f"/api/referrals/{referral}/status"
    assert api.post(path, "amani", {"to": "done"}).status_code == 409
    assert api.post(path, "amani", {"to": "accepted"}).json()["status"] == "accepted"
    incomplete = api.post(path, "amani", {"to": "done"})
    assert incomplete.status_code == 409 and "outcome" in incomplete.json()["detail"]
    done = api.post(path, "amani", {"to": "done", "outcome": "successful"})
    assert (done.json()["status"], done.json()["outcome"]) == ("done", "successful")
    assert api.post(path, "amani", {"to": "sideways"}).status_code == 422
    assert api.post("/api/referrals/999999/status", "amani", {"to": "accepted"}).status_code == 404
    shown = api.get(f"/api/cases/{ref}", "joseph", reason="follow up").json()
    assert [(r["service"], r["status"], r["outcome"]) for r in shown["referrals"]] == [
        ("Maison Espoir", "done", "successful")
    ]


# --- one error shape --------------------------------------------------------------------------

MARKER = "echo-me-not-5150"
"""A value sent in bad requests: no error answer may repeat it."""


@dataclass(frozen=True)
class BadCall:
    """A request that must fail, as whom, and the status it gets."""

    method: str
    path: str
    who: str | None
    status: int
    json: Any = None
    params: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None
    repeat: int = 1
    extra: frozenset[str] = frozenset()
    """Fields allowed beside ``detail`` (``errors`` for validation, ``allowed`` for a move)."""


ERRORS = frozenset({"errors"})
BAD_CALLS = [
    BadCall("POST", "/api/login", None, 422, json={"username": MARKER}, extra=ERRORS),
    BadCall("POST", "/api/login", None, 401, json={"username": "amani", "password": MARKER}),
    BadCall(
        "POST", "/api/login", None, 429, json={"username": "lerato", "password": MARKER}, repeat=6
    ),
    BadCall("GET", "/api/queue", None, 401),
    BadCall("GET", "/api/operators", "amani", 403),
    BadCall("GET", "/api/cases/{ref}", "lerato", 403, params={"reason": MARKER}),
    BadCall("POST", "/api/cases/{ref}/consent", "lerato", 403, json={"contact": False}),
    BadCall("GET", "/api/cases/{ref}", "amani", 422, extra=ERRORS),
    BadCall("POST", "/api/cases/ZZZZ-22/ack", "amani", 404),
    BadCall("GET", "/api/nowhere", "amani", 404),
    BadCall("DELETE", "/api/queue", "amani", 405),
    BadCall("POST", "/api/referrals/99999/status", "amani", 404, json={"to": "accepted"}),
    BadCall("PATCH", "/api/operators/nobody", "ada", 404, json={"active": True}),
    BadCall(
        "POST",
        "/api/cases/{ref}/status",
        "amani",
        409,
        json={"to": "referred"},
        extra=frozenset({"allowed"}),
    ),
    BadCall("POST", "/api/cases/{ref}/claim", "lerato", 409),
    BadCall("POST", "/api/cases/{ref}/status", "amani", 422, json={"to": MARKER}, extra=ERRORS),
    BadCall("POST", "/api/cases/{ref}/status", "amani", 422, json={"to": "closed"}),
    BadCall("POST", "/api/cases/{ref}/notes", "amani", 422, json={"body": ""}, extra=ERRORS),
    BadCall("POST", "/api/cases/{ref}/consent", "amani", 422, json={}, extra=ERRORS),
    BadCall("POST", "/api/cases/{ref}/referrals", "amani", 422, json={"service_id": 99999}),
    BadCall("POST", "/api/me/password", "amani", 422, json={"current": PASSWORD, "new": "short"}),
    BadCall("POST", "/api/shifts", "joseph", 422, json={"starts_at": MARKER}, extra=ERRORS),
    BadCall("POST", "/api/operators", "ada", 422, json={"username": MARKER}, extra=ERRORS),
    BadCall(
        "POST",
        "/api/cases/{ref}/notes",
        "amani",
        413,
        content=b'{"body": "' + MARKER.encode() * 10_000 + b'"}',
    ),
]


@pytest.mark.parametrize("call", BAD_CALLS, ids=lambda c: f"{c.status} {c.method} {c.path}")
def test_every_error_has_the_documented_shape(api: Api, call: BadCall) -> None:
    """``{"detail": "<sentence>"}`` (plus ``errors`` or ``allowed`` where documented); never a
    value that was sent."""
    ref = new_case(api.engine, priority="P2")
    assert api.post(f"/api/cases/{ref}/claim", "amani").status_code == 200
    path = call.path.replace("{ref}", ref)
    extra: dict[str, Any] = {"json": call.json} if call.content is None else {}
    if call.content is not None:
        extra = {"content": call.content, "headers": {"content-type": "application/json"}}
    for _ in range(call.repeat):
        response = api.client.request(
            call.method,
            path,
            params=call.params,
            headers={**api.auth(call.who), **extra.pop("headers", {})},
            **extra,
        )
    assert response.status_code == call.status, response.text
    body = response.json()
    assert isinstance(body, dict) and isinstance(body.get("detail"), str) and body["detail"]
    assert set(body) - {"detail"} <= call.extra, body
    for problem in body.get("errors", []):
        assert set(problem) == {"loc", "msg", "type"}
    if "errors" in call.extra:
        assert body["errors"], "a validation error lists its problems"
    assert MARKER not in response.text


def test_a_referral_confirmed_by_sms_sends_the_service_a_code(api: Api) -> None:
    service = add_service(api.engine)
    silent = add_service(api.engine, name="No phone", phones="")
    ref = new_case(api.engine, priority="P2", status="active", consent_refer="yes")
    body = {"service_id": silent, "confirm_by_sms": True}
    refused = api.post(f"/api/cases/{ref}/referrals", "amani", body)
    assert refused.status_code == 409 and "no phone number" in refused.json()["detail"]
    made = api.post(f"/api/cases/{ref}/referrals", "amani", {**body, "service_id": service})
    assert made.status_code == 201
    again = api.post(f"/api/referrals/{made.json()['id']}/partner-code", "amani")
    assert again.status_code == 202 and again.json() == {"status": "sent"}
    with Session(api.engine) as session:
        codes = session.exec(select(PartnerCode).order_by(col(PartnerCode.id))).all()
        messages = session.exec(
            select(OutboundMessage).where(col(OutboundMessage.purpose) == "partner")
        ).all()
    assert [c.used_at is None for c in codes] == [False, True], "a new code replaces the first"
    assert len(messages) == 2 and {m.channel for m in messages} == {"sms"}
    assert "partner_sms" in [e.action for e in audit_entries(api.engine, ref)]
