"""SMS over the endpoints Africa's Talking calls: a conversation by text, replies via the outbox.

Every request goes through the real app (``create_app``) on SQLite and PostgreSQL, with the
in-process outbox worker running; only the provider is replaced, by a fake sender that records
what it was asked to send. Delivery reports are posted the way Africa's Talking posts them.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.channels import inbound
from bot.channels.sms import routes
from bot.channels.ussd.routes import session_key
from bot.conversation.service import Conversations
from bot.core.clock import utcnow
from bot.core.privacy import Cipher, new_key, pseudonym
from bot.i18n import ui
from bot.i18n.gsm7 import fold, is_gsm7, sms_parts
from bot.models import DeliveryReport, InboundMessage, OutboundMessage, OutboxStatus
from bot.outbox import queue
from bot.outbox.notify import NullNotifier
from bot.outbox.senders.base import SendResult
from tests.conftest import (
    REDIS_URL,
    TEST_PHONES,
    assert_no_phone_numbers,
    database_text,
    make_app,
    make_settings,
    reachable_redis,
)

TOKEN = "t0k3n-for-tests"
URL = f"/sms/africastalking/{TOKEN}"
REPORT_URL = f"{URL}/delivery"
PHONE = TEST_PHONES[0]
SHORTCODE = "12345"
HOTLINE = "0800 000 000"
PSEUDONYM_KEY = "k" * 32

MENU = "{hotline_name}. You need not give your name."
HELP = (
    "Call the hotline: {hotline_number}. You do not have to give your name. Or we can contact you:"
)
CALL_BACK = "Ask us to contact you"
CALL_BACK_SENT = (
    "Thank you. A hotline worker will try to contact you at the time you chose. "
    "Your reference: {reference}. Help: {hotline_number}"
)
LANGUAGE_MENU = "Choose your language:\n1 English\n2 Francais\n3 Lingala\n4 Sesotho\n0 Exit"
FRENCH_MENU_START = "Helpline. Aide sans donner votre nom."
FRENCH_HELP = (
    "Appelez la ligne d'aide : 0800 000 000. Vous n'avez pas à donner votre nom. "
    "Ou nous pouvons vous contacter :\n1 Etre recontacté(e)\n00 Retour\n0 Quitter"
)
REFERENCE = r"[A-Z0-9]{4}-[0-9]{2}"


@pytest.fixture(autouse=True)
def capture_everything(caplog: pytest.LogCaptureFixture) -> None:
    """Every app log line is captured (and searched for numbers); not the client's URL lines."""
    caplog.set_level(logging.WARNING, logger="httpx")
    caplog.set_level(logging.WARNING, logger="httpx2")
    caplog.set_level(logging.DEBUG)


class FakeSender:
    """Accepts everything and records (recipient, text); the only place a number may go."""

    name = "fake"

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def send(self, to: str, message: str) -> SendResult:
        with self._lock:
            self.sent.append((to, message))
            return SendResult(ok=True, provider_message_id=f"ATXid_out_{len(self.sent)}")


@dataclass
class Reply:
    """An outbox row with its text decrypted."""

    key: str
    text: str
    row: OutboundMessage


