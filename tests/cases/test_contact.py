"""Reaching a person back: what a case keeps on each channel, and a message through the bot."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.cases.access import Conflict, NotPermitted
from bot.cases.contact import Reach, message_person, reach, telegram_chat
from bot.cases.intake import CasesSink
from bot.engine.state import Event
from bot.models import Case, OutboundMessage
from tests.cases.casework import Quiet, actions, timeline, work
from tests.cases.helpers import CATALOGS, CIPHER, T0, team
from tests.conftest import TEST_PHONES, assert_no_phone_numbers, database_text

CHAT = 700000009
EVENTS = itertools.count()
CONSENTED = {"consent_contact": "yes", "safe_time": "evening"}


def call_back(engine: Engine, channel: str, address: str | None, **answers: str) -> str:
    """A call-back case as the help flow files it on a channel."""
    event = Event(
        "callback_requested",
        {
            "event_id": f"call-back:{next(EVENTS)}",
            "lang": "en",
            "priority": "P2",
            "answers": {**CONSENTED, **answers},
        },
    )
    sink = CasesSink(engine, CIPHER, CATALOGS.gettext, Quiet, clock=lambda: T0)
    return sink.commit(event, channel=channel, contact="tg_x", address=address)[0]


def kept(engine: Engine, reference: str) -> tuple[str | None, Case]:
    with Session(engine) as session:
        case = session.exec(select(Case).where(Case.reference == reference)).one()
    address = (
        CIPHER.decrypt(case.contact_phone, "case.contact_phone") if case.contact_phone else None
    )
    return address, case


@pytest.mark.parametrize(
    ("channel", "address", "answers", "expected"),
    [
        ("sms", TEST_PHONES[0], {"contact_method": "sms"}, Reach(TEST_PHONES[0], "sms")),
        (
            "telegram",
            str(CHAT),
            {"contact_method": "telegram"},
            Reach(f"telegram:{CHAT}", "telegram"),
        ),
        (
            "telegram",
            str(CHAT),
            {"contact_method": "call", "callback_number": "00243 000 000 001"},
            Reach("+243000000001", "call"),
        ),
        (
            "telegram",
            str(CHAT),
            {"contact_method": "call", "callback_number": "call me"},
            Reach(f"telegram:{CHAT}", "telegram"),
        ),
        ("telegram", None, {"contact_method": "telegram"}, Reach(None, "telegram")),
    ],
)
def test_a_case_keeps_a_way_the_team_can_really_use(
    channel: str, address: str | None, answers: dict[str, str], expected: Reach
) -> None:
    """A number on USSD/SMS; on Telegram the chat, or a typed number only when it is one."""
    assert reach(channel, address, answers) == expected


def test_a_telegram_chat_is_kept_encrypted_and_only_with_consent(engine: Engine) -> None:
    with_consent = call_back(engine, "telegram", str(CHAT), contact_method="telegram")
    address, _ = kept(engine, with_consent)
    assert address == f"telegram:{CHAT}" and telegram_chat(address) == CHAT
    refused = call_back(engine, "telegram", str(CHAT), consent_contact="no")
    assert kept(engine, refused)[0] is None
    assert str(CHAT) not in database_text(engine)
    assert telegram_chat(TEST_PHONES[0]) is None and telegram_chat("telegram:x") is None


def test_an_operator_message_goes_to_the_chat_through_the_outbox(engine: Engine) -> None:
    team(engine)
    reference = call_back(engine, "telegram", str(CHAT), contact_method="telegram")
    with work(engine, reference, "joseph") as (session, case, joseph):
        queued = message_person(
            session, CIPHER, case=case, actor=joseph, body=" On peut parler ? ", now=T0
        )
    with Session(engine) as session:
        message = session.get(OutboundMessage, queued)
        assert message is not None and message.channel == "telegram" and message.recipient
        assert CIPHER.decrypt(message.recipient, "outbox.recipient") == str(CHAT)
    assert ("message", "joseph") in timeline(engine, reference)
    assert ("message", "joseph") in actions(engine, reference)
    assert "On peut parler" not in database_text(engine) and str(CHAT) not in database_text(engine)


def test_no_message_without_a_chat_or_by_someone_not_holding_the_case(engine: Engine) -> None:
    team(engine)
    sms = call_back(engine, "sms", TEST_PHONES[1], contact_method="sms")
    with work(engine, sms, "joseph") as (session, case, joseph), pytest.raises(Conflict):
        message_person(session, CIPHER, case=case, actor=joseph, body="Hello", now=T0)
    telegram = call_back(engine, "telegram", str(CHAT), contact_method="telegram")
    with work(engine, telegram, "amani") as (session, case, amani), pytest.raises(NotPermitted):
        message_person(session, CIPHER, case=case, actor=amani, body="Hello", now=T0)
    with work(engine, telegram, "joseph") as (session, case, joseph), pytest.raises(ValueError):
        message_person(session, CIPHER, case=case, actor=joseph, body="  ", now=T0)
    assert_no_phone_numbers(database_text(engine))
