"""Referrals: consent or a supervisor's recorded override, and the referral state machine."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.cases.referrals import (
    IllegalTransition,
    ReferralConflict,
    ReferralNotFound,
    ReferralRefused,
    ReferralStatus,
    allowed,
    create_referral,
    find_referral,
    move,
    update_referral,
)
from bot.cases.status import IllegalTransition as CaseIllegalTransition
from bot.core.clock import utcnow
from bot.models import AuditEntry, Case, CaseEvent, Operator, Referral, Service

NARRATIVE = "They took our papers at the farm"
STATUSES = [s.value for s in ReferralStatus]
LEGAL = {
    ("in_progress", "accepted"),
    ("in_progress", "rejected"),
    ("in_progress", "revoked"),
    ("accepted", "done"),
}


@dataclass
class World:
    """A test database with a team and two services."""

    engine: Engine
    operator: int
    supervisor: int
    admin: int
    shelter: int
    paused: int


def _add(session: Session, row: Operator | Service) -> int:
    session.add(row)
    session.flush()
    assert row.id is not None
    return row.id


@pytest.fixture
def world(engine: Engine) -> World:
    """Operators of every role, an active shelter and a paused clinic."""
    with Session(engine) as session:
        ids = [
            _add(session, Operator(username=name, display_name=name.title(), role=role))
            for name, role in (("olga", "operator"), ("sam", "supervisor"), ("ada", "admin"))
        ]
        shelter = _add(
            session,
            Service(
                name="Maison Espoir",
                organisation="Caritas Kikwit",
                service_type="shelter",
                areas="Kikwit",
                phones="+243 000 000 100",
            ),
        )
        paused = _add(
            session,
            Service(
                name="Clinique Bondeko",
                organisation="Bondeko",
                service_type="medical",
                areas="Kikwit",
                status="paused",
            ),
        )
        session.commit()
    operator, supervisor, admin = ids
    return World(engine, operator, supervisor, admin, shelter, paused)


_REFERENCES = itertools.count(1)


def new_case(engine: Engine, *, status: str = "active", consent: bool = True) -> int:
    """A case in ``status``, with or without consent to refer; returns its id."""
    number = next(_REFERENCES)
    now = utcnow()
    case = Case(
        reference=f"TEST-{number:02d}",
        event_key=f"test:{number}",
        kind="tip",
        channel="ussd",
        lang="fr",
        priority="P2",
        due_at=now + timedelta(hours=24),
        status=status,
        consent_refer=consent,
        narrative=NARRATIVE,
    )
    with Session(engine) as session:
        session.add(case)
        session.commit()
        assert case.id is not None
        return case.id


def refer(
    world: World,
    case_id: int,
    *,
    actor: int | None = None,
    service: int | None = None,
    override_reason: str | None = None,
) -> int:
    """Refer the case (committed); returns the referral id."""
    with Session(world.engine) as session:
        case = session.get(Case, case_id)
        who = session.get(Operator, actor or world.operator)
        target = session.get(Service, service or world.shelter)
        assert case and who and target
        referral = create_referral(
            session, case=case, service=target, actor=who, override_reason=override_reason
        )
        session.commit()
        assert referral.id is not None
        return referral.id


def update(
    world: World,
    referral_id: int,
    to: str,
    *,
    reason: str | None = None,
    outcome: str | None = None,
    actor: int | None = None,
) -> Referral:
    """Move a referral (committed) and return it."""
    with Session(world.engine) as session:
        referral = session.get(Referral, referral_id)
        who = session.get(Operator, actor or world.operator)
        assert referral and who
        update_referral(session, referral, actor=who, to=to, reason=reason, outcome=outcome)
        session.commit()
        session.refresh(referral)
        return referral


def rows(engine: Engine, case_id: int) -> tuple[list[Referral], list[CaseEvent], list[AuditEntry]]:
    """The case's referrals, timeline and audit entries, oldest first."""
    with Session(engine) as session:
        return (
            list(session.exec(select(Referral).where(col(Referral.case_id) == case_id)).all()),
            list(
                session.exec(
                    select(CaseEvent)
                    .where(col(CaseEvent.case_id) == case_id)
                    .order_by(col(CaseEvent.id))
                ).all()
            ),
            list(
                session.exec(
                    select(AuditEntry)
                    .where(col(AuditEntry.case_id) == case_id)
                    .order_by(col(AuditEntry.id))
                ).all()
            ),
        )


