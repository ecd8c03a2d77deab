"""On call by SMS through the real Africa's Talking callback: operators acknowledge and claim
by replying to their alert, partner services confirm referrals with a code, and reporters'
conversations on the same callback stay apart.

The app runs as in production (``create_app``, SQLite and PostgreSQL, in-process outbox
worker); only the provider is the fake sender of ``test_routes``. The clock of the callback is
the test's (``get_now`` overridden); the escalation ladder is swept at chosen moments.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.cases import partner_codes
from bot.cases.escalation import sweep
from bot.cases.intake import CasesSink
from bot.cases.referrals import create_referral
from bot.core.clock import utcnow
from bot.deps import get_now
from bot.i18n import ui
from bot.i18n.gsm7 import fold
from bot.models import (
    AuditEntry,
    Case,
    CaseEvent,
    Escalation,
    Operator,
    OutboundMessage,
    Referral,
    Service,
)
from bot.outbox import queue
from tests.cases.helpers import CATALOGS, CIPHER, team
from tests.cases.test_intake import Recorder, event
from tests.channels.sms.test_routes import URL, FakeSender, Hotline, inbound_form
from tests.conftest import (
    PSEUDONYM_KEY,
    TEST_PHONES,
    assert_no_phone_numbers,
    database_text,
    make_app,
    make_settings,
)

AMANI, LERATO, JOSEPH = TEST_PHONES  # primary (fr), backup (st), supervisor (en)
STRANGER = "+243000000077"
PARTNER = "+243000000100"
PARTNER_SPELT = "+243 000 000 100"  # as the directory lists it


@dataclass
class Clock:
    """The callback's clock, moved by the test."""

    now: datetime


@dataclass
class OnCall:
    """The running hotline, its clock, and the case alerted to the primary."""

    hotline: Hotline
    clock: Clock
    t0: datetime
    reference: str
    ids: dict[str, int]

    def reply(self, text: str, phone: str, sms_id: str | None = None) -> str:
        """An SMS posted the way Africa's Talking does; the text queued in answer."""
        self.hotline.counter += 1
        sms_id = sms_id or f"ATXid_op_{self.hotline.counter}"
        response = self.hotline.client.post(URL, data=inbound_form(text, sms_id, phone))
        assert response.status_code == 200, response.text
        return self.hotline.reply_to(sms_id)


@pytest.fixture
def oncall(tmp_path: Path, database_url: str, engine: Engine) -> Iterator[OnCall]:
    """A shift on call now (amani primary, lerato backup, joseph supervisor) and a new P1
    alerted to amani, with the app answering SMS on a clock the test moves."""
    t0 = utcnow().replace(microsecond=0)
    ids = team(engine, start=t0 - timedelta(hours=1))
    recorder = Recorder()
    sink = CasesSink(engine, CIPHER, CATALOGS.gettext, lambda: recorder, clock=lambda: t0)
    asyncio.run(sink.handle([event(lang="fr")], channel="ussd", contact="ph_abc"))
    with Session(engine) as session:
        reference = session.exec(select(Case)).one().reference
    settings = make_settings(tmp_path, database_url=database_url, encryption_keys=CIPHER.keys[0])
    app = make_app(settings)
    clock = Clock(t0 + timedelta(minutes=2))
    app.dependency_overrides[get_now] = lambda: clock.now
    sender = FakeSender()
    app.state.worker.sender = sender
    with TestClient(app) as client:
        yield OnCall(Hotline(app, client, sender, engine), clock, t0, reference, ids)


def alerts_after(engine: Engine, t0: datetime) -> list[int]:
    """The ladder swept at +10 and +30 minutes: the outbox ids of any alert it queued."""
    queued: list[int] = []
    for minutes in (10, 30):
        queued += sweep(engine, CIPHER, CATALOGS.gettext, now=t0 + timedelta(minutes=minutes))
    return queued


def events(engine: Engine, kind: str) -> list[CaseEvent]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(CaseEvent).where(col(CaseEvent.kind) == kind).order_by(col(CaseEvent.id))
            ).all()
        )


def audits(engine: Engine, action: str) -> list[AuditEntry]:
    with Session(engine) as session:
        return list(session.exec(select(AuditEntry).where(col(AuditEntry.action) == action)))


def said(lang: str, msgid: str, **values: str) -> str:
    """A text as the phone gets it: translated, filled in, folded to GSM-7."""
    return fold(CATALOGS.gettext(lang, msgid).format(**values), lang)


def test_the_alert_sms_says_how_to_answer_in_one_part(oncall: OnCall) -> None:
    [alert] = [r for r in oncall.hotline.replies() if r.row.purpose == "alert"]
    ref = oncall.reference
    assert alert.text == said(
        "fr", ui.ALERT_NEW_SMS, reference=ref, priority="P1", area="cd-kwilu-kikwit"
    )
    assert f"Répondez 1 {ref} pour confirmer, 2 {ref} pour le prendre" in alert.text
    assert alert.row.parts == 1


