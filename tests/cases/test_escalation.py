"""The escalation ladder with a controlled clock: ack in time, ack late, nobody acks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.cases.alerts import AlertPolicy
from bot.cases.escalation import acknowledge, sweep
from bot.cases.intake import CasesSink
from bot.models import Case, CaseEvent, Escalation, Operator, OutboundMessage
from bot.outbox import queue
from tests.cases.helpers import CATALOGS, CIPHER, T0, team
from tests.cases.test_intake import Recorder, event


def fixed(at: datetime) -> Callable[[], datetime]:
    """A clock stopped at ``at``."""
    return lambda: at


async def new_case(engine: Engine, priority: str = "P1", at: datetime = T0) -> Case:
    recorder = Recorder()
    sink = CasesSink(engine, CIPHER, CATALOGS.gettext, lambda: recorder, clock=lambda: at)
    await sink.handle([event(priority=priority)], channel="ussd", contact="ph_abc")
    with Session(engine) as session:
        return session.exec(select(Case)).one()


def ladder(engine: Engine) -> list[tuple[int, int | None, bool]]:
    with Session(engine) as session:
        steps = session.exec(select(Escalation).order_by(col(Escalation.level))).all()
        return [(s.level, s.operator_id, s.done) for s in steps]


def alert_recipients(engine: Engine) -> list[str]:
    with Session(engine) as session:
        rows = session.exec(select(OutboundMessage).order_by(col(OutboundMessage.id))).all()
        return [CIPHER.decrypt(r.body, queue.BODY) for r in rows]


def ack(engine: Engine, username: str, now: datetime) -> None:
    with Session(engine) as session:
        case = session.exec(select(Case)).one()
        actor = session.exec(select(Operator).where(Operator.username == username)).one()
        acknowledge(session, case, actor=actor, now=now)
        session.commit()


async def test_acknowledged_in_time_stops_the_ladder(engine: Engine) -> None:
    ids = team(engine)
    await new_case(engine)
    ack(engine, "amani", T0 + timedelta(minutes=4))
    assert sweep(engine, CIPHER, CATALOGS.gettext, now=T0 + timedelta(minutes=30)) == []
    assert ladder(engine) == [(0, ids["amani"], True)]
    with Session(engine) as session:
        case = session.exec(select(Case)).one()
        assert case.acknowledged_at == T0 + timedelta(minutes=4)
        assert session.exec(select(CaseEvent).where(CaseEvent.kind == "ack")).one().actor == "amani"


async def test_acknowledged_late_reaches_the_backup_first(engine: Engine) -> None:
    ids = team(engine)
    await new_case(engine)
    assert sweep(engine, CIPHER, CATALOGS.gettext, now=T0 + timedelta(minutes=9)) == []
    queued = sweep(engine, CIPHER, CATALOGS.gettext, now=T0 + timedelta(minutes=10))
    assert len(queued) == 1
    assert ladder(engine) == [(0, ids["amani"], True), (1, ids["lerato"], False)]
    body = alert_recipients(engine)[-1]
    assert body.startswith("Mohala oa thuso:") and "P1" in body, "the backup's alert, in Sesotho"
    ack(engine, "lerato", T0 + timedelta(minutes=12))
    assert sweep(engine, CIPHER, CATALOGS.gettext, now=T0 + timedelta(minutes=40)) == []
    assert ladder(engine) == [(0, ids["amani"], True), (1, ids["lerato"], True)]


async def test_nobody_acknowledges_supervisor_then_recorded(engine: Engine) -> None:
    ids = team(engine)
    await new_case(engine)
    sweep(engine, CIPHER, CATALOGS.gettext, now=T0 + timedelta(minutes=10))
    sweep(engine, CIPHER, CATALOGS.gettext, now=T0 + timedelta(minutes=20))
    assert ladder(engine) == [
        (0, ids["amani"], True),
        (1, ids["lerato"], True),
        (2, ids["joseph"], False),
    ]
    assert sweep(engine, CIPHER, CATALOGS.gettext, now=T0 + timedelta(minutes=30)) == []
    assert ladder(engine)[-1] == (2, ids["joseph"], True)
    with Session(engine) as session:
        last = session.exec(select(CaseEvent).order_by(col(CaseEvent.id).desc())).first()
        assert last is not None and last.detail == "supervisor did not acknowledge"
    assert len(alert_recipients(engine)) == 3


async def test_a_sweep_run_twice_escalates_once(engine: Engine) -> None:
    team(engine)
    await new_case(engine)
    later = T0 + timedelta(minutes=11)
    first = sweep(engine, CIPHER, CATALOGS.gettext, now=later)
    second = sweep(engine, CIPHER, CATALOGS.gettext, now=later)
    assert len(first) == 1 and second == []
    assert [level for level, _, _ in ladder(engine)] == [0, 1]


async def test_overdue_p2_starts_a_ladder_after_24_hours(engine: Engine) -> None:
    ids = team(engine, hours=48)
    await new_case(engine, priority="P2")
    assert sweep(engine, CIPHER, CATALOGS.gettext, now=T0 + timedelta(hours=23)) == []
    assert len(sweep(engine, CIPHER, CATALOGS.gettext, now=T0 + timedelta(hours=24))) == 1
    assert ladder(engine) == [(0, ids["amani"], False)]
    assert len(sweep(engine, CIPHER, CATALOGS.gettext, now=T0 + timedelta(hours=24))) == 0


async def test_triaged_case_is_not_overdue(engine: Engine) -> None:
    team(engine, hours=100)
    await new_case(engine, priority="P3")
    with Session(engine) as session:
        case = session.exec(select(Case)).one()
        case.status = "triaged"
        session.add(case)
        session.commit()
    assert sweep(engine, CIPHER, CATALOGS.gettext, now=T0 + timedelta(hours=80)) == []


async def test_deadlines_survive_a_restart(engine: Engine) -> None:
    """A fresh sweep (new process, same database) still sees the missed deadline."""
    team(engine)
    await new_case(engine)
    engine.dispose()
    assert len(sweep(engine, CIPHER, CATALOGS.gettext, now=T0 + timedelta(minutes=15))) == 1


async def test_a_burst_missing_its_deadline_together_escalates_in_one_grouped_alert(
    engine: Engine,
) -> None:
    ids = team(engine)
    recorder = Recorder()
    for n in range(12):  # twelve P1s in one minute, from twelve numbers; nobody acknowledges
        at = T0 + timedelta(seconds=5 * n)
        cases_sink = CasesSink(engine, CIPHER, CATALOGS.gettext, lambda: recorder, clock=fixed(at))
        await cases_sink.handle([event(event_id=f"e{n}:1:x")], channel="ussd", contact=f"ph_{n}")
    policy = AlertPolicy(group_seconds=120, shift_budget=0)
    queued = sweep(engine, CIPHER, CATALOGS.gettext, now=T0 + timedelta(minutes=11), policy=policy)
    with Session(engine) as session:
        to_backup = session.exec(
            select(OutboundMessage)
            .where(OutboundMessage.contact == f"op_{ids['lerato']}")
            .order_by(col(OutboundMessage.id))
        ).all()
    assert len(to_backup) == 2, "the backup is paged once at once, once grouped"
    assert queued == [to_backup[0].id]
    assert "11" in CIPHER.decrypt(to_backup[1].body, queue.BODY)