def dumps(engine: Engine, case_id: int) -> list[list[dict[str, object]]]:
    """The case's referrals, timeline and audit entries as plain values."""
    return [[row.model_dump() for row in table] for table in rows(engine, case_id)]


def case_status(engine: Engine, case_id: int) -> str:
    """The case's status now."""
    with Session(engine) as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case.status


# --- creating a referral ------------------------------------------------------------------


def test_referral_with_consent(world: World) -> None:
    case_id = new_case(world.engine, status="active")

    referral_id = refer(world, case_id)

    referrals, events, audit = rows(world.engine, case_id)
    [referral] = referrals
    assert referral.id == referral_id
    assert referral.status == "in_progress"
    assert (referral.service_id, referral.created_by) == (world.shelter, world.operator)
    assert (referral.override_by, referral.override_reason) == (None, None)
    assert case_status(world.engine, case_id) == "referred"
    assert [(e.kind, e.actor) for e in events] == [("referral", "olga"), ("status", "olga")]
    assert events[0].detail == f"referral {referral_id} to Maison Espoir (shelter): in_progress"
    assert (events[1].from_status, events[1].to_status) == ("active", "referred")
    assert [(a.action, a.actor, a.reason) for a in audit] == [("referral", "olga", None)]
    for event in events:
        assert NARRATIVE not in (event.detail or "")
        assert "000 000" not in (event.detail or "")


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("active", "referred"),
        ("follow_up", "referred"),
        ("referred", "referred"),
        ("new", "new"),
        ("triaged", "triaged"),
    ],
)
def test_case_status_after_a_referral(world: World, before: str, after: str) -> None:
    case_id = new_case(world.engine, status=before)

    refer(world, case_id)

    assert case_status(world.engine, case_id) == after
    _, events, _ = rows(world.engine, case_id)
    assert [e.kind for e in events] == ["referral"] + (["status"] if before != after else [])


@pytest.mark.parametrize("override_reason", [None, "the person is a child in danger"])
def test_operator_cannot_refer_without_consent(world: World, override_reason: str | None) -> None:
    case_id = new_case(world.engine, consent=False)

    with pytest.raises(ReferralRefused, match="no consent to refer; only a supervisor"):
        refer(world, case_id, override_reason=override_reason)

    assert rows(world.engine, case_id) == ([], [], [])
    assert case_status(world.engine, case_id) == "active"


@pytest.mark.parametrize("override_reason", [None, "", "   "])
def test_supervisor_override_needs_a_reason(world: World, override_reason: str | None) -> None:
    case_id = new_case(world.engine, consent=False)

    with pytest.raises(ReferralRefused, match="an override needs a reason"):
        refer(world, case_id, actor=world.supervisor, override_reason=override_reason)

    assert rows(world.engine, case_id) == ([], [], [])


@pytest.mark.parametrize("who", ["supervisor", "admin"])
def test_override_with_a_reason_is_recorded(world: World, who: str) -> None:
    case_id = new_case(world.engine, consent=False)
    actor = world.supervisor if who == "supervisor" else world.admin
    username = "sam" if who == "supervisor" else "ada"

    refer(world, case_id, actor=actor, override_reason="  child at immediate risk  ")

    [referral], events, audit = rows(world.engine, case_id)
    assert (referral.override_by, referral.override_reason) == (actor, "child at immediate risk")
    assert referral.created_by == actor
    assert [(a.action, a.actor, a.reason) for a in audit] == [
        ("referral_override", username, "child at immediate risk")
    ]
    assert events[0].detail is not None
    assert events[0].detail.endswith("in_progress, supervisor override")
    assert case_status(world.engine, case_id) == "referred"


def test_override_reason_is_not_recorded_when_there_is_consent(world: World) -> None:
    case_id = new_case(world.engine, consent=True)

    refer(world, case_id, actor=world.supervisor, override_reason="not needed")

    [referral], _, audit = rows(world.engine, case_id)
    assert (referral.override_by, referral.override_reason) == (None, None)
    assert [(a.action, a.reason) for a in audit] == [("referral", None)]