def test_acknowledge_by_sms_stops_the_ladder(oncall: OnCall) -> None:
    engine, ref = oncall.hotline.engine, oncall.reference
    answer = oncall.reply(f"1 {ref.lower().replace('-', ' ')}", AMANI)
    assert answer == said("fr", ui.OP_ACKNOWLEDGED, reference=ref)
    assert alerts_after(engine, oncall.t0) == [], "nobody else alerted at +10 and +30 minutes"
    with Session(engine) as session:
        case = session.exec(select(Case)).one()
        assert case.acknowledged_at == oncall.clock.now
        steps = session.exec(select(Escalation)).all()
        assert [(s.level, s.operator_id, s.done) for s in steps] == [(0, oncall.ids["amani"], True)]
    [ack] = events(engine, "ack")
    assert (ack.actor, ack.detail) == ("amani", "by SMS")
    [audited] = audits(engine, "ack")
    assert (audited.actor, audited.reason) == ("amani", "by SMS")
    answered = [r for r in oncall.hotline.replies() if r.row.purpose == "command"]
    assert [r.row.contact for r in answered] == [f"op_{oncall.ids['amani']}"]
    assert answered[0].row.parts == 1


def test_claim_by_sms_takes_the_case(oncall: OnCall) -> None:
    engine, ref = oncall.hotline.engine, oncall.reference
    assert oncall.reply(f"2 {ref}", AMANI) == said("fr", ui.OP_CLAIMED, reference=ref)
    with Session(engine) as session:
        case = session.exec(select(Case)).one()
        assert case.assignee_id == oncall.ids["amani"] and case.acknowledged_at is not None
    [claim] = events(engine, "claim")
    assert claim.detail == "by SMS"
    assert alerts_after(engine, oncall.t0) == []
    # The backup, alerted about nothing, cannot take it over by SMS: nothing changes.
    assert oncall.reply(f"2 {ref}", LERATO) == said("st", ui.SMS_NOTHING_DONE, reference=ref)
    with Session(engine) as session:
        assert session.exec(select(Case)).one().assignee_id == oncall.ids["amani"]
    [refused] = audits(engine, "refused")
    assert refused.actor == "lerato" and "SMS" in (refused.reason or "")


def test_an_unregistered_number_changes_nothing_and_sees_no_operator_answer(
    oncall: OnCall,
) -> None:
    engine, ref = oncall.hotline.engine, oncall.reference
    answer = oncall.reply(f"1 {ref}", STRANGER)
    assert ref not in answer, "the reporter's conversation answers, never an operator's screen"
    assert answer.startswith("Choose your language:"), answer
    with Session(engine) as session:
        assert session.exec(select(Case)).one().acknowledged_at is None
    assert events(engine, "ack") == [] and audits(engine, "ack") == []
    assert alerts_after(engine, oncall.t0), "the ladder goes on: the backup is alerted"


def test_an_operators_other_text_is_a_reporters_message(oncall: OnCall) -> None:
    answer = oncall.reply("AIDE", AMANI)
    assert answer.startswith("Helpline. Aide sans donner votre nom."), answer
    assert events(oncall.hotline.engine, "ack") == []


def test_an_unknown_reference_changes_nothing_and_says_nothing_of_cases(oncall: OnCall) -> None:
    assert oncall.reply("1 AAAA-33", AMANI) == said("fr", ui.SMS_NOTHING_DONE, reference="AAAA-33")
    assert events(oncall.hotline.engine, "ack") == []


def test_the_same_reply_twice_acts_once(oncall: OnCall) -> None:
    engine, ref = oncall.hotline.engine, oncall.reference
    first = oncall.reply(f"1 {ref}", AMANI, sms_id="ATXid_twice")
    response = oncall.hotline.client.post(URL, data=inbound_form(f"1 {ref}", "ATXid_twice", AMANI))
    assert response.json() == {"status": "duplicate"}, "Africa's Talking's retry: seen"
    assert first == said("fr", ui.OP_ACKNOWLEDGED, reference=ref)
    again = oncall.reply(f"1 {ref}", AMANI)  # typed again: a new message
    assert again == said("fr", ui.SMS_ALREADY_ACKNOWLEDGED, reference=ref)
    assert len(events(engine, "ack")) == 1 and len(audits(engine, "ack")) == 1
    with Session(engine) as session:
        answers = session.exec(
            select(OutboundMessage).where(col(OutboundMessage.purpose) == "command")
        ).all()
    assert len(answers) == 2


def refer(oncall: OnCall, *, sent: datetime) -> str:
    """A referral of the case to a service whose phone gets a code; the code sent."""
    engine = oncall.hotline.engine
    with Session(engine) as session:
        case = session.exec(select(Case)).one()
        case.consent_refer = True
        case.status = "active"
        service = Service(
            name="Kikwit safe house",
            organisation="Test NGO",
            service_type="shelter",
            areas="cd-kwilu-kikwit",
            phones=PARTNER_SPELT,
            languages="fr",
        )
        session.add_all([case, service])
        session.flush()
        actor = session.exec(select(Operator).where(Operator.username == "amani")).one()
        referral = create_referral(session, case=case, service=service, actor=actor, now=sent)
        partner_codes.send_code(
            session,
            oncall.hotline.cipher,
            CATALOGS.gettext,
            referral=referral,
            actor="amani",
            secret=PSEUDONYM_KEY,
            days=30,
            now=sent,
        )
        session.commit()
    [message] = [r for r in oncall.hotline.replies() if r.row.purpose == "partner"]
    assert oncall.reference in message.text and "Kikwit safe house" in message.text
    assert message.row.parts == 1
    found = re.search(r"Répondez ([A-Z0-9]{6}) ACCEPT", message.text)
    assert found is not None, message.text
    return found.group(1)


