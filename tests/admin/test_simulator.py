"""The browser simulator: the same conversation service, shown as each channel would show it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.conversation.dryrun import SAMPLE_REFERENCE
from bot.core.settings import ROOT
from bot.i18n.catalog import Catalogs
from bot.i18n.gsm7 import fold
from bot.models.case import Case
from tests.conftest import make_app, make_settings

NUMBER = "0800 000 009"
CHOOSE = "Choose your language:"
MENU = "{hotline_name}. You need not give your name."
HELP = (
    "Call the hotline: {hotline_number}. You do not have to give your name. Or we can contact you:"
)
SENT = (
    "Thank you. A hotline worker will try to contact you at the time you chose. "
    "Your reference: {reference}. Help: {hotline_number}"
)
CALL_BACK = ["1", "1", "1"]
"""On the help menu: Ask us to contact you, Morning, Phone call."""
CHOICE = {"en": "1", "fr": "2", "ln": "3", "st": "4"}
CATALOGS = Catalogs.load(ROOT / "locales")


def folded(lang: str, msgid: str) -> str:
    """A translated text as a basic phone shows it (GSM-7 folding)."""
    text = CATALOGS.gettext(lang, msgid).format(
        hotline_number=NUMBER, hotline_name="Helpline", reference=SAMPLE_REFERENCE
    )
    return fold(text, lang)


def cases(client: TestClient) -> list[Case]:
    """What the on-call queue holds."""
    engine: Engine = client.app.state.engine  # type: ignore[attr-defined]
    with Session(engine) as session:
        return list(session.exec(select(Case)).all())


@pytest.fixture
def app(tmp_path: Path, in_tmp_path: Path) -> FastAPI:
    """The app on the embedded default with every file in tmp_path (the root ``client`` runs it)."""
    return make_app(make_settings(tmp_path, secrets=False, public_number=NUMBER))


def send(
    client: TestClient,
    text: str | None,
    *,
    session: str = "sim-test-0001",
    channel: str = "ussd",
    lang: str = "en",
) -> dict[str, Any]:
    """Type one input (None dials / starts again) and return the screen."""
    response = client.post(
        "/simulator/api",
        json={"session": session, "channel": channel, "lang": lang, "input": text},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_page_is_served(client: TestClient) -> None:
    """Opening /simulator in a browser shows the simulator page."""
    response = client.get("/simulator")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "Hotline simulator" in response.text
    assert "/simulator/static/simulator.js" in response.text


def test_ussd_walk_in_french_to_help(client: TestClient) -> None:
    """Dial, choose Francais, choose help: the number and a call back offer, then END."""
    first = send(client, None, lang="fr")
    assert first["end"] is False
    assert "CON " + folded("fr", CHOOSE) in first["text"]
    assert "2 Francais" in first["text"]
    assert first["text"].startswith("--- USSD ")

    menu = send(client, "2", lang="fr")
    assert menu["end"] is False
    assert "CON " + folded("fr", MENU) in menu["text"]
    assert folded("fr", "Get help now") in menu["text"]

    help_screen = send(client, "4", lang="fr")
    assert help_screen["end"] is False
    assert "CON " + folded("fr", HELP) in help_screen["text"]
    assert NUMBER in help_screen["text"]
    assert "\n1 " + folded("fr", "Ask us to contact you") + "\n" in help_screen["text"]

    for key in CALL_BACK:
        end = send(client, key, lang="fr")
    assert end["end"] is True
    assert "END " + folded("fr", SENT) in end["text"]
    assert NUMBER in end["text"]


@pytest.mark.parametrize("lang", ["en", "fr", "ln", "st"])
def test_every_language_reaches_help(client: TestClient, lang: str) -> None:
    """The language chosen on the first screen is the one the rest of the walk uses."""
    send(client, None, session=f"sim-walk-{lang}")
    menu = send(client, CHOICE[lang], session=f"sim-walk-{lang}")
    assert folded(lang, MENU) in menu["text"]
    help_screen = send(client, "4", session=f"sim-walk-{lang}")
    assert help_screen["end"] is False
    assert folded(lang, HELP) in help_screen["text"]
    for key in CALL_BACK:
        end = send(client, key, session=f"sim-walk-{lang}")
    assert end["end"] is True
    assert folded(lang, SENT) in end["text"]


def test_a_simulated_call_back_reaches_no_one(client: TestClient) -> None:
    """A walk in the simulator shows a sample reference and puts nothing in the on-call queue."""
    send(client, None, session="sim-call-back")
    for key in ["1", "4", *CALL_BACK]:
        end = send(client, key, session="sim-call-back")
    assert end["end"] is True
    assert f"Your reference: {SAMPLE_REFERENCE}." in end["text"]
    assert cases(client) == []


def test_telegram_returns_buttons_in_full_orthography(client: TestClient) -> None:
    """Telegram shows options as buttons and keeps Lingala's ɛ and ɔ."""
    first = send(client, None, channel="telegram")
    assert first["buttons"][:4] == ["1|English", "2|Francais", "3|Lingala", "4|Sesotho"]
    assert first["text"].startswith("--- Telegram ")
    menu = send(client, "3", channel="telegram")
    assert CATALOGS.gettext("ln", MENU).format(hotline_name="Helpline") in menu["text"]
    assert "ɔ" in menu["text"], "no GSM-7 folding on Telegram"
    assert len(menu["buttons"]) >= 6
    assert any(b.endswith("|" + CATALOGS.gettext("ln", "Get help now")) for b in menu["buttons"])


