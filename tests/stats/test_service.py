"""Service figures, in full: times against the targets per priority, escalations per level,
rota gaps, referrals by outcome and service type, failed deliveries per channel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.models import (
    Case,
    CaseEvent,
    Escalation,
    Operator,
    OutboundMessage,
    Referral,
    Service,
    Shift,
)
from bot.stats.periods import Period
from bot.stats.service import service_figures
from bot.stats.timing import LADDER, median_of
from tests.stats.helpers import MARCH, add_cases

NOW = datetime(2026, 4, 1, tzinfo=UTC)


def figures(engine: Engine, period: str = "2026-03"):  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return service_figures(session, Period.parse(period), now=NOW)


def test_time_to_acknowledge_and_to_triage_against_each_target(engine: Engine) -> None:
    add_cases(engine, 3, at=MARCH, priority="P1", acknowledged_at=MARCH + timedelta(minutes=4))
    add_cases(engine, 1, at=MARCH, priority="P1", acknowledged_at=MARCH + timedelta(minutes=30))
    add_cases(engine, 1, at=MARCH, priority="P1")  # never acknowledged
    add_cases(engine, 2, at=MARCH, priority="P2", acknowledged_at=MARCH + timedelta(hours=30))
    with Session(engine) as session:
        ids = session.exec(select(Case.id).where(col(Case.priority) == "P1")).all()
        session.execute(
            insert(CaseEvent),
            [
                {
                    "case_id": case_id,
                    "at": MARCH + timedelta(minutes=8 if i < 2 else 45),
                    "actor": "amani",
                    "kind": "status",
                    "from_status": "new",
                    "to_status": "triaged",
                }
                for i, case_id in enumerate(ids)
            ],
        )
        session.commit()
    p1, p2, p3, p4 = figures(engine).priorities
    assert (p1.cases, p1.acknowledged.reached, p1.acknowledged.within) == (5, 4, 3)
    assert (p1.triaged.reached, p1.triaged.within) == (5, 2)
    assert p1.acknowledged.median_seconds is not None
    assert 2 * 60 < p1.acknowledged.median_seconds <= 5 * 60  # in the 2-5 minute bucket
    assert (p2.cases, p2.acknowledged.within) == (2, 0)  # 30 h against 24 h
    assert p3.cases == p4.cases == 0 and p3.acknowledged.median_seconds is None


def test_escalations_gaps_referrals_and_failed_deliveries(engine: Engine) -> None:
    add_cases(engine, 2, at=MARCH, priority="P1")
    with Session(engine) as session:
        ids = [i or 0 for i in session.exec(select(Case.id)).all()]
        amani = Operator(username="amani", display_name="Amani", role="operator")
        gone = Operator(username="gone", display_name="Gone", role="operator", active=False)
        shelter = Service(
            name="Shelter",
            organisation="Org",
            service_type="shelter",
            areas="cd-kwilu",
            phones="+243 000 000 100",
            hours="24/7",
            languages="fr",
            genders="any",
        )
        session.add_all([amani, gone, shelter])
        session.flush()
        day = datetime(2026, 3, 5, tzinfo=UTC)
        session.add(
            Shift(starts_at=day, ends_at=day + timedelta(hours=12), primary_id=amani.id or 0)
        )
        session.add(
            Shift(
                starts_at=day + timedelta(hours=12),
                ends_at=day + timedelta(hours=24),
                primary_id=gone.id or 0,  # an inactive primary pages no one: a gap
            )
        )
        for level, acked in ((0, False), (1, True)):
            session.add(
                Escalation(
                    case_id=ids[0],
                    level=level,
                    reason="new_p1",
                    notified_at=MARCH,
                    due_at=MARCH,
                    acknowledged_at=MARCH if acked else None,
                )
            )
        for status, outcome in (
            ("done", "successful"),
            ("done", "not_successful"),
            ("rejected", None),
        ):
            session.add(
                Referral(
                    case_id=ids[1],
                    service_id=shelter.id or 0,
                    status=status,
                    outcome=outcome,
                    created_at=MARCH,
                )
            )
        for i, (channel, status) in enumerate(
            (("sms", "delivered"), ("sms", "failed"), ("telegram", "unknown"), ("sms", "sent"))
        ):
            session.add(
                OutboundMessage(
                    key=f"k{i}",
                    channel=channel,
                    purpose="reply",
                    contact="pseudonym",
                    body="sealed",
                    lang="fr",
                    status=status,
                    created_at=MARCH,
                )
            )
        session.commit()
    found = figures(engine)
    assert found.escalations == ((0, 1, 0), (1, 1, 1), (2, 0, 0))
    assert found.coverage.shifts == 2
    assert found.coverage.gap_hours == 31 * 24 - 12  # all March but Amani's 12 hours
    assert found.referrals == (("shelter", {"successful": 1, "not_successful": 1, "rejected": 1}),)
    assert found.deliveries == (("sms", 3, 1), ("telegram", 1, 1))


def test_the_median_is_read_from_its_bucket() -> None:
    assert median_of({}) is None
    assert median_of({0: 1}) == 30.0  # one case in the first minute: its middle
    assert median_of({3: 2, 5: 2}) == LADDER[3]
