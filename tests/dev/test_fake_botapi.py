"""The local fake Bot API (``bot/dev/fake_botapi.py``): its methods, its control API, and the
hotline run end to end against it with both servers up for real on free local ports."""

from __future__ import annotations

import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from click.testing import CliRunner
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from bot.cases.reference import PATTERN
from bot.cli import main
from bot.core.db import make_engine
from bot.core.settings import ROOT
from bot.dev.fake_botapi import FakeBotApi, create_fake
from bot.i18n.catalog import Catalogs
from bot.models import Case
from tests.channels.telegram.fake import (
    HOTLINE,
    SECRET,
    TOKEN,
    USER,
    assert_no_telegram_ids,
    assert_no_token,
    make_settings,
)
from tests.conftest import database_text, make_app

CATALOGS = Catalogs.load(ROOT / "locales")
BOT = f"/bot{TOKEN}"


@pytest.fixture
def fake() -> Iterator[TestClient]:
    """The fake, in process (no webhook: the control API is tried separately)."""
    with TestClient(create_fake(token=TOKEN)) as client:
        yield client


def state(client: TestClient) -> FakeBotApi:
    found: FakeBotApi = client.app.state.fake  # type: ignore[attr-defined]
    return found


# --- the Bot API methods ------------------------------------------------------------------


def test_get_me_and_unknown_methods_and_tokens(fake: TestClient) -> None:
    me = fake.post(f"{BOT}/getMe").json()
    assert me["ok"] is True and me["result"]["is_bot"] is True
    assert me["result"]["id"] == int(TOKEN.split(":")[0])
    unknown = fake.post(f"{BOT}/sendPhoto")
    assert unknown.status_code == 404 and unknown.json()["ok"] is False
    wrong = fake.post("/bot1:other/getMe")
    assert wrong.status_code == 401 and wrong.json()["description"] == "Unauthorized"


def test_messages_by_form_or_json_with_ids_per_chat(fake: TestClient) -> None:
    markup = '{"inline_keyboard": [[{"text": "English", "callback_data": "1:1"}]]}'
    first = fake.post(
        f"{BOT}/sendMessage", data={"chat_id": "5", "text": "Hello", "reply_markup": markup}
    )
    second = fake.post(f"{BOT}/sendMessage", json={"chat_id": 5, "text": "Again"})
    other = fake.post(f"{BOT}/sendMessage", json={"chat_id": 6, "text": "Elsewhere"})
    ids = [r.json()["result"]["message_id"] for r in (first, second, other)]
    assert ids == [1, 2, 1], "message ids count per chat"
    result = first.json()["result"]
    assert result["chat"] == {"id": 5, "type": "private", "first_name": "Test"}
    assert result["reply_markup"]["inline_keyboard"][0][0]["text"] == "English"
    shown = fake.get("/_user/5/messages").json()["messages"]
    assert [(m["message_id"], m["text"], m["from_bot"]) for m in shown] == [
        (1, "Hello", True),
        (2, "Again", True),
    ]
    assert shown[0]["buttons"] == [[{"text": "English", "callback_data": "1:1"}]]


def test_edit_and_delete_as_telegram_would(fake: TestClient) -> None:
    fake.post(f"{BOT}/sendMessage", json={"chat_id": 5, "text": "One"})
    fake.post(f"{BOT}/sendMessage", json={"chat_id": 5, "text": "Two"})
    edited = fake.post(
        f"{BOT}/editMessageText", json={"chat_id": 5, "message_id": 1, "text": "Uno"}
    )
    assert edited.json()["result"]["text"] == "Uno"
    same = fake.post(f"{BOT}/editMessageText", json={"chat_id": 5, "message_id": 1, "text": "Uno"})
    assert same.status_code == 400 and "not modified" in same.json()["description"]
    gone = fake.post(f"{BOT}/editMessageText", json={"chat_id": 5, "message_id": 9, "text": "x"})
    assert gone.status_code == 400 and "not found" in gone.json()["description"]
    fake.post(f"{BOT}/deleteMessages", data={"chat_id": "5", "message_ids": "[1, 7]"})
    assert [m["text"] for m in fake.get("/_user/5/messages").json()["messages"]] == ["Two"]
    assert fake.post(f"{BOT}/deleteMessage", json={"chat_id": 5, "message_id": 2}).json()["ok"]
    assert fake.get("/_user/5/messages").json()["messages"] == []
    too_long = fake.post(f"{BOT}/sendMessage", json={"chat_id": 5, "text": "x" * 4097})
    assert too_long.status_code == 400
    data = {"inline_keyboard": [[{"text": "A", "callback_data": "x" * 65}]]}
    big = fake.post(f"{BOT}/sendMessage", json={"chat_id": 5, "text": "x", "reply_markup": data})
    assert big.status_code == 400 and "BUTTON_DATA_INVALID" in big.json()["description"]


def test_set_webhook_and_the_control_api_s_refusals(fake: TestClient) -> None:
    assert fake.post("/_user/5/text", json={"text": "hi"}).status_code == 409, "no webhook yet"
    hook = {"url": "http://127.0.0.1:1/telegram/webhook", "secret_token": "s"}
    assert fake.post(f"{BOT}/setWebhook", data=hook).json() == {"ok": True, "result": True}
    assert (state(fake).webhook, state(fake).secret) == (hook["url"], "s")
    assert fake.post(f"{BOT}/getWebhookInfo").json()["result"]["url"] == hook["url"]
    assert fake.post("/_user/5/tap", json={"label": "English"}).status_code == 404, "no buttons"
    fake.post(f"{BOT}/deleteWebhook")
    assert state(fake).webhook is None
    assert (
        fake.post(f"{BOT}/answerCallbackQuery", json={"callback_query_id": "q9"}).status_code == 400
    )