@dataclass
class Hotline:
    """The running app, posted to the way Africa's Talking does."""

    app: FastAPI
    client: TestClient
    sender: FakeSender
    engine: Engine
    counter: int = 0
    prefix: str = "ATXid_in_"

    @property
    def cipher(self) -> Cipher:
        cipher: Cipher = self.app.state.cipher
        return cipher

    def post(self, text: str, *, sms_id: str | None = None, phone: str = PHONE) -> Any:
        """One inbound SMS; returns the JSON answer (which must be 200)."""
        if sms_id is None:
            self.counter += 1
            sms_id = f"{self.prefix}{self.counter}"
        response = self.client.post(URL, data=inbound_form(text, sms_id, phone))
        assert response.status_code == 200, response.text
        return response.json()

    def replies(self) -> list[Reply]:
        """Every queued reply, oldest first."""
        with Session(self.engine) as session:
            rows = session.exec(select(OutboundMessage).order_by(OutboundMessage.id)).all()  # type: ignore[arg-type]
        return [Reply(r.key, self.cipher.decrypt(r.body, queue.BODY), r) for r in rows]

    def reply_to(self, sms_id: str) -> str:
        """The text queued in answer to one inbound SMS."""
        [reply] = [r for r in self.replies() if r.key == f"sms-reply:{sms_id}"]
        return reply.text

    def last(self) -> str:
        return self.replies()[-1].text

    def wait_sent(self, count: int, timeout: float = 5.0) -> float:
        """Wait until ``count`` messages left through the sender; returns the seconds it took."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            counts = queue.counts(self.engine)
            if len(self.sender.sent) >= count and counts["sent"] + counts["delivered"] >= count:
                return time.monotonic() - started
            time.sleep(0.01)
        raise AssertionError(
            f"{len(self.sender.sent)} of {count} sent: {queue.counts(self.engine)}"
        )


def inbound_form(text: str, sms_id: str, phone: str = PHONE) -> dict[str, str]:
    """An inbound SMS as Africa's Talking posts it."""
    return {
        "from": phone,
        "to": SHORTCODE,
        "text": text,
        "date": "2026-11-22 07:00:00",
        "id": sms_id,
        "linkId": "",
    }


@pytest.fixture
def start(tmp_path: Path, database_url: str, engine: Engine) -> Iterator[Callable[..., Hotline]]:
    """Start the app with settings overrides; stopped (and its worker with it) after the test."""
    stack: list[TestClient] = []
    keys = new_key()  # one install: a restarted app reads what it wrote before

    def starter(**overrides: Any) -> Hotline:
        overrides.setdefault("encryption_keys", keys)
        # The shared test settings: TOKEN, PSEUDONYM_KEY and HOTLINE are their values.
        app = make_app(make_settings(tmp_path, database_url=database_url, **overrides))
        sender = FakeSender()
        app.state.worker.sender = sender
        client = TestClient(app)
        client.__enter__()
        stack.append(client)
        return Hotline(app, client, sender, engine)

    try:
        yield starter
    finally:
        while stack:
            stack.pop().__exit__(None, None, None)


@pytest.fixture
def hotline(start: Callable[..., Hotline]) -> Hotline:
    return start()


def inbound_rows(engine: Engine) -> list[InboundMessage]:
    with Session(engine) as session:
        return list(session.exec(select(InboundMessage).order_by(InboundMessage.id)).all())  # type: ignore[arg-type]


def translated(hotline: Hotline, lang: str, msgid: str) -> str:
    """A source string as the person reads it: translated, the number filled in, GSM-7 folded."""
    tr: Callable[[str, str], str] = hotline.app.state.content.tr
    text = tr(lang, msgid).replace("{hotline_number}", HOTLINE)
    return fold(text.replace("{hotline_name}", "Helpline"), lang)


def help_menu(hotline: Hotline, lang: str) -> str:
    """The "Get help now" SMS in a language: the free number, then "1 Ask us to contact you"."""
    return "\n".join(
        [
            translated(hotline, lang, HELP),
            "1 " + translated(hotline, lang, CALL_BACK),
            "00 " + translated(hotline, lang, ui.BACK),
            "0 " + translated(hotline, lang, ui.EXIT),
        ]
    )


def ask_for_a_call_back(hotline: Hotline, lang: str, phone: str = PHONE) -> str:
    """From the help menu: call back, morning, phone call; the last reply, checked whole: its
    reference in the person's language and the number. The conversation ends there."""
    for choice in ("1", "1", "1"):
        hotline.post(choice, phone=phone)
    text = hotline.last()
    sent = re.escape(translated(hotline, lang, CALL_BACK_SENT))
    found = re.fullmatch(sent.replace(re.escape("{reference}"), f"({REFERENCE})"), text)
    assert found is not None, text
    assert HOTLINE in text
    return found.group(1)


def check_sms(reply: Reply) -> None:
    """What a basic phone shows without cost surprises: GSM-7, at most two parts."""
    assert is_gsm7(reply.text), reply.text
    assert sms_parts(reply.text) <= 2, reply.text
    assert reply.row.parts == sms_parts(reply.text)


