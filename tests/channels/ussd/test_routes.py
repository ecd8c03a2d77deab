"""USSD over the endpoint Africa's Talking calls: what a person on a basic phone gets back.

Every request goes through the real app (``create_app``) on both databases and, for the paths
where sessions matter, on both session stores (in-process and real Redis). Africa's Talking
sends ``text`` as every input of the session joined by ``*``; these tests send it that way.

These tests are about the channel: screens, replays, expiry, odd inputs, refusals, privacy.
Most walk the main menu to "Get help now" (4): a menu with the hotline number and "1 Ask for a
call back", whose END (1 call back, 1 morning, 1 phone call) shows a reference. Every flow from
start to finish, and the cases they create, are covered in tests/flows/test_ussd_paths.py.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qsl

import httpx2
import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.channels.ussd.routes import MAX_TEXT, REQUIRED, new_inputs, parse_form, session_key
from bot.content.files import Content
from bot.conversation.service import Conversations
from bot.core.privacy import pseudonym
from bot.core.settings import Settings
from bot.engine.registry import FlowRegistry
from bot.engine.runner import advance
from bot.engine.state import SessionState, Step
from bot.i18n import ui
from bot.i18n.gsm7 import fits_ussd, fold, is_gsm7
from bot.models import Case, OutboundMessage
from bot.outbox import keys
from bot.sessions import SessionStore
from bot.sessions.base import Held
from tests.conftest import (
    REDIS_URL,
    TEST_PHONES,
    assert_no_phone_numbers,
    database_text,
    make_app,
    reachable_redis,
)
from tests.conftest import make_settings as shared_settings

TOKEN = "t0k3n-for-tests"
URL = f"/ussd/africastalking/{TOKEN}"
END_URL = f"{URL}/end"
SERVICE_CODE = "*384*12#"
PHONE = TEST_PHONES[0]
HOTLINE = "0800 000 000"
SCREEN_MAX = 4 + 182  # "CON " / "END " and one screen of GSM-7 characters

LANG_KEYS = {"en": "1", "fr": "2", "ln": "3", "st": "4"}
LANGUAGE_MENU = "CON Choose your language:\n1 English\n2 Francais\n3 Lingala\n4 Sesotho\n0 Exit"
MENU_WORD = {"en": "Report something", "fr": "Signaler", "ln": "Koyebisa", "st": "Tlaleha"}
EXIT_LINE = {"en": "0 Exit", "fr": "0 Quitter", "ln": "0 Kobima", "st": "0 Tsoa"}
HELP_WORD = {"en": "Call the hotline", "fr": "Appelez", "ln": "Benga", "st": "Letsetsa"}
CALL_BACK_LINE = {
    "en": "1 Ask us to contact you",
    "fr": "1 Etre recontacté(e)",
    "ln": "1 Senga tosolola na yo",
    "st": "1 Kopa hore re ikopanye le uena",
}
CALL_BACK = "1*1*1"  # on the help menu: Ask us to contact you, Morning, Phone call
THANKS_WORD = {"en": "Thank you.", "fr": "Merci.", "ln": "Matondi.", "st": "Kea leboha."}
TIP_FIRST = {
    "en": "What is happening?",
    "fr": "Que se passe-t-il ?",
    "ln": "Nini ezali kosalema?",
    "st": "Ho etsahala eng?",
}
REFERENCE = re.compile(r"\b[A-Z0-9]{4}-[0-9]{2}\b")


@pytest.fixture(autouse=True)
def quiet_test_client(caplog: pytest.LogCaptureFixture) -> None:
    """Capture every app log line; the test client's own request lines (URLs) are left out."""
    caplog.set_level(logging.WARNING, logger="httpx2")
    caplog.set_level(logging.WARNING, logger="httpx")
    caplog.set_level(logging.DEBUG)  # last: it also sets the capture handler's level


def make_settings(tmp_path: Path, database_url: str | None = None, **overrides: Any) -> Settings:
    """Settings for one test: its own database (a migrated SQLite copy when none is given),
    secrets file and keys."""
    values: dict[str, Any] = {
        "callback_token": TOKEN,
        # Per test: a remembered language (kept under the contact's pseudonym for days) never
        # reaches another test, nor another run sharing the test Redis.
        "pseudonym_key": f"pseudonym-key-{uuid.uuid4().hex}",
        "public_number": HOTLINE,
    }
    if database_url is not None:
        values["database_url"] = database_url
    return shared_settings(tmp_path, **{**values, **overrides})


def new_session() -> str:
    """A session id shaped like Africa's Talking's; unique so shared Redis never mixes tests."""
    return f"ATUid_{uuid.uuid4().hex}"


def check_screen(body: str) -> None:
    """What any basic phone can show: CON/END, one screen, GSM-7 only."""
    assert body.startswith(("CON ", "END ")), body
    assert len(body) <= SCREEN_MAX, (len(body), body)
    screen = body[4:]
    assert is_gsm7(screen), body
    assert fits_ussd(screen), body


def form(session_id: str, text: str, **fields: str) -> dict[str, str]:
    """A callback form as Africa's Talking posts it."""
    data = {
        "sessionId": session_id,
        "serviceCode": SERVICE_CODE,
        "phoneNumber": PHONE,
        "networkCode": "63001",
        "text": text,
    }
    data.update(fields)
    return data