def test_paused_service_is_refused(world: World) -> None:
    case_id = new_case(world.engine)

    with pytest.raises(ReferralRefused, match="Clinique Bondeko is paused; only active services"):
        refer(world, case_id, service=world.paused)

    assert rows(world.engine, case_id) == ([], [], [])


def test_closed_case_is_refused(world: World) -> None:
    case_id = new_case(world.engine, status="closed")

    with pytest.raises(ReferralRefused, match="is closed; reopen it"):
        refer(world, case_id)

    assert rows(world.engine, case_id) == ([], [], [])


def test_inactive_operator_is_refused(world: World) -> None:
    case_id = new_case(world.engine)
    with Session(world.engine) as session:
        olga = session.get(Operator, world.operator)
        assert olga is not None
        olga.active = False
        session.add(olga)
        session.commit()

    with pytest.raises(ReferralRefused, match="olga is not an active member"):
        refer(world, case_id)


def test_one_running_referral_per_service(world: World) -> None:
    case_id = new_case(world.engine)
    first = refer(world, case_id)

    with pytest.raises(ReferralRefused, match=f"already has referral {first} to Maison Espoir"):
        refer(world, case_id)

    update(world, first, "rejected", reason="no places")
    second = refer(world, case_id)
    assert second != first


# --- the referral state machine -----------------------------------------------------------


@pytest.mark.parametrize(("source", "target"), list(itertools.product(STATUSES, STATUSES)))
def test_every_move(source: str, target: str) -> None:
    outcome = "successful" if target == "done" else None
    if (source, target) in LEGAL:
        assert move(source, target, reason="r", outcome=outcome) == target
        return
    with pytest.raises(IllegalTransition) as refused:
        move(source, target, reason="r", outcome=outcome)
    options = ", ".join(allowed(source)) or "nothing"
    assert str(refused.value) == (
        f"a referral that is {source} cannot become {target} (allowed: {options})"
    )


def test_allowed() -> None:
    assert allowed("in_progress") == ["accepted", "rejected", "revoked"]
    assert allowed("accepted") == ["done"]
    assert [allowed(s) for s in ("rejected", "revoked", "done")] == [[], [], []]


def test_illegal_transition_is_the_case_workflow_error() -> None:
    assert IllegalTransition is CaseIllegalTransition


@pytest.mark.parametrize(
    ("source", "target", "reason", "outcome", "error"),
    [
        ("in_progress", "rejected", None, None, "rejecting a referral needs a reason"),
        ("in_progress", "rejected", "  ", None, "rejecting a referral needs a reason"),
        ("accepted", "done", None, None, "a done referral needs an outcome: successful, "),
        ("accepted", "done", "r", "great", "a done referral needs an outcome: successful, "),
        ("accepted", "done", None, "not_successful", "a not_successful outcome needs a reason"),
        ("in_progress", "accepted", None, "successful", "an outcome is recorded only when"),
        ("in_progress", "revoked", "x" * 301, None, "the reason is longer than 300"),
    ],
)
def test_reasons_and_outcomes(
    source: str, target: str, reason: str | None, outcome: str | None, error: str
) -> None:
    with pytest.raises(IllegalTransition, match=error):
        move(source, target, reason=reason, outcome=outcome)


def test_optional_reasons() -> None:
    assert move("in_progress", "accepted") == "accepted"
    assert move("in_progress", "revoked") == "revoked"
    assert move("accepted", "done", outcome="successful") == "done"
    assert move("accepted", "done", outcome="not_successful", reason="moved away") == "done"


def test_referral_lifecycle_in_the_database(world: World) -> None:
    case_id = new_case(world.engine)
    accepted_id = refer(world, case_id)

    accepted = update(world, accepted_id, "accepted")
    assert (accepted.status, accepted.reason, accepted.outcome) == ("accepted", None, None)
    done = update(
        world,
        accepted_id,
        "done",
        outcome="not_successful",
        reason="left the shelter",
        actor=world.supervisor,
    )
    assert (done.status, done.outcome, done.reason) == (
        "done",
        "not_successful",
        "left the shelter",
    )
    assert done.updated_at >= done.created_at

    _, events, audit = rows(world.engine, case_id)
    assert [e.detail for e in events if e.kind == "referral"] == [
        f"referral {accepted_id} to Maison Espoir (shelter): in_progress",
        f"referral {accepted_id} to Maison Espoir (shelter): in_progress → accepted",
        f"referral {accepted_id} to Maison Espoir (shelter): accepted → done (not_successful)",
    ]
    assert [e.actor for e in events if e.kind == "referral"] == ["olga", "olga", "sam"]
    assert [(a.action, a.reason) for a in audit] == [
        ("referral", None),
        ("referral_update", None),
        ("referral_update", "left the shelter"),
    ]