# --- a conversation ---------------------------------------------------------------------------


def test_aide_then_4_gets_french_help_delivered(
    hotline: Hotline, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    assert hotline.post("AIDE", sms_id="ATXid_in_a1") == {"status": "accepted"}
    [menu] = hotline.replies()
    assert menu.key == "sms-reply:ATXid_in_a1"
    assert menu.text.startswith(FRENCH_MENU_START + "\n1 ")
    assert "\n4 Aide immédiate\n" in menu.text and menu.text.endswith("\n0 Quitter")
    assert menu.row.lang == "fr" and menu.row.channel == "sms" and menu.row.purpose == "reply"
    check_sms(menu)

    assert hotline.post("4", sms_id="ATXid_in_a2") == {"status": "accepted"}
    help_reply = hotline.replies()[1]
    assert help_reply.text == FRENCH_HELP
    assert help_reply.row.lang == "fr"
    check_sms(help_reply)

    hotline.wait_sent(2)
    assert Counter(hotline.sender.sent) == Counter([(PHONE, menu.text), (PHONE, FRENCH_HELP)])
    contact = pseudonym(PSEUDONYM_KEY, "phone", PHONE)
    for reply in hotline.replies():
        row = reply.row
        assert row.status == OutboxStatus.SENT
        assert row.recipient is None, "the number is wiped once the provider took the message"
        assert row.provider_message_id in {"ATXid_out_1", "ATXid_out_2"}
        assert row.sent_at is not None and row.attempts == 1 and row.contact == contact
    assert [r.provider_id for r in inbound_rows(engine)] == ["ATXid_in_a1", "ATXid_in_a2"]
    assert not any(r.dropped for r in inbound_rows(engine))
    assert_no_phone_numbers(database_text(engine), caplog.text)


@pytest.mark.parametrize(
    ("keyword", "lang"),
    [("lisalisi", "ln"), ("Thuso!", "st"), ("help", "en"), ("  Aide. ", "fr"), ("HELP", "en")],
)
def test_a_keyword_opens_the_main_menu_in_its_language(
    hotline: Hotline, keyword: str, lang: str
) -> None:
    hotline.post(keyword)
    [menu] = hotline.replies()
    assert menu.text.startswith(translated(hotline, lang, MENU) + "\n1 ")
    assert menu.row.lang == lang
    check_sms(menu)
    hotline.post("4")
    help_reply = hotline.replies()[1]
    assert help_reply.text == help_menu(hotline, lang)
    assert HOTLINE in help_reply.text and help_reply.row.lang == lang
    check_sms(help_reply)


def test_a_keyword_restarts_a_conversation_in_its_language(hotline: Hotline) -> None:
    hotline.post("AIDE")
    hotline.post("THUSO")
    assert hotline.last().startswith(translated(hotline, "st", MENU))
    hotline.post("4")
    assert hotline.last() == help_menu(hotline, "st")


def test_an_unknown_first_message_starts_at_the_language_menu(hotline: Hotline) -> None:
    hotline.post("Hello, I need to talk to someone")
    [first] = hotline.replies()
    assert first.text == LANGUAGE_MENU
    assert first.row.lang == "en"
    hotline.post("2")
    assert hotline.last().startswith(FRENCH_MENU_START + "\n")
    assert hotline.replies()[-1].row.lang == "fr"
    hotline.post("4")
    assert hotline.last() == FRENCH_HELP
    ask_for_a_call_back(hotline, "fr")
    check_sms(hotline.replies()[-1])
    # The conversation ended: the next message starts again, in the language chosen.
    hotline.post("merci")
    assert hotline.last().startswith(FRENCH_MENU_START + "\n")
    assert hotline.replies()[-1].row.lang == "fr"


def test_a_configured_extra_keyword_works(start: Callable[..., Hotline]) -> None:
    hotline = start(sms_keywords="MOSALISI=ln, SAIDA=fr,BROKEN=xx")
    hotline.post("Mosalisi")
    assert hotline.last().startswith(translated(hotline, "ln", MENU))
    hotline.post("saida")
    assert hotline.last().startswith(FRENCH_MENU_START)
    hotline.post("broken")  # an unknown language is ignored: just text on the French menu
    assert hotline.replies()[-1].row.lang == "fr"
    assert not hotline.last().startswith(translated(hotline, "ln", MENU))


def test_each_contact_has_its_own_conversation(hotline: Hotline) -> None:
    hotline.post("AIDE", phone=TEST_PHONES[0])
    hotline.post("THUSO", phone=TEST_PHONES[2])
    hotline.post("4", phone=TEST_PHONES[0])
    hotline.post("4", phone=TEST_PHONES[2])
    texts = [r.text for r in hotline.replies()]
    assert texts[2] == FRENCH_HELP
    assert texts[3] == help_menu(hotline, "st")
    hotline.wait_sent(4)
    assert [to for to, _ in hotline.sender.sent].count(TEST_PHONES[2]) == 2


# --- the language a person chose is remembered (DESIGN §6) -------------------------------------


@pytest.fixture(params=["memory", "redis"])
def any_store(
    request: pytest.FixtureRequest, start: Callable[..., Hotline]
) -> Iterator[Callable[..., Hotline]]:
    """Start the app with sessions in process or in the test Redis (keys removed afterwards;
    a fresh pseudonym key per test, so a remembered language never reaches another run)."""
    started: list[tuple[Hotline, str]] = []

    def starter(**overrides: Any) -> Hotline:
        secret = f"pseudonym-key-{uuid.uuid4().hex}"
        if request.param == "redis":
            overrides.setdefault("redis_url", reachable_redis())
        hotline = start(pseudonym_key=secret, **overrides)
        hotline.prefix = f"ATXid_{uuid.uuid4().hex[:12]}_"
        hotline.app.state.notifier = NullNotifier()  # no delivery jobs left in the test Redis
        started.append((hotline, secret))
        return hotline

    yield starter
    if request.param == "redis":
        for hotline, secret in started:
            drop_redis_keys(hotline, secret)


def drop_redis_keys(hotline: Hotline, secret: str) -> None:
    """Remove what one test wrote to the shared test Redis (never FLUSHDB)."""
    conversations: Conversations = hotline.app.state.conversations
    contacts = [pseudonym(secret, "phone", phone) for phone in TEST_PHONES]
    keys = [f"hotline:{kind}:sms:{c}" for c in contacts for kind in ("session", "lock")]
    keys += [f"hotline:note:{conversations.language_note(c)}" for c in contacts]
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.delete(*keys)
        seen = list(client.scan_iter(match=f"hotline:seen:sms-in:{hotline.prefix}*"))
        if seen:
            client.delete(*seen)
    finally:
        client.close()


def test_the_next_conversation_opens_in_the_chosen_language(
    any_store: Callable[..., Hotline],
) -> None:
    hotline = any_store()
    hotline.post("hello")
    assert hotline.last() == LANGUAGE_MENU
    hotline.post("3")
    hotline.post("4")
    assert hotline.last() == help_menu(hotline, "ln")
    ask_for_a_call_back(hotline, "ln")
    hotline.post("mbote")
    assert hotline.last().startswith(translated(hotline, "ln", MENU) + "\n")
    assert "\n00 " not in hotline.last(), "a new conversation: nothing to go back to"
    # Change language still leads to the language menu, and the new choice is kept.
    hotline.post("6")
    assert "\n1 English\n2 Francais\n3 Lingala\n4 Sesotho\n" in hotline.last()
    hotline.post("4")
    hotline.post("0")
    hotline.post("hello")
    assert hotline.last().startswith(translated(hotline, "st", MENU) + "\n")
    # Another number has nothing remembered.
    hotline.post("hello", phone=TEST_PHONES[1])
    assert hotline.last() == LANGUAGE_MENU


def test_a_keyword_wins_over_the_remembered_language_and_does_not_replace_it(
    any_store: Callable[..., Hotline],
) -> None:
    hotline = any_store()
    hotline.post("hello")
    hotline.post("2")
    hotline.post("0")
    hotline.post("THUSO")
    assert hotline.last().startswith(translated(hotline, "st", MENU) + "\n")
    hotline.post("4")
    assert hotline.last() == help_menu(hotline, "st")
    ask_for_a_call_back(hotline, "st")
    hotline.post("hello")
    assert hotline.last().startswith(FRENCH_MENU_START + "\n")


def test_a_language_chosen_by_ussd_opens_sms_in_it(any_store: Callable[..., Hotline]) -> None:
    """USSD and SMS name a caller by the same pseudonym, so the choice carries over."""
    hotline = any_store()
    session = f"ATUid_{uuid.uuid4().hex}"
    ussd = f"/ussd/africastalking/{TOKEN}"
    for text in ("", "2"):
        data = {"sessionId": session, "serviceCode": "*384*12#", "phoneNumber": PHONE, "text": text}
        assert hotline.client.post(ussd, data=data).status_code == 200
    hotline.post("bonjour")
    assert hotline.last().startswith(FRENCH_MENU_START + "\n")
    if hotline.app.state.settings.redis_url:
        client = redis.Redis.from_url(REDIS_URL)
        try:
            client.delete(f"hotline:session:{session_key(session)}")
        finally:
            client.close()


def test_language_memory_can_be_switched_off_for_sms(any_store: Callable[..., Hotline]) -> None:
    hotline = any_store(language_memory_days=0)
    hotline.post("hello")
    hotline.post("2")
    hotline.post("0")
    hotline.post("hello")
    assert hotline.last() == LANGUAGE_MENU


# --- retries from the provider ----------------------------------------------------------------


def test_a_repeated_sms_is_answered_once(hotline: Hotline, engine: Engine) -> None:
    assert hotline.post("Hello", sms_id="ATXid_in_r1") == {"status": "accepted"}
    assert hotline.post("2", sms_id="ATXid_in_r2") == {"status": "accepted"}
    assert hotline.post("2", sms_id="ATXid_in_r2") == {"status": "duplicate"}
    # Advanced once: still on the French main menu, where 4 is help.
    hotline.post("4", sms_id="ATXid_in_r3")
    assert hotline.reply_to("ATXid_in_r3") == FRENCH_HELP
    assert len(hotline.replies()) == 3
    assert len(inbound_rows(engine)) == 3
    hotline.wait_sent(3)
    time.sleep(0.1)
    assert len(hotline.sender.sent) == 3


def test_a_retry_after_a_restart_is_refused_by_the_database(
    start: Callable[..., Hotline], engine: Engine
) -> None:
    """The in-process store forgets seen ids on restart; the inbound table does not."""
    first = start()
    first.post("AIDE", sms_id="ATXid_in_x1")
    first.wait_sent(1)
    first.client.__exit__(None, None, None)
    second = start()
    assert second.post("AIDE", sms_id="ATXid_in_x1") == {"status": "duplicate"}
    assert len(second.replies()) == 1 and len(inbound_rows(engine)) == 1


@pytest.mark.parametrize("store_forgets", [False, True], ids=["store", "database"])
def test_the_same_sms_posted_at_once_is_answered_once(
    hotline: Hotline, engine: Engine, monkeypatch: pytest.MonkeyPatch, store_forgets: bool
) -> None:
    if store_forgets:  # only the inbound table's unique key stands between the copies

        async def always_new(key: str, ttl: int) -> bool:
            return True

        monkeypatch.setattr(hotline.app.state.store, "add_once", always_new)
    hotline.post("Hello", sms_id="ATXid_in_c1")
    answers: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def post() -> None:
        try:
            barrier.wait(timeout=10)
            response = hotline.client.post(URL, data=inbound_form("2", "ATXid_in_c2"))
            if response.status_code == 503:  # a copy while the first is handled: try later
                answers.append("busy")
                return
            assert response.status_code == 200, response.text
            answers.append(response.json()["status"])
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert Counter(answers)["accepted"] == 1
    assert set(answers) <= {"accepted", "duplicate", "busy"}
    assert len(inbound_rows(engine)) == 2
    assert [r.key for r in hotline.replies()] == ["sms-reply:ATXid_in_c1", "sms-reply:ATXid_in_c2"]
    hotline.post("4", sms_id="ATXid_in_c3")
    assert hotline.reply_to("ATXid_in_c3") == FRENCH_HELP, "the conversation advanced once"
    hotline.wait_sent(3)


# --- floods -----------------------------------------------------------------------------------


def test_a_flood_gets_no_reply_until_the_hour_has_passed(
    start: Callable[..., Hotline],
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [utcnow()]
    monkeypatch.setattr(inbound, "utcnow", lambda: now[0])
    hotline = start(sms_hourly_limit=3)
    for n in range(1, 4):
        assert hotline.post("AIDE", sms_id=f"ATXid_in_f{n}") == {"status": "accepted"}
        now[0] = now[0] + timedelta(minutes=1)
    assert hotline.post("AIDE", sms_id="ATXid_in_f4") == {"status": "flood"}
    assert [r.key for r in hotline.replies()] == [f"sms-reply:ATXid_in_f{n}" for n in (1, 2, 3)]
    assert [r.dropped for r in inbound_rows(engine)] == [False, False, False, True]
    flood_lines = [r for r in caplog.records if r.name == "bot.channels.inbound"]
    assert flood_lines and flood_lines[0].levelno == logging.WARNING
    assert "dropped without reply" in flood_lines[0].getMessage()
    # Someone else is still answered.
    assert hotline.post("HELP", sms_id="ATXid_in_o1", phone=TEST_PHONES[1])["status"] == "accepted"
    # An hour after the last message, this contact is answered again.
    now[0] = now[0] + timedelta(minutes=61)
    assert hotline.post("AIDE", sms_id="ATXid_in_f5") == {"status": "accepted"}
    assert hotline.reply_to("ATXid_in_f5").startswith(FRENCH_MENU_START)
    hotline.wait_sent(5)
    assert_no_phone_numbers(database_text(engine), caplog.text)


SPELLINGS = ("+243000000001", "00243000000001", "243 000 000 001", "+243-000-000-001")
"""TEST_PHONES[0] as a provider or a relay might spell it."""


def test_a_flood_alternating_spellings_of_one_number_is_still_a_flood(
    start: Callable[..., Hotline],
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert SPELLINGS[0] == PHONE
    now = [utcnow()]
    monkeypatch.setattr(inbound, "utcnow", lambda: now[0])
    hotline = start(sms_hourly_limit=3, default_region="CD")
    answers = [
        hotline.post("AIDE", sms_id=f"ATXid_in_s{n}", phone=SPELLINGS[n % len(SPELLINGS)])
        for n in range(8)
    ]
    assert answers == [{"status": "accepted"}] * 3 + [{"status": "flood"}] * 5
    assert [r.key for r in hotline.replies()] == [f"sms-reply:ATXid_in_s{n}" for n in (0, 1, 2)]
    hotline.wait_sent(3)
    assert [to for to, _ in hotline.sender.sent] == [PHONE] * 3, "one number, spelt E.164"
    # Someone else is still answered.
    assert hotline.post("HELP", sms_id="ATXid_in_o1", phone=TEST_PHONES[1])["status"] == "accepted"
    assert_no_phone_numbers(database_text(engine), caplog.text)


def test_a_national_spelling_is_read_in_the_default_region(
    start: Callable[..., Hotline], engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    fiction = "+447700900123"  # Ofcom's range reserved for drama: no one's number
    hotline = start(default_region="GB")
    assert hotline.post("AIDE", sms_id="ATXid_in_n1", phone="07700 900123")["status"] == "accepted"
    hotline.wait_sent(1)
    assert hotline.sender.sent[0][0] == fiction
    # Without a default region, a national spelling is refused: it names no country.
    bare = start()
    response = bare.client.post(URL, data=inbound_form("AIDE", "ATXid_in_n2", "07700 900123"))
    assert response.status_code == 400
    assert_no_phone_numbers(
        database_text(engine), caplog.text, numbers=(fiction, "07700900123", "7700900123")
    )


# --- delivery reports -------------------------------------------------------------------------


def sent_reply(hotline: Hotline, sms_id: str = "ATXid_in_d1") -> OutboundMessage:
    hotline.post("AIDE", sms_id=sms_id)
    hotline.wait_sent(len(hotline.replies()))
    return hotline.replies()[-1].row


def report(hotline: Hotline, token: str = TOKEN, **fields: str) -> Any:
    return hotline.client.post(f"/sms/africastalking/{token}/delivery", data=fields)


def test_a_success_report_marks_the_reply_delivered(hotline: Hotline, engine: Engine) -> None:
    row = sent_reply(hotline)
    assert row.provider_message_id is not None
    response = report(
        hotline,
        id=row.provider_message_id,
        status="Success",
        phoneNumber=PHONE,
        networkCode="63001",
    )
    assert response.status_code == 200 and response.json() == {"status": "recorded"}
    with Session(engine) as session:
        delivered = session.get(OutboundMessage, row.id)
        reports = session.exec(select(DeliveryReport)).all()
    assert delivered is not None
    assert delivered.status == OutboxStatus.DELIVERED and delivered.delivered_at is not None
    assert delivered.delivery_status == "Success"
    assert [(r.outbox_id, r.status, r.failure_reason) for r in reports] == [
        (row.id, "Success", None)
    ]
    assert_no_phone_numbers(database_text(engine))


def test_a_failed_report_keeps_the_reason(hotline: Hotline, engine: Engine) -> None:
    row = sent_reply(hotline)
    assert row.provider_message_id is not None
    for status in ("Sent", "Buffered"):
        assert report(hotline, id=row.provider_message_id, status=status).status_code == 200
    response = report(
        hotline, id=row.provider_message_id, status="Failed", failureReason="InsufficientCredit"
    )
    assert response.status_code == 200
    with Session(engine) as session:
        failed = session.get(OutboundMessage, row.id)
        reports = session.exec(select(DeliveryReport).order_by(DeliveryReport.id)).all()  # type: ignore[arg-type]
    assert failed is not None and failed.status == OutboxStatus.FAILED
    assert failed.failure_reason == "InsufficientCredit"
    assert failed.last_error == "delivery Failed: InsufficientCredit"
    assert [r.status for r in reports] == ["Sent", "Buffered", "Failed"]
    assert reports[-1].failure_reason == "InsufficientCredit"


def test_a_report_for_an_unknown_message_is_kept(hotline: Hotline, engine: Engine) -> None:
    response = report(hotline, id="ATXid_never_sent", status="Rejected", failureReason="x" * 300)
    assert response.status_code == 200 and response.json() == {"status": "unknown message"}
    with Session(engine) as session:
        [kept] = session.exec(select(DeliveryReport)).all()
    assert kept.outbox_id is None and kept.provider_message_id == "ATXid_never_sent"
    assert kept.failure_reason == "x" * 128, "cut to the column, not refused"


@pytest.mark.parametrize(
    "fields",
    [
        {"status": "Success"},
        {"id": "ATXid_1"},
        {"id": "", "status": "Success"},
        {"id": "ATXid_1", "status": "Delivered"},
        {"id": "ATXid_1", "status": "success"},
    ],
    ids=["no-id", "no-status", "empty-id", "unknown-status", "lowercase-status"],
)
def test_a_malformed_report_is_refused(
    hotline: Hotline, engine: Engine, fields: dict[str, str]
) -> None:
    assert report(hotline, **fields).status_code == 400
    with Session(engine) as session:
        assert session.exec(select(DeliveryReport)).all() == []


# --- refusals ---------------------------------------------------------------------------------


def test_a_wrong_token_is_refused_on_each_endpoint(
    hotline: Hotline, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    for token in ("wrong", TOKEN[:-1], TOKEN + "x"):
        inbound_answer = hotline.client.post(
            f"/sms/africastalking/{token}", data=inbound_form("AIDE", "ATXid_in_t1")
        )
        assert inbound_answer.status_code == 403
        assert report(hotline, token=token, id="ATXid_1", status="Success").status_code == 403
    assert inbound_rows(engine) == [] and hotline.replies() == []
    with Session(engine) as session:
        assert session.exec(select(DeliveryReport)).all() == []
    assert "wrong token" in caplog.text and TOKEN not in caplog.text
    # The id was not marked as seen: the genuine callback is still answered.
    assert hotline.post("AIDE", sms_id="ATXid_in_t1") == {"status": "accepted"}


@pytest.mark.parametrize(
    "change",
    [
        {"from": ""},
        {"text": ""},
        {"id": ""},
        {"from": "anonymous"},
        {"from": "+999 000 000 001"},
        {"from": "+243000000001; DROP"},
        {"from": "0" * 16},
        {"id": "x" * 129},
        {"text": "a" * 2001},
    ],
    ids=[
        "no-from",
        "no-text",
        "no-id",
        "from-not-a-number",
        "from-unknown-country",
        "from-with-junk",
        "from-national-no-region",
        "long-id",
        "long-text",
    ],
)
def test_a_malformed_sms_is_refused_and_changes_nothing(
    hotline: Hotline, engine: Engine, change: dict[str, str]
) -> None:
    data = inbound_form("AIDE", "ATXid_in_m1")
    data.update(change)
    assert hotline.client.post(URL, data=data).status_code == 400
    assert inbound_rows(engine) == [] and hotline.replies() == []


def test_a_message_that_failed_is_processed_when_the_provider_retries(
    hotline: Hotline, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure after the id was recorded must not swallow the retry: 503, then a reply."""
    conversations = hotline.app.state.conversations
    real_start = conversations.start
    calls = {"n": 0}

    async def flaky_start(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("database unavailable")
        return await real_start(*args, **kwargs)

    monkeypatch.setattr(conversations, "start", flaky_start)
    failed = hotline.client.post(URL, data=inbound_form("AIDE", "ATXid_in_f1"))
    assert failed.status_code == 503
    assert hotline.replies() == [] and inbound_rows(engine) == []
    assert hotline.post("AIDE", sms_id="ATXid_in_f1") == {"status": "accepted"}
    assert len(hotline.replies()) == 1 and len(inbound_rows(engine)) == 1


@pytest.mark.parametrize("store", ["memory", "redis"])
def test_an_sms_handled_when_the_app_crashes_gets_its_reply_on_the_retry(
    start: Callable[..., Hotline],
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    store: str,
) -> None:
    """Crash after the conversation step, before the reply is committed: the id is not seen
    yet, so the provider's retry is answered (503 "busy" while the claim is fresh)."""
    overrides: dict[str, Any] = {"pseudonym_key": f"k-{uuid.uuid4().hex}"}
    if store == "redis":
        overrides["redis_url"] = reachable_redis()
    first = start(**overrides)
    first.app.state.notifier = NullNotifier()
    sms_id = f"ATXid_crash_{uuid.uuid4().hex[:8]}"
    real_queue_reply = routes._queue_reply

    def crash(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("the process dies here")

    # A crash: the step ran, the reply was never committed, and no clean-up ran.
    monkeypatch.setattr(routes, "_queue_reply", crash)
    monkeypatch.setattr(inbound, "forget", lambda *args, **kwargs: None)
    assert first.client.post(URL, data=inbound_form("AIDE", sms_id)).status_code == 503
    monkeypatch.setattr(routes, "_queue_reply", real_queue_reply)
    assert first.replies() == [] and len(inbound_rows(engine)) == 1

    # The app restarts; Africa's Talking retries at once, then later.
    second = start(**overrides)
    retry = second.client.post(URL, data=inbound_form("AIDE", sms_id))
    assert retry.status_code == 503 and retry.headers["Retry-After"] == "30"
    later = utcnow() + inbound.CLAIM + timedelta(seconds=1)
    monkeypatch.setattr(inbound, "utcnow", lambda: later)
    assert second.post("AIDE", sms_id=sms_id) == {"status": "accepted"}
    assert second.reply_to(sms_id).startswith(FRENCH_MENU_START)
    if store == "memory":  # with Redis, `hotline worker` delivers (tests/jobs)
        second.wait_sent(1)
    assert second.post("AIDE", sms_id=sms_id) == {"status": "duplicate"}
    assert len(second.replies()) == 1 and len(inbound_rows(engine)) == 1