def test_the_cli_command_exists() -> None:
    result = CliRunner().invoke(main, ["telegram", "fake-api", "--help"])
    assert result.exit_code == 0, result.output
    assert "--webhook" in result.output and "--port" in result.output


# --- both servers for real ---------------------------------------------------------------------


class Server:
    """A uvicorn server on an already bound local socket, in a background thread."""

    def __init__(self, app: FastAPI) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.bind(("127.0.0.1", 0))
        self.port: int = self.socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, log_level="warning", access_log=False, lifespan="on", ws="none", loop="asyncio"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )

    def start(self, timeout: float = 20) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"server on port {self.port} did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        if self.thread.is_alive():
            self.thread.join(timeout=20)
        self.socket.close()


def tr(lang: str, msgid: str) -> str:
    return CATALOGS.gettext(lang, msgid).replace("{hotline_number}", HOTLINE)


def tap(user: httpx.Client, label: str) -> dict[str, Any]:
    answer = user.post(f"/_user/{USER}/tap", json={"label": label})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert body["webhook_status"] == 200, body
    assert body["answered"] is True, "every tap is answered"
    return body


def test_a_call_back_end_to_end_through_the_fake_bot_api(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # Each server binds its socket first: each must know the other's port before it starts.
    fake_app = create_fake(secret=SECRET, token=TOKEN)
    fake = Server(fake_app)
    monkeypatch.setenv("HOTLINE_TELEGRAM_API_BASE", fake.url)
    settings = make_settings(tmp_path, flows_dir=ROOT / "flows", locales_dir=ROOT / "locales")
    assert settings.telegram_api_base == fake.url
    hotline = Server(make_app(settings))
    fake_app.state.fake.webhook = f"{hotline.url}/telegram/webhook"
    try:
        fake.start()
        hotline.start()
        with httpx.Client(base_url=fake.url, timeout=60, trust_env=False) as user:
            health = httpx.get(f"{hotline.url}/healthz", timeout=30, trust_env=False)
            assert health.status_code == 200, health.text

            sent = user.post(f"/_user/{USER}/text", json={"text": "/start"})
            assert sent.status_code == 200 and sent.json()["webhook_status"] == 200, sent.text
            [_, menu] = sent.json()["messages"]
            assert menu["text"] == "Choose your language:" and menu["from_bot"] is True
            tap(user, "English")
            tap(user, tr("en", "Get help now"))
            tap(user, tr("en", "Ask us to contact you"))
            tap(user, tr("en", "Morning"))
            end = tap(user, tr("en", "A message here on Telegram"))["messages"][-1]

            found = re.search(r"[A-Z0-9]{4}-[0-9]{2}", end["text"])
            assert found is not None and PATTERN.match(found.group()), end["text"]
            reference = found.group()
            done = (
                "Thank you. A hotline worker will try to contact you at the time you chose. "
                "Your reference: {reference}. Help: {hotline_number}"
            )
            assert end["text"] == tr("en", done).format(reference=reference)
            assert end["buttons"] == [], "the END screen has no buttons"
            shown = user.get(f"/_user/{USER}/messages").json()["messages"]
            assert shown[-1] == end, "the tapped message became the END screen"

            # A webhook call without the right secret is refused by the hotline.
            fake_app.state.fake.secret = "wrong-secret"
            refused = user.post(f"/_user/{USER}/text", json={"text": "/start"})
            assert refused.json()["webhook_status"] == 403
            fake_app.state.fake.secret = SECRET

        engine = make_engine(settings.database_url)
        try:
            with Session(engine) as db:
                [case] = db.exec(select(Case)).all()
            dump = database_text(engine)
        finally:
            engine.dispose()
        assert case.reference == reference
        assert (case.kind, case.channel, case.lang) == ("callback_request", "telegram", "en")
        assert (case.priority, case.rule) == ("P2", "call back requested")
        assert case.consent_contact is True and case.contact_phone is not None  # the chat, sealed
        methods = [m for m, _ in fake_app.state.fake.calls]
        assert {"getMe", "sendMessage", "editMessageText", "answerCallbackQuery"} <= set(methods)
        assert_no_telegram_ids(dump, caplog.text, ids=(USER,))
        assert_no_token(caplog.text)
    finally:
        hotline.stop()
        fake.stop()


def test_set_webhook_registers_the_hotline_with_the_fake(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``hotline telegram set-webhook`` through HOTLINE_TELEGRAM_API_BASE tells the fake where
    to post and with which secret, as the README's local walk does."""
    fake_app = create_fake()
    fake = Server(fake_app)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOTLINE_TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("HOTLINE_TELEGRAM_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("HOTLINE_TELEGRAM_API_BASE", fake.url)
    try:
        fake.start()
        url = "http://127.0.0.1:8000/telegram/webhook"
        result = CliRunner().invoke(main, ["telegram", "set-webhook", url])
        assert result.exit_code == 0, result.output
        assert (fake_app.state.fake.webhook, fake_app.state.fake.secret) == (url, SECRET)
    finally:
        fake.stop()
