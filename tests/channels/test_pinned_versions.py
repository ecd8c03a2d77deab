"""Through each channel's route: a conversation started before a publish finishes on the wording
it started with (in any language it switches to), while one started after shows the new."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import respx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from bot.content import signal
from bot.content.snapshot import Snapshot
from bot.core.db import make_engine
from bot.core.settings import ROOT
from tests.channels.sms.test_routes import FakeSender, Hotline
from tests.channels.telegram.fake import OTHER, USER, TelegramHotline, starter
from tests.channels.ussd.test_routes import TOKEN, form
from tests.conftest import TEST_PHONES, make_app, make_settings
from tests.content.stored import NEW_WORDING, OLD_WORDING, main_version, write_version

USSD = f"/ussd/africastalking/{TOKEN}"


def publish_v2(app: FastAPI) -> None:
    """Publish version 2 of the main flow as the editor does (stored, then announced), and wait
    until the app serves it."""
    engine: Engine = app.state.engine
    generation = write_version(engine, main_version(2))
    signal.announce(None, generation)
    snapshot: Snapshot = app.state.snapshot
    started = time.monotonic()
    while snapshot.generation != generation:
        assert time.monotonic() - started < 30, "the publish did not reach the app"
        time.sleep(0.01)


def first_option(screen: str) -> str:
    line = next(row for row in screen.split("\n") if row.startswith("1 "))
    return line.removeprefix("1 ")


@pytest.fixture
def ussd(tmp_path: Path, database_url: str) -> Iterator[TestClient]:
    app = make_app(make_settings(tmp_path, database_url=database_url, public_number="0800 000 000"))
    with TestClient(app) as client:
        yield client


def test_ussd(ussd: TestClient) -> None:
    def screen(session: str, text: str) -> str:
        response = ussd.post(USSD, data=form(session, text))
        assert response.status_code == 200, response.text
        return response.text

    before = f"ATUid_{uuid.uuid4().hex}"
    assert first_option(screen(before, "1")) == OLD_WORDING["en"]
    assert isinstance(ussd.app, FastAPI)
    publish_v2(ussd.app)
    after = f"ATUid_{uuid.uuid4().hex}"
    assert first_option(screen(after, "1")) == NEW_WORDING["en"]
    for session in (before, after):
        screen(session, "1*6")  # Change language
    assert first_option(screen(before, "1*6*2")) == OLD_WORDING["fr"]  # French
    assert first_option(screen(after, "1*6*2")) == NEW_WORDING["fr"]


@pytest.fixture
def sms(tmp_path: Path, sqlite_url: str) -> Iterator[Hotline]:
    app = make_app(make_settings(tmp_path, database_url=sqlite_url))
    sender = FakeSender()
    app.state.worker.sender = sender
    engine = make_engine(sqlite_url)
    try:
        with TestClient(app) as client:
            yield Hotline(app, client, sender, engine)
    finally:
        engine.dispose()


def test_sms(sms: Hotline) -> None:
    def text(message: str, phone: str) -> str:
        sms_id = f"ATXid_{uuid.uuid4().hex}"
        sms.client.post(
            "/sms/africastalking/t0k3n-for-tests",
            data={"from": phone, "to": "12345", "text": message, "id": sms_id, "linkId": ""},
        )
        return sms.reply_to(sms_id)

    before, after = TEST_PHONES[0], TEST_PHONES[1]
    assert first_option(text("HELP", before)) == OLD_WORDING["en"]  # the main menu
    publish_v2(sms.app)
    assert first_option(text("HELP", after)) == NEW_WORDING["en"]
    text("6", before)  # Change language
    assert first_option(text("4", before)) == OLD_WORDING["st"]
    text("6", after)
    assert first_option(text("4", after)) == NEW_WORDING["st"]


@pytest.fixture
def telegram(tmp_path: Path, router: respx.MockRouter) -> Iterator[TelegramHotline]:
    shipped: dict[str, Any] = {"flows_dir": ROOT / "flows", "locales_dir": ROOT / "locales"}
    for start in starter(tmp_path, router):
        yield start(**shipped)


def test_telegram(telegram: TelegramHotline) -> None:
    def options(user: int) -> list[str]:
        return [label for label, _ in telegram.api.keyboard(user).buttons]

    def menu(user: int) -> list[str]:
        telegram.send("/start", user=user)  # the main menu in the app's language
        return options(user)

    assert menu(USER)[0] == OLD_WORDING["en"]
    publish_v2(telegram.app)
    assert menu(OTHER)[0] == NEW_WORDING["en"]
    for user in (USER, OTHER):
        telegram.tap("Change language", user=user)
        telegram.tap("Lingala", user=user)
    assert (options(USER)[0], options(OTHER)[0]) == (OLD_WORDING["ln"], NEW_WORDING["ln"])
