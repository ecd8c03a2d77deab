"""A flow's event becomes a case with its alert in one transaction; duplicates create nothing."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.cases.intake import CasesSink, Limits, read_event
from bot.cases.reference import PATTERN
from bot.conversation.ports import Declined
from bot.engine.state import Event
from bot.i18n import ui
from bot.i18n.gsm7 import fits_ussd, fold
from bot.models import Case, CaseEvent, Escalation, OutboundMessage
from bot.outbox import queue
from tests.cases.helpers import CATALOGS, CIPHER, T0, team
from tests.conftest import TEST_PHONES, assert_no_phone_numbers, database_text


class Recorder:
    """A notifier that remembers what it was told."""

    def __init__(self) -> None:
        self.told: list[int] = []

    async def notify(self, message_ids: Sequence[int]) -> None:
        self.told.extend(message_ids)


def event(name: str = "screening_completed", **payload: Any) -> Event:
    base: dict[str, Any] = {
        "event_id": "sid1:12:" + name,
        "flow": "screening",
        "lang": "ln",
        "answers": {"U1": "yes", "U3": "no", "area": "cd-kwilu-kikwit"},
        "scores": {"indicators": 2},
        "priority": "P1",
        "rule": "U1 danger now",
    }
    base.update(payload)
    return Event(name, base)


def sink(engine: Engine, recorder: Recorder, now: Any = T0) -> CasesSink:
    return CasesSink(engine, CIPHER, CATALOGS.gettext, lambda: recorder, clock=lambda: now)


def test_read_event_follows_the_answer_conventions() -> None:
    intake = read_event(
        event(
            "tip_submitted",
            priority="P2",
            answers={
                "area": "ls-maseru",
                "exploitation": "forced_labour",
                "people": "3",
                "children": "yes",
                "consent_contact": "yes",
                "consent_refer": "no",
                "safe_time": "evenings",
                "description": "they took our papers",
            },
        )
    )
    assert (intake.kind, intake.priority, intake.area) == ("tip", "P2", "ls-maseru")
    assert (intake.exploitation_type, intake.people_affected, intake.minor) == (
        "forced_labour",
        3,
        True,
    )
    assert (intake.consent_contact, intake.consent_refer) == (True, False)
    assert intake.narrative == "they took our papers" and intake.safe_time == "evenings"
    assert "description" not in intake.answers and "safe_time" not in intake.answers
    unknown = read_event(event(answers={"exploitation": "nonsense"}, priority=None))
    assert unknown.exploitation_type is None and unknown.priority == "P4" and unknown.minor is None


async def test_p1_case_and_its_alert_are_committed_together(engine: Engine) -> None:
    ids = team(engine)
    recorder = Recorder()
    values = await sink(engine, recorder).handle([event()], channel="ussd", contact="ph_abc")
    assert PATTERN.match(values["reference"])
    with Session(engine) as session:
        case = session.exec(select(Case)).one()
        assert (case.reference, case.kind, case.priority, case.rule) == (
            values["reference"],
            "screening",
            "P1",
            "U1 danger now",
        )
        assert (case.channel, case.lang, case.area, case.minor) == (
            "ussd",
            "ln",
            "cd-kwilu-kikwit",
            False,
        )
        assert case.status == "new" and case.due_at == T0 + timedelta(minutes=10)
        assert case.contact == "ph_abc" and case.contact_phone is None
        assert json.loads(CIPHER.decrypt(case.answers or "", "case.answers"))["U1"] == "yes"
        step = session.exec(select(Escalation)).one()
        assert (step.level, step.operator_id, step.reason) == (0, ids["amani"], "new_p1")
        alert = session.exec(select(OutboundMessage)).one()
        assert alert.purpose == "alert" and alert.lang == "fr"
        body = CIPHER.decrypt(alert.body, queue.BODY)
        assert case.reference in body and "P1" in body and "cd-kwilu-kikwit" in body
        assert "U1" not in body and "danger" not in body, "alerts never say what was reported"
        assert CIPHER.decrypt(alert.recipient or "", queue.RECIPIENT) == TEST_PHONES[0]
        kinds = [e.kind for e in session.exec(select(CaseEvent).order_by(col(CaseEvent.id))).all()]
        assert kinds == ["created", "alert"]
    assert recorder.told == [alert.id]


async def test_same_event_twice_creates_one_case(engine: Engine) -> None:
    team(engine)
    recorder = Recorder()
    first = await sink(engine, recorder).handle([event()], channel="ussd", contact="ph_abc")
    again = await sink(engine, recorder).handle([event()], channel="ussd", contact="ph_abc")
    assert first == again
    with Session(engine) as session:
        assert len(session.exec(select(Case)).all()) == 1
        assert len(session.exec(select(OutboundMessage)).all()) == 1
    other = await sink(engine, recorder).handle(
        [event(event_id="sid2:12:screening_completed")], channel="ussd", contact="ph_abc"
    )
    assert other["reference"] != first["reference"]


@pytest.mark.parametrize(
    ("priority", "due"),
    [("P2", timedelta(hours=24)), ("P3", timedelta(hours=72)), ("P4", timedelta(days=7))],
)
async def test_lower_priorities_get_a_triage_target_and_no_page(
    engine: Engine, priority: str, due: timedelta
) -> None:
    team(engine)
    recorder = Recorder()
    await sink(engine, recorder).handle([event(priority=priority)], channel="sms", contact="ph_x")
    with Session(engine) as session:
        case = session.exec(select(Case)).one()
        assert case.due_at == T0 + due
        assert session.exec(select(Escalation)).all() == []
        assert session.exec(select(OutboundMessage)).all() == []
    assert recorder.told == []


async def test_number_kept_encrypted_only_with_consent_to_be_contacted(engine: Engine) -> None:
    recorder = Recorder()
    no = event(event_id="a:1:tip_submitted", answers={"consent_contact": "no"})
    yes = event(
        event_id="b:1:tip_submitted",
        answers={"consent_contact": "yes", "description": "a long story"},
    )
    await sink(engine, recorder).handle([no], channel="sms", contact="ph_1", address=TEST_PHONES[1])
    await sink(engine, recorder).handle(
        [yes], channel="sms", contact="ph_2", address=TEST_PHONES[2]
    )
    with Session(engine) as session:
        cases = {c.contact: c for c in session.exec(select(Case)).all()}
        assert cases["ph_1"].contact_phone is None
        phone = cases["ph_2"].contact_phone
        assert phone is not None and CIPHER.decrypt(phone, "case.contact_phone") == TEST_PHONES[2]
        narrative = cases["ph_2"].narrative or ""
        assert CIPHER.decrypt(narrative, "case.narrative") == "a long story"
    text = database_text(engine)
    assert_no_phone_numbers(text)
    assert "a long story" not in text, "narratives are encrypted at rest"


async def test_nobody_on_call_is_recorded_not_lost(engine: Engine) -> None:
    recorder = Recorder()
    await sink(engine, recorder).handle([event()], channel="ussd", contact="ph_abc")
    with Session(engine) as session:
        step = session.exec(select(Escalation)).one()
        assert step.operator_id is None
        alert = session.exec(select(CaseEvent).where(CaseEvent.kind == "alert")).one()
        assert alert.detail == "level 0 (new_p1) to nobody on call"
    assert recorder.told == []


async def test_other_events_make_no_case(engine: Engine) -> None:
    recorder = Recorder()
    values = await sink(engine, recorder).handle(
        [Event("language_chosen", {})], channel="ussd", contact="ph_abc"
    )
    assert values == {}
    with Session(engine) as session:
        assert session.exec(select(Case)).all() == []


@pytest.mark.parametrize(
    ("people", "expected"), [("1", 1), ("2-5", 2), ("6-20", 6), ("21+", 21), ("unknown", None)]
)
def test_a_band_of_people_is_kept_as_at_least_its_lower_bound(
    people: str, expected: int | None
) -> None:
    intake = read_event(event("tip_submitted", answers={"people": people}))
    assert intake.people_affected == expected
    assert intake.answers["people"] == people, "the band itself stays with the answers"


# --- one contact cannot file reports in bursts (issue 11, item 2) -----------------------------


def limited(engine: Engine, recorder: Recorder, now: Any = T0, per_hour: int = 3) -> CasesSink:
    return CasesSink(
        engine,
        CIPHER,
        CATALOGS.gettext,
        lambda: recorder,
        clock=lambda: now,
        limits=Limits(cases_per_hour=per_hour),
    )


@pytest.mark.parametrize("channel", ["ussd", "sms", "telegram"])
async def test_a_burst_from_one_contact_makes_at_most_the_hour_s_cases(
    engine: Engine, channel: str
) -> None:
    team(engine)
    recorder = Recorder()
    cases_sink = limited(engine, recorder)
    declined = 0
    for n in range(100):
        try:
            await cases_sink.handle(
                [event(event_id=f"burst{n}:12:x")], channel=channel, contact="ph_burst"
            )
        except Declined as refusal:
            assert refusal.message == ui.CASES_LIMIT
            declined += 1
    assert declined == 97
    with Session(engine) as session:
        assert len(session.exec(select(Case)).all()) == 3, "nothing is kept for a refused report"
        assert len(session.exec(select(CaseEvent)).all()) == 3 * 2  # created + alert, each
    # Another number is not held back, and the same number may report again an hour later.
    await cases_sink.handle([event(event_id="other:12:x")], channel=channel, contact="ph_other")
    later = limited(engine, recorder, now=T0 + timedelta(minutes=61))
    await later.handle([event(event_id="later:12:x")], channel=channel, contact="ph_burst")
    with Session(engine) as session:
        assert len(session.exec(select(Case)).all()) == 5


async def test_an_event_delivered_again_over_the_limit_still_gets_its_reference(
    engine: Engine,
) -> None:
    recorder = Recorder()
    cases_sink = limited(engine, recorder, per_hour=1)
    first = await cases_sink.handle([event()], channel="ussd", contact="ph_a")
    assert await cases_sink.handle([event()], channel="ussd", contact="ph_a") == first
    with pytest.raises(Declined):
        await cases_sink.handle([event(event_id="new:1:x")], channel="ussd", contact="ph_a")


def test_the_refusal_is_neutral_and_fits_a_screen_in_every_language() -> None:
    for lang in ("en", "fr", "ln", "st"):
        text = CATALOGS.gettext(lang, ui.CASES_LIMIT).format(hotline_number="0800 000 000 0000")
        assert fits_ussd(fold(text, lang)), (lang, text)
        assert "0800" in text and "{" not in text
        if lang != "en":
            assert text != ui.CASES_LIMIT.format(hotline_number="0800 000 000 0000")