@dataclass
class Line:
    """The running app, talked to the way Africa's Talking does."""

    client: TestClient
    app: FastAPI
    redis_url: str | None = None
    sessions: list[str] = field(default_factory=list)

    @property
    def store(self) -> SessionStore:
        store: SessionStore = self.app.state.store
        return store

    def post(self, session_id: str, text: str, **fields: str) -> httpx2.Response:
        """One USSD request, whatever the answer."""
        self.sessions.append(session_id)
        return self.client.post(URL, data=form(session_id, text, **fields))

    def screen(self, session_id: str, text: str, **fields: str) -> str:
        """One USSD request that must be answered with a screen a phone can show."""
        response = self.post(session_id, text, **fields)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/plain")
        check_screen(response.text)
        return response.text

    def end(self, session_id: str, token: str = TOKEN) -> httpx2.Response:
        """Africa's Talking's end-of-session notification."""
        data = {"sessionId": session_id, "status": "Success", "durationInMillis": "4200"}
        return self.client.post(f"/ussd/africastalking/{token}/end", data=data)

    def stored(self, session_id: str) -> dict[str, Any] | None:
        """What the session store keeps for a USSD session."""
        portal = self.client.portal
        assert portal is not None
        value: dict[str, Any] | None = portal.call(self.store.get, session_key(session_id))
        return value

    def forget(self, session_id: str) -> None:
        """Drop a session as an expired TTL would."""
        portal = self.client.portal
        assert portal is not None
        portal.call(self.store.delete, session_key(session_id))


@contextmanager
def running(settings: Settings) -> Iterator[Line]:
    """Start the app like uvicorn would; afterwards drop this test's keys from a shared Redis."""
    app = make_app(settings)
    line = Line(TestClient(app), app, settings.redis_url)
    try:
        with line.client:
            yield line
    finally:
        if settings.redis_url:
            _drop_keys(settings.redis_url, line.sessions, language_notes(app, settings))


def language_notes(app: FastAPI, settings: Settings) -> list[str]:
    """The store keys a remembered language of each test phone would live under."""
    conversations: Conversations = app.state.conversations
    secret = settings.pseudonym_key.get_secret_value() if settings.pseudonym_key else ""
    return [conversations.language_note(pseudonym(secret, "phone", p)) for p in TEST_PHONES]


def _drop_keys(url: str, sessions: list[str], notes: list[str]) -> None:
    """Delete the keys of these USSD sessions and notes from a shared Redis (never FLUSHDB)."""
    client = redis.Redis.from_url(url)
    try:
        for session_id in set(sessions):
            key = session_key(session_id)
            client.delete(f"hotline:session:{key}", f"hotline:lock:{key}")
        client.delete(*(f"hotline:note:{note}" for note in notes))
    finally:
        client.close()


@pytest.fixture(params=["memory", "redis"])
def store_url(request: pytest.FixtureRequest) -> str | None:
    """Sessions in process (None) or in the test Redis."""
    return reachable_redis() if request.param == "redis" else None


@pytest.fixture
def line(tmp_path: Path, database_url: str, store_url: str | None) -> Iterator[Line]:
    """The app on each database x each session store."""
    with running(make_settings(tmp_path, database_url, redis_url=store_url)) as started:
        yield started