def referral_status(engine: Engine) -> tuple[str, str | None]:
    with Session(engine) as session:
        referral = session.exec(select(Referral)).one()
        return referral.status, referral.outcome


def test_a_partner_accepts_then_completes_a_referral_by_sms(oncall: OnCall) -> None:
    engine, ref = oncall.hotline.engine, oncall.reference
    code = refer(oncall, sent=oncall.clock.now)
    accepted = oncall.reply(f"{code.lower()} accept", PARTNER)
    assert accepted == said("fr", ui.PARTNER_ACCEPTED, reference=ref, code=code)
    assert referral_status(engine) == ("accepted", None)
    # From another number the code is nothing: a reporter's message, no change.
    assert ref not in oncall.reply(f"{code} DONE", STRANGER)
    assert referral_status(engine) == ("accepted", None)
    oncall.clock.now += timedelta(days=3)
    assert oncall.reply(f"{code} DONE", PARTNER) == said("fr", ui.PARTNER_DONE, reference=ref)
    assert referral_status(engine) == ("done", "successful")
    moves = [e for e in events(engine, "referral") if e.actor == "partner"]
    assert [e.detail for e in moves] == [
        "referral 1 to Kikwit safe house (shelter): in_progress → accepted, by SMS",
        "referral 1 to Kikwit safe house (shelter): accepted → done (successful), by SMS",
    ]
    assert {e.at for e in moves} == {oncall.clock.now - timedelta(days=3), oncall.clock.now}
    assert [a.reason for a in audits(engine, "referral_update")] == ["by SMS", "by SMS"]
    # Spent: the same code again changes nothing.
    assert oncall.reply(f"{code} DONE", PARTNER) == said(
        "fr", ui.PARTNER_REFUSED, hotline_number="0800 000 000"
    )
    assert referral_status(engine) == ("done", "successful")


def test_a_partner_declines_with_a_reason(oncall: OnCall) -> None:
    code = refer(oncall, sent=oncall.clock.now)
    oncall.reply(f"{code} DECLINE no bed tonight", PARTNER)
    with Session(oncall.hotline.engine) as session:
        referral = session.exec(select(Referral)).one()
    assert (referral.status, referral.reason) == ("rejected", "no bed tonight")


def test_an_expired_or_wrong_code_is_refused(oncall: OnCall) -> None:
    code = refer(oncall, sent=oncall.clock.now - timedelta(days=31))
    refused = said("fr", ui.PARTNER_REFUSED, hotline_number="0800 000 000")
    assert oncall.reply(f"{code} ACCEPT", PARTNER) == refused
    wrong = "AAAAAA" if code != "AAAAAA" else "CCCCCC"
    assert oncall.reply(f"{wrong} ACCEPT", PARTNER) == refused
    assert referral_status(oncall.hotline.engine) == ("in_progress", None)


def outside_directory(engine: Engine) -> str:
    """Every value of every table but the directory's, as text."""
    chunks: list[str] = []
    with engine.connect() as connection:
        for table in inspect(engine).get_table_names():
            if table != "services":
                rows = connection.execute(text(f'SELECT * FROM "{table}"'))  # noqa: S608
                chunks.extend(str(value) for row in rows for value in row)
    return "\n".join(chunks)


def test_no_number_in_clear_in_the_database_or_the_logs(
    oncall: OnCall, caplog: pytest.LogCaptureFixture
) -> None:
    engine, ref = oncall.hotline.engine, oncall.reference
    code = refer(oncall, sent=oncall.clock.now)
    oncall.reply(f"1 {ref}", AMANI)
    oncall.reply(f"2 {ref}", AMANI)
    oncall.reply(f"1 {ref}", STRANGER)
    oncall.reply(f"{code} ACCEPT", PARTNER)
    oncall.hotline.wait_sent(len(oncall.hotline.replies()))
    numbers = (*TEST_PHONES, STRANGER)
    assert_no_phone_numbers(database_text(engine), caplog.text, numbers=numbers)
    # The service's number is public directory data: in the directory, nowhere else.
    assert_no_phone_numbers(outside_directory(engine), caplog.text, numbers=(PARTNER,))
    assert ref not in caplog.text and code not in caplog.text, "log lines name cases by id"
    sent = {to for to, _ in oncall.hotline.sender.sent}
    assert {AMANI, PARTNER} <= sent, "the provider alone got the numbers"
    with Session(engine) as session:
        operator = session.exec(select(Operator).where(Operator.username == "amani")).one()
        assert operator.phone_contact is not None and operator.phone_contact.startswith("ph_")
    assert queue.counts(engine)["failed"] == 0