@pytest.mark.parametrize(("to", "reason"), [("rejected", "no places left"), ("revoked", None)])
def test_rejected_and_revoked_in_the_database(world: World, to: str, reason: str | None) -> None:
    case_id = new_case(world.engine)
    referral_id = refer(world, case_id)

    referral = update(world, referral_id, to, reason=reason)

    assert (referral.status, referral.reason) == (to, reason)
    with pytest.raises(IllegalTransition, match=f"a referral that is {to} cannot become accepted"):
        update(world, referral_id, "accepted")
    _, events, audit = rows(world.engine, case_id)
    assert len([e for e in events if e.kind == "referral"]) == 2
    assert len(audit) == 2


def test_refused_moves_write_nothing(world: World) -> None:
    case_id = new_case(world.engine)
    referral_id = refer(world, case_id)
    before = dumps(world.engine, case_id)

    with pytest.raises(IllegalTransition, match="rejecting a referral needs a reason"):
        update(world, referral_id, "rejected")
    with pytest.raises(IllegalTransition, match="in_progress cannot become done"):
        update(world, referral_id, "done", outcome="successful")

    assert dumps(world.engine, case_id) == before


# --- two operators at once -----------------------------------------------------------------


def _set_case(engine: Engine, case_id: int, **values: object) -> None:
    with Session(engine) as session:
        case = session.get(Case, case_id)
        assert case is not None
        for name, value in values.items():
            setattr(case, name, value)
        session.add(case)
        session.commit()


@pytest.mark.parametrize(
    "meanwhile",
    [
        {"consent_refer": False},
        {"status": "closed", "close_reason": "duplicate", "updated_at": utcnow()},
        {"updated_at": utcnow()},
    ],
)
def test_a_case_changed_meanwhile_is_a_conflict(world: World, meanwhile: dict[str, object]) -> None:
    case_id = new_case(world.engine)
    with Session(world.engine) as session:
        stale = session.get(Case, case_id)
        olga = session.get(Operator, world.operator)
        shelter = session.get(Service, world.shelter)
        assert stale and olga and shelter
        _set_case(world.engine, case_id, **meanwhile)

        with pytest.raises(ReferralConflict, match="was changed meanwhile; reload it"):
            create_referral(session, case=stale, service=shelter, actor=olga)
        session.commit()

    assert dumps(world.engine, case_id) == [[], [], []]


def test_a_referral_changed_meanwhile_is_a_conflict(world: World) -> None:
    case_id = new_case(world.engine)
    referral_id = refer(world, case_id)
    with Session(world.engine) as session:
        stale = session.get(Referral, referral_id)
        olga = session.get(Operator, world.operator)
        assert stale and olga
        update(world, referral_id, "accepted", actor=world.supervisor)
        before = dumps(world.engine, case_id)

        with pytest.raises(ReferralConflict, match=f"referral {referral_id} was changed"):
            update_referral(session, stale, actor=olga, to="rejected", reason="no places")
        session.commit()

    assert dumps(world.engine, case_id) == before
    assert before[0][0]["status"] == "accepted"


def test_a_referral_is_found_only_through_its_own_case(world: World) -> None:
    mine = new_case(world.engine)
    other = new_case(world.engine)
    referral_id = refer(world, mine)
    with Session(world.engine) as session:
        case, elsewhere = session.get(Case, mine), session.get(Case, other)
        assert case is not None and elsewhere is not None
        assert find_referral(session, case, referral_id).id == referral_id
        with pytest.raises(ReferralNotFound, match="has no referral"):
            find_referral(session, elsewhere, referral_id)
        with pytest.raises(ReferralNotFound):
            find_referral(session, case, referral_id + 99)