@pytest.fixture
def advances(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every input the engine is asked to apply, in order."""
    applied: list[str] = []

    def counting_advance(registry: FlowRegistry, saved: SessionState, raw: str, tr: Any) -> Step:
        applied.append(raw)
        return advance(registry, saved, raw, tr)

    monkeypatch.setattr("bot.conversation.service.advance", counting_advance)
    return applied


@pytest.fixture
def memory_line(tmp_path: Path, database_url: str) -> Iterator[Line]:
    """The app on each database, sessions in process."""
    with running(make_settings(tmp_path, database_url)) as started:
        yield started


@pytest.fixture
def light_line(tmp_path: Path) -> Iterator[Line]:
    """The embedded default (SQLite, sessions in process): for refusals and odd inputs."""
    with running(make_settings(tmp_path)) as started:
        yield started


def main_menu_lines(body: str) -> list[str]:
    """The option and navigation lines of a menu screen (its first line is text or a hint)."""
    return body.split("\n")[1:]


def hint(line: Line, lang: str) -> str:
    """The 'reply with a number' hint as a phone shows it in a language."""
    content: Content = line.app.state.content
    return fold(content.tr(lang, ui.HINT_CHOICE), lang)


def every_page(line: Line, sid: str, text: str) -> tuple[list[str], str]:
    """A screen and each page after it (98 More), as Africa's Talking sends them; and the
    ``text`` of the last request."""
    pages = [line.screen(sid, text)]
    while "\n98 " in pages[-1]:
        text += "*98"
        pages.append(line.screen(sid, text))
    return pages, text


def option_rows(pages: Sequence[str]) -> list[str]:
    """The numbered options over pages (More, Back and Exit left out)."""
    rows = [row for page in pages for row in page[4:].split("\n")]
    return [row for row in rows if re.match(r"^[1-9]\d? ", row) and not row.startswith("98 ")]


def assert_hinted(pages: Sequence[str], menu: str, hinted_by: str) -> None:
    """The hint, then the menu's question, then every option of the menu over the pages."""
    question = menu.split("\n")[0].removeprefix("CON ")
    assert pages[0].split("\n")[:2] == ["CON " + hinted_by, question], pages
    assert option_rows(pages) == option_rows([menu]), pages


def is_help_menu(body: str, lang: str) -> bool:
    """The "Get help now" menu in a language: the free number, then "1 Ask us to contact you"."""
    rows = main_menu_lines(body)
    return (
        body.startswith("CON " + HELP_WORD[lang])
        and HOTLINE in body.split("\n", 1)[0]
        and rows[0] == CALL_BACK_LINE[lang]
        and rows[-1] == EXIT_LINE[lang]
    )


def is_call_back_end(body: str, lang: str) -> bool:
    """The last screen of a call back request in a language: a reference and the number."""
    return (
        body.startswith("END " + THANKS_WORD[lang])
        and REFERENCE.search(body) is not None
        and HOTLINE in body
    )


def cases(line: Line) -> list[Case]:
    """Every case the app stored (a call back request becomes one)."""
    engine: Engine = line.app.state.engine
    with Session(engine) as session:
        return list(session.exec(select(Case)).all())


# --- the shipped flow, end to end -------------------------------------------------------------


@pytest.mark.parametrize("lang", list(LANG_KEYS))
def test_full_path_to_help_in_each_language(line: Line, lang: str) -> None:
    sid = new_session()
    key = LANG_KEYS[lang]

    assert line.screen(sid, "") == LANGUAGE_MENU

    menu = line.screen(sid, key)
    assert menu.startswith("CON ")
    assert MENU_WORD[lang] in menu
    rows = main_menu_lines(menu)
    assert [row.split(" ", 1)[0] for row in rows] == ["1", "2", "3", "4", "5", "6", "00", "0"]
    assert rows[-1] == EXIT_LINE[lang]

    help_menu = line.screen(sid, f"{key}*4")
    assert is_help_menu(help_menu, lang), help_menu
    assert line.screen(sid, f"{key}*4*1").startswith("CON ")  # when is it safe
    assert line.screen(sid, f"{key}*4*1*1").startswith("CON ")  # call or SMS
    end = line.screen(sid, f"{key}*4*{CALL_BACK}")
    assert is_call_back_end(end, lang), end


@pytest.mark.parametrize("lang", list(LANG_KEYS))
def test_report_something_opens_the_tip_flow_in_each_language(memory_line: Line, lang: str) -> None:
    # The tip's first question, in the person's language, with a way back and out.
    sid = new_session()
    key = LANG_KEYS[lang]
    line = memory_line
    line.screen(sid, "")
    line.screen(sid, key)
    body = line.screen(sid, f"{key}*1")
    assert body.startswith("CON " + TIP_FIRST[lang] + "\n1 "), body
    rows = main_menu_lines(body)
    assert rows[-1] == EXIT_LINE[lang] and rows[-2].startswith("00 ")


def test_zero_on_the_main_menu_says_goodbye_in_the_person_s_language(light_line: Line) -> None:
    sid = new_session()
    light_line.screen(sid, "")
    light_line.screen(sid, "2")
    body = light_line.screen(sid, "2*0")
    assert body == "END Merci. Prenez soin de vous. Vous pouvez revenir à tout moment."


# --- inputs dialled with the code (*384*12*3# -> text "3") -----------------------------------


def test_a_dialled_language_lands_on_the_lingala_main_menu(memory_line: Line) -> None:
    sid = new_session()
    body = memory_line.screen(sid, "3")
    assert body.startswith("CON ")
    assert MENU_WORD["ln"] in body
    assert main_menu_lines(body)[-1] == EXIT_LINE["ln"]
    # ... and the session goes on from there.
    follow = memory_line.screen(sid, "3*4")
    assert is_help_menu(follow, "ln"), follow


def test_dialled_language_and_choice_land_on_lingala_help(memory_line: Line) -> None:
    body = memory_line.screen(new_session(), "3*4")
    assert is_help_menu(body, "ln"), body
    # Dialled inputs never send a request: they stop on the screen that would send it.
    sid = new_session()
    method = memory_line.screen(sid, f"3*4*{CALL_BACK}")
    assert method.startswith("CON ") and REFERENCE.search(method) is None, method
    assert cases(memory_line) == []
    # The person answers that screen themselves: now it is sent.
    end = memory_line.screen(sid, f"3*4*{CALL_BACK}*1")
    assert is_call_back_end(end, "ln"), end
    # Inputs dialled past it are not applied either: the same screen, nothing sent.
    past = memory_line.screen(new_session(), f"3*4*{CALL_BACK}*9")
    assert past == method
    assert len(cases(memory_line)) == 1


# --- the language a caller chose is remembered (DESIGN §6) -------------------------------------


def is_main_menu(body: str, lang: str) -> bool:
    """A main menu in a language, opened at the start of a session (no 00 Back)."""
    return (
        body.startswith("CON ")
        and MENU_WORD[lang] in body
        and main_menu_lines(body)[-1] == EXIT_LINE[lang]
        and not any(row.startswith("00 ") for row in main_menu_lines(body))
    )


def is_language_menu(body: str) -> bool:
    """The language menu, whatever language its title is in."""
    return body.startswith("CON ") and "\n1 English\n2 Francais\n3 Lingala\n4 Sesotho\n" in body


def choose(line: Line, lang: str, phone: str = PHONE) -> None:
    """A whole session: the language menu, a language, then the session ends."""
    sid = new_session()
    assert line.screen(sid, "", phoneNumber=phone) == LANGUAGE_MENU
    assert MENU_WORD[lang] in line.screen(sid, LANG_KEYS[lang], phoneNumber=phone)
    assert line.end(sid).status_code == 200


def test_the_next_session_opens_the_main_menu_in_the_chosen_language(line: Line) -> None:
    choose(line, "fr")
    sid = new_session()
    first = line.screen(sid, "")
    assert is_main_menu(first, "fr"), first
    # "Change language" still leads to the language menu; the new choice is remembered.
    assert is_language_menu(line.screen(sid, "6"))
    lingala = line.screen(sid, "6*3")
    assert MENU_WORD["ln"] in lingala and "\n00 " in lingala  # mid-session: back is offered
    help_screen = line.screen(sid, "6*3*4")
    assert is_help_menu(help_screen, "ln"), help_screen
    assert is_main_menu(line.screen(new_session(), ""), "ln")


def test_choosing_the_default_language_is_remembered_too(line: Line) -> None:
    choose(line, "en")
    assert is_main_menu(line.screen(new_session(), ""), "en")


def test_each_number_has_its_own_language(line: Line) -> None:
    choose(line, "st", phone=TEST_PHONES[0])
    assert line.screen(new_session(), "", phoneNumber=TEST_PHONES[1]) == LANGUAGE_MENU
    assert is_main_menu(line.screen(new_session(), "", phoneNumber=TEST_PHONES[0]), "st")


def test_going_back_to_the_language_menu_without_choosing_keeps_the_language(line: Line) -> None:
    choose(line, "fr")
    sid = new_session()
    line.screen(sid, "")
    assert is_language_menu(line.screen(sid, "6"))
    assert line.screen(sid, "6*0").startswith("END ")
    assert is_main_menu(line.screen(new_session(), ""), "fr")


def test_a_dialled_shortcut_means_what_it_always_means(line: Line) -> None:
    """Inputs dialled with the code start at the language menu whatever is remembered, so
    ``*384*12*3#`` is Lingala for everyone; that choice is then remembered."""
    choose(line, "fr")
    body = line.screen(new_session(), "3")
    assert MENU_WORD["ln"] in body
    assert is_main_menu(line.screen(new_session(), ""), "ln")


def test_a_repeated_first_request_of_a_remembered_session_gets_the_same_menu(line: Line) -> None:
    choose(line, "st")
    sid = new_session()
    first = line.screen(sid, "")
    assert line.screen(sid, "") == first
    assert is_help_menu(line.screen(sid, "4"), "st")


# --- a session whose state is lost after it opened at the remembered main menu -----------------


def test_a_lost_session_that_opened_at_the_remembered_menu_goes_on_from_there(line: Line) -> None:
    """Replayed from the language menu, "4" (Get help now on the French main menu) would
    choose Sesotho: the replay starts at the main menu the session opened at."""
    choose(line, "fr")
    sid, control = new_session(), new_session()
    texts = ["", "4", f"4*{CALL_BACK[:1]}", f"4*{CALL_BACK[:3]}"]
    expected = [line.screen(control, text) for text in texts]
    assert is_main_menu(expected[0], "fr") and is_help_menu(expected[1], "fr")
    for text, screen in zip(texts, expected, strict=True):
        assert line.screen(sid, text) == screen, text
        line.forget(sid)  # the state is lost after every screen (deleted from the store)
    # Lost before the call back is sent: the replay stops on the screen that sends it.
    assert line.screen(sid, f"4*{CALL_BACK}") == expected[-1]
    assert cases(line) == []
    final = line.screen(sid, f"4*{CALL_BACK}*1")
    assert is_call_back_end(final, "fr"), final
    assert len(cases(line)) == 1


def test_a_lost_session_that_changed_language_goes_on_from_the_menu_it_opened_at(
    line: Line,
) -> None:
    choose(line, "fr")
    sid = new_session()
    assert is_main_menu(line.screen(sid, ""), "fr")
    assert is_language_menu(line.screen(sid, "6"))
    line.screen(sid, "6*3")  # Lingala, remembered from now on
    line.forget(sid)
    help_screen = line.screen(sid, "6*3*4")
    assert is_help_menu(help_screen, "ln"), help_screen
    assert is_main_menu(line.screen(new_session(), ""), "ln")


def test_a_lost_session_that_began_at_the_language_menu_is_replayed_from_there(
    line: Line,
) -> None:
    sid = new_session()
    assert line.screen(sid, "") == LANGUAGE_MENU
    line.screen(sid, "2")
    line.forget(sid)
    assert is_help_menu(line.screen(sid, "2*4"), "fr")


def test_language_memory_can_be_switched_off(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(tmp_path, database_url, language_memory_days=0)
    with running(settings) as line:
        choose(line, "fr")
        assert line.screen(new_session(), "") == LANGUAGE_MENU


def test_the_language_is_kept_for_days_under_a_pseudonym_not_the_number(
    tmp_path: Path, database_url: str
) -> None:
    settings = make_settings(
        tmp_path, database_url, redis_url=reachable_redis(), language_memory_days=7
    )
    with running(settings) as line:
        choose(line, "ln")
        note = language_notes(line.app, settings)[0]
        client = redis.Redis.from_url(REDIS_URL)
        try:
            sealed = cast(bytes, client.get(f"hotline:note:{note}"))  # sealed with the app's keys
            opened = line.app.state.cipher.decrypt(sealed.decode(), f"session.note:{note}")
            assert opened.startswith("ln:")
            assert 6 * 86400 < cast(int, client.ttl(f"hotline:note:{note}")) <= 7 * 86400
        finally:
            client.close()
        contact = pseudonym(
            settings.pseudonym_key.get_secret_value() if settings.pseudonym_key else "",
            "phone",
            PHONE,
        )
        dump, _ = redis_text(REDIS_URL)
        assert note in dump
        assert_no_phone_numbers(dump)
        assert contact not in dump, "the key is derived from the pseudonym, not the pseudonym"


# --- replays: the same (sessionId, text) again never advances ----------------------------------


def test_a_repeated_request_gets_the_same_screen_and_does_not_advance(line: Line) -> None:
    sid = new_session()
    line.screen(sid, "")
    first = line.screen(sid, "2")
    again = line.screen(sid, "2")
    # Applied twice, "2" on the main menu would open "Check my situation".
    assert again == first
    assert MENU_WORD["fr"] in again
    stored = line.stored(sid)
    assert stored is not None
    assert stored["state"] == "menu" and stored["lang"] == "fr"
    assert stored["inputs"] == ["2"]
    # The next input still does what the person expects.
    assert line.screen(sid, "2*7").startswith("CON " + hint(line, "fr"))
    assert line.screen(sid, "2*7") == line.screen(sid, "2*7")
    final = line.screen(sid, "2*7*4")
    assert is_help_menu(final, "fr"), final


def test_a_repeated_final_request_gets_the_same_end_again(line: Line, advances: list[str]) -> None:
    sid = new_session()
    line.screen(sid, "")
    for text in ("4", "4*4", "4*4*1", "4*4*1*1"):
        line.screen(sid, text)
    final = line.screen(sid, f"4*4*{CALL_BACK}")
    assert is_call_back_end(final, "st"), final
    assert advances == ["4", "4", "1", "1", "1"]
    assert line.screen(sid, f"4*4*{CALL_BACK}") == final
    assert line.screen(sid, f"4*4*{CALL_BACK}") == final
    # Answered from the kept last screen: nothing is run (or submitted) a second time.
    assert advances == ["4", "4", "1", "1", "1"]
    [case] = cases(line)
    assert case.reference in final
    stored = line.stored(sid)
    assert stored is not None and "flow" not in stored, "an ended session keeps its last screen"


def test_a_repeated_first_request_shows_the_language_menu_again(line: Line) -> None:
    sid = new_session()
    assert line.screen(sid, "") == LANGUAGE_MENU
    assert line.screen(sid, "") == LANGUAGE_MENU
    menu = line.screen(sid, "1")
    assert MENU_WORD["en"] in menu


# --- inputs a screen does not accept -----------------------------------------------------------


@pytest.mark.parametrize("lang", list(LANG_KEYS))
def test_a_number_not_on_the_menu_shows_the_menu_again_with_a_hint(
    memory_line: Line, lang: str
) -> None:
    sid = new_session()
    key = LANG_KEYS[lang]
    memory_line.screen(sid, "")
    menu = memory_line.screen(sid, key)
    pages, text = every_page(memory_line, sid, f"{key}*7")
    assert_hinted(pages, menu, hint(memory_line, lang))
    if lang != "en":
        assert hint(memory_line, lang) != hint(memory_line, "en"), "hint not translated"
    # The person can still go on from the same menu.
    final = memory_line.screen(sid, f"{text}*4")
    assert is_help_menu(final, lang), final


@pytest.mark.parametrize(
    "typed",
    ["", "#", "4#", "😀", "4😀", "*", "٤", "\u200b", "<script>", "' OR 1=1 --", "%00"],
    ids=[
        "empty",
        "hash",
        "digit-hash",
        "emoji",
        "digit-emoji",
        "star",
        "arabic-four",
        "zero-width-space",
        "markup",
        "sql",
        "percent",
    ],
)
def test_odd_input_on_the_main_menu_gets_the_hint_never_an_error(
    light_line: Line, typed: str
) -> None:
    sid = new_session()
    light_line.screen(sid, "")
    menu = light_line.screen(sid, "2")
    pages, text = every_page(light_line, sid, f"2*{typed}")
    assert_hinted(pages, menu, hint(light_line, "fr"))
    after = light_line.screen(sid, f"{text}*4")
    assert is_help_menu(after, "fr"), after


def test_a_star_typed_on_the_language_menu_is_one_answer_not_two(light_line: Line) -> None:
    # After an empty first request, AT's next text is exactly what the person typed: "4*4"
    # is one (invalid) answer. Dialled with the code it would be two (Sesotho, then help).
    sid = new_session()
    light_line.screen(sid, "")
    body = light_line.screen(sid, "4*4")
    assert body == "CON " + hint(light_line, "en") + "\n" + LANGUAGE_MENU[4:]
    dialled = light_line.screen(new_session(), "4*4")
    assert is_help_menu(dialled, "st"), dialled


def test_an_input_with_a_star_inside_is_one_answer_on_the_main_menu(light_line: Line) -> None:
    sid = new_session()
    light_line.screen(sid, "")
    light_line.screen(sid, "1")
    assert light_line.screen(sid, "1*4*4").startswith("CON " + hint(light_line, "en"))
    stored = light_line.stored(sid)
    assert stored is not None and stored["state"] == "menu" and stored["inputs"] == ["1"]


# --- parse_form: Africa's Talking's urlencoded fields -------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "",
        "sessionId=ATUid_1&serviceCode=%2A384%2A12%23&phoneNumber=%2B243000000001&text=1%2A2",
        "text=Un+homme+garde+des+filles&text=last+one+wins",
        "a=1&&b=&c&=d&e=%zz&f=%E2%82%AC+%2B&g=1=2",
        "x=%ED%A0%80&y=%F0%9F%98%80",
    ],
)
def test_a_form_is_parsed_as_parse_qsl_would(body: str) -> None:
    assert parse_form(body) == dict(parse_qsl(body, keep_blank_values=True))


