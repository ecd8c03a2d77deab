"""On-call alerts under a burst: grouped per operator and window, budgeted per shift."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.cases.alerts import GROUP_SHOWN, AlertPolicy
from bot.cases.intake import CasesSink, Limits
from bot.models import Case, CaseEvent, Operator, OutboundMessage
from bot.outbox import keys, queue
from tests.cases.helpers import CATALOGS, CIPHER, T0, team
from tests.cases.test_intake import Recorder, event
from tests.conftest import assert_no_phone_numbers


def fixed(at: datetime) -> Callable[[], datetime]:
    """A clock stopped at ``at``."""
    return lambda: at


async def burst(
    engine: Engine, policy: AlertPolicy, count: int, *, start: datetime = T0, step: float = 1.0
) -> Recorder:
    """``count`` P1 reports from as many numbers, ``step`` seconds apart."""
    recorder = Recorder()
    for n in range(count):
        at = start + timedelta(seconds=n * step)
        sink = CasesSink(
            engine,
            CIPHER,
            CATALOGS.gettext,
            lambda: recorder,
            clock=fixed(at),
            limits=Limits(cases_per_hour=0, alerts=policy),
        )
        await sink.handle(
            [event(event_id=f"b{start.timestamp()}-{n}:1:x", answers={"U1": "yes", "area": "x"})],
            channel="ussd",
            contact=f"ph_{n}",
        )
    return recorder


def alerts(engine: Engine) -> list[OutboundMessage]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(OutboundMessage)
                .where(col(OutboundMessage.purpose) == "alert")
                .order_by(col(OutboundMessage.id))
            ).all()
        )


def body(message: OutboundMessage) -> str:
    return CIPHER.decrypt(message.body, queue.BODY)


def references(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return [c.reference for c in session.exec(select(Case).order_by(col(Case.id))).all()]


async def test_a_burst_of_p1s_pages_the_operator_once_then_once_grouped(engine: Engine) -> None:
    ids = team(engine)
    recorder = await burst(engine, AlertPolicy(group_seconds=120, shift_budget=0), 30)
    sent = alerts(engine)
    refs = references(engine)
    assert len(refs) == 30
    # The first goes at once; the 29 others of the window are one message at its end.
    assert [m.key for m in sent] == [
        keys.sms_alert(1, 0),
        keys.group_alert("sms", ids["amani"], int(T0.timestamp()) // 120),
    ]
    assert recorder.told == [sent[0].id], "the grouped alert waits for its window to close"
    first, grouped = sent
    assert refs[0] in body(first)
    text = body(grouped)
    assert text.startswith("Ligne d'aide : 29 nouvelles alertes")  # amani reads French
    assert all(ref in text for ref in refs[1 : 1 + GROUP_SHOWN])
    assert all(ref not in text for ref in refs[1 + GROUP_SHOWN :])
    assert "21 autres dans la file" in text
    assert "P1" in text and " x" in text, "reference, priority and area: nothing else"
    assert_no_phone_numbers(text)
    with Session(engine) as session:
        due = session.get(OutboundMessage, grouped.id)
        assert due is not None
        assert due.next_attempt_at.replace(tzinfo=T0.tzinfo) == T0 + timedelta(seconds=120)
    # Nothing is claimed before the window closes; then it goes, once.
    assert queue.claim(engine, now=T0 + timedelta(seconds=60)) == []
    assert [c for c in queue.claim(engine, now=T0 + timedelta(seconds=121))] != []


async def test_the_next_window_pages_at_once_again(engine: Engine) -> None:
    team(engine)
    policy = AlertPolicy(group_seconds=120, shift_budget=0)
    await burst(engine, policy, 3)
    await burst(engine, policy, 1, start=T0 + timedelta(minutes=5))
    kinds = [keys.is_group(m.key) for m in alerts(engine)]
    assert kinds == [False, True, False]


async def test_past_the_shift_s_budget_only_the_supervisor_gets_one_summary(
    engine: Engine,
) -> None:
    ids = team(engine)
    recorder = await burst(engine, AlertPolicy(group_seconds=0, shift_budget=5), 40, step=30)
    sent = alerts(engine)
    assert [m.contact for m in sent] == [f"op_{ids['amani']}"] * 5 + [f"op_{ids['joseph']}"]
    summary = sent[-1]
    assert summary.key == keys.budget_alert("sms", 1)
    assert body(summary).startswith("Hotline: 5 alerts this shift")  # joseph reads English
    assert recorder.told == [m.id for m in sent]
    with Session(engine) as session:
        held = session.exec(
            select(CaseEvent).where(col(CaseEvent.detail).contains("not paged"))
        ).all()
        assert len(held) == 35, "every case still shows it was not paged, on its timeline"
        assert session.exec(select(Operator)).all()


async def test_grouping_and_budget_together_bound_a_long_storm(engine: Engine) -> None:
    team(engine)
    # 120 P1s over an hour, one every 30 s: 30 windows, each paging twice (alone, grouped).
    await burst(engine, AlertPolicy(group_seconds=120, shift_budget=20), 120, step=30)
    sent = alerts(engine)
    pages = {keys.page(m.key) for m in sent}
    assert len(pages) == 21, "the budget's 20 pages, then the supervisor's summary"
    assert sum(keys.is_budget(m.key) for m in sent) == 1