def test_sms_shows_its_size_header(client: TestClient) -> None:
    """SMS screens carry their length and part count, for editors keeping costs down."""
    first = send(client, None, channel="sms")
    assert first["text"].startswith("--- SMS ")
    assert "part(s)" in first["text"].splitlines()[0]
    assert "CON" not in first["text"]
    assert first["buttons"] == []


def test_sessions_do_not_mix(client: TestClient) -> None:
    """Two people in the simulator at once each keep their own place."""
    send(client, None, session="sim-person-a")
    send(client, None, session="sim-person-b")
    a = send(client, "2", session="sim-person-a")
    b = send(client, "4", session="sim-person-b")
    assert folded("fr", MENU) in a["text"]
    assert folded("st", MENU) in b["text"]


def test_reply_without_a_session_starts_again_politely(client: TestClient) -> None:
    """An expired or unknown session is not an error: the first screen with a notice."""
    screen = send(client, "4", session="sim-never-started", lang="fr")
    assert screen["end"] is False
    assert folded("fr", "Your last session had ended, so we started again.") in screen["text"]
    assert folded("fr", CHOOSE) in screen["text"]


def test_exit_ends_the_conversation(client: TestClient) -> None:
    """0 leaves at once (quick exit) from the first screen."""
    send(client, None)
    screen = send(client, "0")
    assert screen["end"] is True
    goodbye = folded("en", "Thank you. Stay safe. You can come back at any time.")
    assert "END " + goodbye in screen["text"]
    after = send(client, "1")
    assert folded("en", "Your last session had ended, so we started again.") in after["text"]


@pytest.mark.parametrize(
    "body",
    [
        {"session": "short", "input": None},
        {"session": "has spaces in it", "input": None},
        {"session": "x" * 65, "input": None},
        {"session": "../../etc/passwd", "input": None},
        {"session": "sim-test-0001", "channel": "whatsapp", "input": None},
        {"session": "sim-test-0001", "lang": "de", "input": None},
        {"session": "sim-test-0001", "input": "1" * 501},
        {"channel": "ussd", "input": None},
    ],
)
def test_bad_requests_are_refused(client: TestClient, body: dict[str, Any]) -> None:
    """Malformed session ids, channels, languages or oversized input get 422, not a screen."""
    response = client.post("/simulator/api", json=body)
    assert response.status_code == 422


def test_the_page_has_no_inline_script_or_style_and_its_assets_are_served(
    client: TestClient,
) -> None:
    """The Content-Security-Policy allows no inline code: the page loads its own files."""
    page = client.get("/simulator")
    assert "<script>" not in page.text and "<style>" not in page.text
    assert "unsafe-inline" not in page.headers["content-security-policy"]
    script = client.get("/simulator/static/simulator.js")
    assert script.status_code == 200 and "/simulator/api" in script.text
    assert script.headers["content-type"].startswith("text/javascript")
    style = client.get("/simulator/static/simulator.css")
    assert style.status_code == 200 and style.headers["content-type"].startswith("text/css")
    assert client.get("/simulator/static/simulator.html").status_code == 404
    assert client.get("/simulator/static/..%2Fsimulator.py").status_code == 404