def test_a_form_of_too_many_fields_is_refused(light_line: Line) -> None:
    body = "&".join(f"f{n}=1" for n in range(60))
    answer = light_line.client.post(
        URL, content=body, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert answer.status_code == 400
    assert answer.json()["detail"] == "too many fields"


# --- new_inputs: what each request adds -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "previous", "expected"),
    [
        # A new session: whatever was dialled with the code.
        ("", None, []),
        ("3", None, ["3"]),
        ("3*1", None, ["3", "1"]),
        ("3**1", None, ["3", "", "1"]),
        # After an empty first request the whole text is the one new input.
        ("1", "", ["1"]),
        ("4*4", "", ["4*4"]),
        ("*", "", ["*"]),
        # Extending the previous request by one input.
        ("1*2", "1", ["2"]),
        ("1*2*3", "1*2", ["3"]),
        ("1*7*00*1*4", "1*7*00*1", ["4"]),
        ("1*", "1", [""]),
        ("1**", "1", ["*"]),
        ("1*a*b", "1", ["a*b"]),
        ("1*2*", "1*2", [""]),
        # A late retry of an earlier request (a prefix of the last one): nothing to apply.
        ("1", "1*2", None),
        ("", "1*2", None),
        ("1*2", "1*2*3", None),
        ("1*", "1**", None),
    ],
)
def test_new_inputs(text: str, previous: str | None, expected: list[str] | None) -> None:
    assert new_inputs(text, previous) == expected


@pytest.mark.parametrize(
    ("text", "previous", "expected"),
    [
        ("2*5", "1*4", ["5"]),
        ("9", "1*4", ["9"]),
        ("12", "1", ["12"]),  # "12" is not "1" followed by "2"
    ],
)
def test_new_inputs_takes_the_last_segment_of_a_text_that_does_not_extend(
    text: str, previous: str, expected: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    assert new_inputs(text, previous) == expected
    messages = " ".join(record.getMessage() for record in caplog.records)
    assert "does not extend" in messages
    assert text not in messages, "what a person typed is not logged"


def test_session_key_is_stable_and_does_not_carry_the_provider_id() -> None:
    sid = "ATUid_0123456789abcdef"
    assert session_key(sid) == session_key(sid)
    assert session_key(sid) != session_key(sid + "0")
    assert session_key(sid).startswith("ussd:")
    assert sid not in session_key(sid)


# --- very long text ----------------------------------------------------------------------------


def test_three_thousand_characters_get_a_screen_with_the_hint(light_line: Line) -> None:
    body = light_line.screen(new_session(), "1" * 3000)
    assert body == "CON " + hint(light_line, "en") + "\n" + LANGUAGE_MENU[4:]


def test_a_long_input_mid_session_gets_the_hint(light_line: Line) -> None:
    sid = new_session()
    light_line.screen(sid, "")
    light_line.screen(sid, "1")
    body = light_line.screen(sid, "1*" + "1" * (MAX_TEXT - 2))
    assert body.startswith("CON " + hint(light_line, "en"))


def test_text_over_the_cap_is_refused_and_changes_nothing(light_line: Line) -> None:
    sid = new_session()
    light_line.screen(sid, "")
    light_line.screen(sid, "1")
    refused = light_line.post(sid, "1*" + "1" * (MAX_TEXT - 1))
    assert refused.status_code == 400
    stored = light_line.stored(sid)
    assert stored is not None and stored["inputs"] == ["1"]
    assert is_help_menu(light_line.screen(sid, "1*4"), "en")


# --- session expiry and the end notification ---------------------------------------------------


def test_an_expired_session_continues_from_africas_talking_s_text(line: Line) -> None:
    sid = new_session()
    line.screen(sid, "")
    menu = line.screen(sid, "2")
    line.forget(sid)  # what a TTL would do between two screens
    assert line.stored(sid) is None
    hinted = line.screen(sid, "2*7")
    assert_hinted([hinted, line.screen(sid, "2*7*98")], menu, hint(line, "fr"))
    line.forget(sid)
    help_menu = line.screen(sid, "2*7*98*4")
    assert is_help_menu(help_menu, "fr"), help_menu
    # Lost again just before the call back is sent: the replay stops on the screen that sends
    # (replayed inputs are never a confirmation); answered again, it is sent once.
    line.screen(sid, "2*7*4*1")
    method = line.screen(sid, "2*7*4*1*1")
    line.forget(sid)
    replayed = line.screen(sid, f"2*7*4*{CALL_BACK}")
    assert replayed == method
    assert cases(line) == []
    final = line.screen(sid, f"2*7*4*{CALL_BACK}*1")
    assert is_call_back_end(final, "fr"), final
    [case] = cases(line)
    assert case.reference in final


def test_a_session_past_its_ttl_continues(
    tmp_path: Path, store_url: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(tmp_path, redis_url=store_url, session_ttl=1)
    with running(settings) as line:
        sid = new_session()
        line.screen(sid, "")
        line.screen(sid, "2")
        time.sleep(1.2)
        assert line.stored(sid) is None
        help_menu = line.screen(sid, "2*4")
        assert is_help_menu(help_menu, "fr"), help_menu
        assert "failed" not in caplog.text


def test_a_session_expired_on_its_first_screen_continues(line: Line) -> None:
    sid = new_session()
    line.screen(sid, "")
    line.forget(sid)
    body = line.screen(sid, "3")
    assert MENU_WORD["ln"] in body


def test_the_end_notification_drops_the_session(line: Line) -> None:
    sid = new_session()
    line.screen(sid, "")
    line.screen(sid, "3")
    assert line.stored(sid) is not None
    response = line.end(sid)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert line.stored(sid) is None
    # A new conversation: at the main menu in the language chosen before (nothing to go back to).
    again = line.screen(sid, "")
    assert again.startswith("CON ") and MENU_WORD["ln"] in again
    assert "\n00 " not in again


def test_the_end_notification_for_an_unknown_session_is_fine(light_line: Line) -> None:
    assert light_line.end(new_session()).status_code == 200


def test_the_end_notification_without_a_session_id_is_refused(light_line: Line) -> None:
    response = light_line.client.post(END_URL, data={"status": "Success"})
    assert response.status_code == 400
    assert "sessionId" in response.json()["detail"]


# --- refusals ----------------------------------------------------------------------------------


def test_a_wrong_token_is_refused_and_nothing_is_processed(
    line: Line, caplog: pytest.LogCaptureFixture
) -> None:
    sid = new_session()
    wrong = "not-the-t0k3n"
    response = line.client.post(f"/ussd/africastalking/{wrong}", data=form(sid, "1*4"))
    assert response.status_code == 403
    assert line.stored(sid) is None
    # The end notification with a wrong token does not drop a live session either.
    line.screen(sid, "")
    assert line.end(sid, token=wrong).status_code == 403
    assert line.stored(sid) is not None
    assert "refused" in caplog.text
    assert TOKEN not in caplog.text and wrong not in caplog.text
    assert_no_phone_numbers(caplog.text)


@pytest.mark.parametrize("missing", REQUIRED)
def test_a_missing_field_is_refused_and_named(
    light_line: Line, missing: str, caplog: pytest.LogCaptureFixture
) -> None:
    sid = new_session()
    data = form(sid, "")
    del data[missing]
    response = light_line.client.post(URL, data=data)
    assert response.status_code == 400
    assert missing in response.json()["detail"]
    assert light_line.stored(sid) is None
    assert f"refused: missing {missing}" in caplog.text
    assert TOKEN not in caplog.text
    assert_no_phone_numbers(caplog.text)


@pytest.mark.parametrize(
    "number", ["abc", "", "+", "tel:", "+999000000001", "243 000 000 001x", "0" * 16]
)
def test_a_malformed_phone_number_is_refused(
    light_line: Line, number: str, caplog: pytest.LogCaptureFixture
) -> None:
    sid = new_session()
    response = light_line.post(sid, "", phoneNumber=number)
    assert response.status_code == 400
    assert "phoneNumber" in response.json()["detail"]
    assert light_line.stored(sid) is None
    assert "refused" in caplog.text
    assert TOKEN not in caplog.text


def test_an_empty_session_id_is_refused(light_line: Line) -> None:
    assert light_line.client.post(URL, data=form("", "")).status_code == 400


# --- service codes -----------------------------------------------------------------------------


def test_an_unknown_service_code_gets_a_polite_end(
    tmp_path: Path, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(tmp_path, database_url, ussd_service_codes="*384*12#, *384*13#")
    with running(settings) as line:
        sid = new_session()
        body = line.screen(sid, "", serviceCode="*999#")
        assert body == (
            "END This code does not offer this service. Please check the number you dialled."
        )
        assert line.stored(sid) is None
        assert "does not serve" in caplog.text
        assert_no_phone_numbers(caplog.text)
        assert line.screen(new_session(), "", serviceCode="*384*12#") == LANGUAGE_MENU
        assert line.screen(new_session(), "3", serviceCode="*384*13#").startswith(
            "CON Helpline. Bakotuna kombo"
        )


def test_a_deployment_in_french_says_so_in_french(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        ussd_service_codes=SERVICE_CODE,
        default_language="fr",
    )
    with running(settings) as line:
        body = line.screen(new_session(), "", serviceCode="*999#")
        assert body == "END Ce code n'offre pas ce service. Vérifiez le numéro composé."


# --- privacy -----------------------------------------------------------------------------------


def redis_text(url: str, sessions: Sequence[str] = ()) -> tuple[str, list[int]]:
    """Every key and value the session store keeps in Redis, and the TTLs of the given USSD
    sessions (the test Redis is shared: other sessions may be there with other TTLs)."""
    client = redis.Redis.from_url(url)
    chunks: list[str] = []
    ttls: list[int] = []
    try:
        for raw_key in client.scan_iter(match="hotline:*", count=500):
            key = raw_key.decode()
            chunks.append(key)
            kind = cast(bytes, client.type(raw_key)).decode()
            if kind == "string":
                chunks.append(repr(client.get(raw_key)))
            elif kind == "hash":
                chunks.append(repr(client.hgetall(raw_key)))
            elif kind == "list":
                chunks.append(repr(client.lrange(raw_key, 0, -1)))
            elif kind == "set":
                chunks.append(repr(client.smembers(raw_key)))
            elif kind == "zset":
                chunks.append(repr(client.zrange(raw_key, 0, -1)))
            if key in {f"hotline:session:{session_key(sid)}" for sid in sessions}:
                ttls.append(cast(int, client.ttl(raw_key)))
    finally:
        client.close()
    return "\n".join(chunks), ttls


def test_no_phone_number_is_stored_or_logged(
    line: Line, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    sessions = []
    for number, lang in zip(TEST_PHONES, ("fr", "ln", "st"), strict=True):
        sid = new_session()
        sessions.append(sid)
        key = LANG_KEYS[lang]
        line.screen(sid, "", phoneNumber=number)
        line.screen(sid, key, phoneNumber=number)
        line.screen(sid, f"{key}*7", phoneNumber=number)
        line.screen(sid, f"{key}*7*4", phoneNumber=number)
        line.screen(sid, f"{key}*7*4*1", phoneNumber=number)
        line.screen(sid, f"{key}*7*4*1*1", phoneNumber=number)
        end = line.screen(sid, f"{key}*7*4*{CALL_BACK}", phoneNumber=number)
        assert is_call_back_end(end, lang), end  # a case that may call this number back
    # Refused requests log too: a wrong token, a missing field.
    line.client.post("/ussd/africastalking/wrong", data=form(new_session(), "", phoneNumber=PHONE))
    incomplete = form(new_session(), "", phoneNumber=TEST_PHONES[1])
    del incomplete["text"]
    assert line.client.post(URL, data=incomplete).status_code == 400

    assert len(cases(line)) == 3
    assert_no_phone_numbers(database_text(engine), caplog.text)
    for sid in sessions:
        stored = line.stored(sid)
        assert stored is not None
        assert_no_phone_numbers(repr(stored))
        assert sid not in repr(stored)
    if line.redis_url:
        dump, ttls = redis_text(line.redis_url, sessions)
        assert_no_phone_numbers(dump)
        assert all(sid not in dump for sid in sessions)
        # Kept longer than an AT session (~180 s), no longer than the configured 300 s.
        assert ttls and all(180 < ttl <= 300 for ttl in ttls), ttls


# --- two identical requests at the same moment -------------------------------------------------


@pytest.mark.parametrize("store", ["memory", "redis"])
async def test_two_identical_requests_at_once_advance_once(
    tmp_path: Path,
    database_url: str,
    store: str,
    monkeypatch: pytest.MonkeyPatch,
    advances: list[str],
) -> None:
    url = reachable_redis() if store == "redis" else None
    settings = make_settings(tmp_path, database_url, redis_url=url)
    app = make_app(settings)
    sessions: SessionStore = app.state.store
    real_get = sessions.get
    real_hold = sessions.hold

    @asynccontextmanager
    async def slow_hold(key: str, **options: Any) -> AsyncIterator[Held]:
        # Hold the session a moment, so the twin request arrives while this one is inside.
        async with real_hold(key, **options) as held:
            await asyncio.sleep(0.05)
            yield held

    monkeypatch.setattr(sessions, "hold", slow_hold)

    sid = new_session()
    transport = httpx2.ASGITransport(app=app)
    try:
        async with (
            app.router.lifespan_context(app),
            httpx2.AsyncClient(transport=transport, base_url="http://testserver") as http,
        ):
            first = await http.post(URL, data=form(sid, ""))
            assert first.text == LANGUAGE_MENU
            one, two = await asyncio.gather(
                http.post(URL, data=form(sid, "2")), http.post(URL, data=form(sid, "2"))
            )
            assert one.status_code == two.status_code == 200
            assert one.text == two.text
            assert one.text.startswith("CON ") and MENU_WORD["fr"] in one.text
            assert advances == ["2"], "the same request was applied more than once"
            stored = await real_get(session_key(sid))
            assert stored is not None and stored["inputs"] == ["2"]
            final = await http.post(URL, data=form(sid, "2*4"))
            assert is_help_menu(final.text, "fr"), final.text
    finally:
        if url:
            _drop_keys(url, [sid], language_notes(app, settings))


# --- one number cannot file reports or page the team in bursts (issue 11, items 2 and 16) ------

DIALLED_REPORT = "1*1*1*3*1*1*2*1*2*2*1"
"""``*384*12*1*1*1*3*1*1*2*1*2*2*1#``: English, Report, every answer of a P1 tip, and Send."""


def outbox_alerts(line: Line) -> list[OutboundMessage]:
    engine: Engine = line.app.state.engine
    with Session(engine) as session:
        return list(
            session.exec(select(OutboundMessage).where(OutboundMessage.purpose == "alert")).all()
        )


def test_a_dialled_full_report_makes_no_case_and_pages_nobody(
    tmp_path: Path, database_url: str
) -> None:
    with running(make_settings(tmp_path, database_url, demo=True)) as line:
        screens = {line.screen(new_session(), DIALLED_REPORT) for _ in range(100)}
        assert cases(line) == [] and outbox_alerts(line) == []
        # Every request stops on the screen that would send, for a person to answer.
        [screen] = screens
        assert screen.startswith("CON ") and REFERENCE.search(screen) is None, screen


def call_back(line: Line, lang: str = "fr", phone: str = PHONE) -> str:
    """A whole call back request, one screen at a time; its last screen."""
    sid = new_session()
    key = LANG_KEYS[lang]
    body = ""
    for text in ("", key, f"{key}*4", f"{key}*4*1", f"{key}*4*1*1", f"{key}*4*{CALL_BACK}"):
        body = line.screen(sid, text, phoneNumber=phone)
    return body


@pytest.mark.parametrize("lang", list(LANG_KEYS))
def test_a_burst_of_reports_from_one_number_makes_at_most_the_limit(
    tmp_path: Path, database_url: str, lang: str
) -> None:
    settings = make_settings(tmp_path, database_url, case_hourly_limit=3, language_memory_days=0)
    with running(settings) as line:
        ends = [call_back(line, lang) for _ in range(12)]
        assert all(is_call_back_end(end, lang) for end in ends[:3]), ends[:3]
        content: Content = line.app.state.content
        refusal = "END " + fold(
            content.tr(lang, ui.CASES_LIMIT).format(hotline_number=HOTLINE), lang
        )
        assert ends[3:] == [refusal] * 9, "kind, neutral, and the same every time"
        assert len(cases(line)) == 3, "nothing is kept for a refused report"
        # Another number reports as usual.
        assert is_call_back_end(call_back(line, lang, phone=TEST_PHONES[1]), lang)


def test_a_burst_alternating_spellings_of_one_number_makes_at_most_the_limit(
    tmp_path: Path, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    spellings = ("+243000000001", "00243000000001", "243-000-000-001", "+243 000 000 001")
    assert spellings[0] == PHONE
    settings = make_settings(
        tmp_path, database_url, case_hourly_limit=3, language_memory_days=0, default_region="CD"
    )
    with running(settings) as line:
        ends = [call_back(line, "fr", phone=spellings[n % 4]) for n in range(8)]
        assert all(is_call_back_end(end, "fr") for end in ends[:3]), ends[:3]
        content: Content = line.app.state.content
        refusal = "END " + fold(
            content.tr("fr", ui.CASES_LIMIT).format(hotline_number=HOTLINE), "fr"
        )
        assert ends[3:] == [refusal] * 5, "another spelling is not another person"
        assert len(cases(line)) == 3
        assert len({case.contact for case in cases(line)}) == 1
        assert_no_phone_numbers(database_text(line.app.state.engine), caplog.text)


def test_a_burst_of_p1_tips_pages_a_bounded_number_of_times(
    tmp_path: Path, database_url: str
) -> None:
    # A day-long grouping window: the burst never straddles two windows of the real clock.
    settings = make_settings(
        tmp_path, database_url, demo=True, case_hourly_limit=0, alert_group_seconds=86400
    )
    with running(settings) as line:
        for _ in range(20):  # dialled up to Send, then Send pressed: 20 P1 tips
            sid = new_session()
            line.screen(sid, DIALLED_REPORT)
            assert is_p1_end(line.screen(sid, DIALLED_REPORT + "*1"))
        assert len(cases(line)) == 20
        pages = {keys.page(m.key) for m in outbox_alerts(line)}
        assert len(pages) == 2, "the first P1 at once, the 19 others grouped in one alert"


def is_p1_end(body: str) -> bool:
    return body.startswith("END ") and REFERENCE.search(body) is not None


def test_a_late_retry_of_an_older_request_gets_the_screen_it_had(
    line: Line, advances: list[str]
) -> None:
    sid = new_session()
    line.screen(sid, "")
    line.screen(sid, "1")
    help_menu = line.screen(sid, "1*4")
    safe_time = line.screen(sid, "1*4*1")
    applied = list(advances)
    # The network delivers the request before the last again, late: it gets its own screen.
    assert line.screen(sid, "1*4") == help_menu
    # Older ones are recognised too: never applied, answered with the screen as it stands.
    assert line.screen(sid, "1") == safe_time
    assert line.screen(sid, "") == safe_time
    assert advances == applied, "an old request is never applied as a new input"
    stored = line.stored(sid)
    assert stored is not None and stored["inputs"] == ["1", "4", "1"]
    # The session goes on from where it was; after its END, old requests change nothing.
    method = line.screen(sid, "1*4*1*1")
    end = line.screen(sid, f"1*4*{CALL_BACK}")
    assert is_call_back_end(end, "en"), end
    assert line.screen(sid, "1*4*1*1") == method
    assert line.screen(sid, "1*4") == end
    assert len(cases(line)) == 1


def test_a_late_retry_older_than_the_kept_screens_gets_the_current_screen(
    light_line: Line,
) -> None:
    sid = new_session()
    light_line.screen(sid, "")
    light_line.screen(sid, "1")
    texts = ["1"] + [f"1{'*7' * n}" for n in range(1, 25)]  # 24 wrong answers, each a hint
    for text in texts[1:]:
        current = light_line.screen(sid, text)
    late = light_line.screen(sid, "1")  # not kept any more: the screen as it stands
    assert late == current
    stored = light_line.stored(sid)
    assert stored is not None and stored["inputs"] == ["1"]
