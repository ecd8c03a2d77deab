"""The Bot API as respx serves it, and the hotline fed Telegram updates through its webhook.

The Bot API's answers come from ``bot.dev.fake_botapi`` (the local fake of ``hotline telegram
fake-api``): one fake, whether the hotline reaches it through respx or over a real socket.

Tests run on a small flow of their own that follows the shipped main menu's path (language
menu, main menu, "Get help now") plus a typed report that becomes a case, with the real
catalogs for the shipped texts; so they do not depend on flows being rewritten meanwhile.
"""

from __future__ import annotations

import atexit
import functools
import json
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import httpx2
import respx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from bot.app import create_app
from bot.content.files import Content, load_content
from bot.core.settings import ROOT, Settings
from bot.dev.fake_botapi import FakeBotApi, Shown
from bot.i18n.catalog import po_path, read_catalog, write_catalog
from bot.i18n.translate import Translate
from tests.conftest import make_settings as test_settings
from tests.conftest import shipped

TOKEN = "123456789:AAtestTOKENforTHEhotlineTESTS_0123-x"
SECRET = "telegram-secret-for-tests"
API = "https://api.telegram.org/bot" + TOKEN
USER = 700000001
OTHER = 700000002
TELEGRAM_IDS = (USER, OTHER)
"""Fake Telegram ids: they must never reach the database or the logs."""
HOTLINE = "0800 000 000"
PSEUDONYM_KEY = "k" * 32

FLOW = """\
flow: main
title: The shipped main menu's path to help, and a typed report
start: language
states:
  language:
    type: menu
    text: "Choose your language:"
    back: false
    options:
      - {label: English, translate: false, do: [{set_language: en}], next: menu}
      - {label: Francais, translate: false, do: [{set_language: fr}], next: menu}
      - {label: Lingala, translate: false, do: [{set_language: ln}], next: menu}
      - {label: Sesotho, translate: false, do: [{set_language: st}], next: menu}
  menu:
    type: menu
    text: "Helpline. You need not give your name."
    options:
      - {label: Report something, next: describe}
      - {label: Get help now, next: help}
      - {label: Change language, next: language}
  describe:
    type: text
    text: "Say in a few words what happens."
    record: description
    next: sent
  sent:
    type: end
    on_enter: [{emit: tip_submitted}]
    text: "Thank you. Your reference: {reference}."
  help:
    type: end
    text: "Call the hotline free of charge: {hotline_number}. You do not have to give your name."
"""
EXTRA = {
    "Helpline. You need not give your name.": {
        "fr": "Helpline. Aide sans donner votre nom.",
        "ln": "Helpline. Bakotuna kombo na yo tɛ. Pɔna:",
        "st": "Helpline. Thuso ntle le lebitso. Khetha:",
    },
    "Say in a few words what happens.": {
        "fr": "Dites en quelques mots ce qui se passe.",
        "ln": "Loba na maloba moke nini ezali koleka.",
        "st": "Re bolelle ka mantsoe a seng makae se etsahalang.",
    },
    "Thank you. Your reference: {reference}.": {
        "fr": "Merci. Votre référence : {reference}.",
        "ln": "Matɔndi. Motuya na yo: {reference}.",
        "st": "Kea leboha. Nomoro ea hau: {reference}.",
    },
    "Call the hotline free of charge: {hotline_number}. You do not have to give your name.": {
        "fr": "Appelez gratuitement la ligne d'aide : {hotline_number}. "
        "Vous n'avez pas à donner votre nom.",
        "ln": "Benga nzela ya lisalisi ofele: {hotline_number}. Osengeli te kopesa nkombo na yo.",
        "st": "Letsetsa mohala oa thuso mahala: {hotline_number}. Ha o tlameha ho fana ka lebitso.",
    },
}
"""Translations of the texts the test flow adds to the shipped catalogs."""
MENU = "Helpline. You need not give your name."
"""The main menu's text as the shipped flows show it with the default HOTLINE_PUBLIC_NAME."""
SHIPPED_MENU = "{hotline_name}. You need not give your name."
"""The shipped main menu's source text."""
HELP = "Call the hotline free of charge: {hotline_number}. You do not have to give your name."
LANGUAGE_MENU = "Choose your language:"


def write_content(folder: Path) -> tuple[Path, Path]:
    """The test flow and a copy of the shipped catalogs with its extra texts."""
    flows, locales = folder / "flows", folder / "locales"
    flows.mkdir(parents=True, exist_ok=True)
    (flows / "main.yaml").write_text(FLOW, encoding="utf-8")
    shutil.copytree(ROOT / "locales", locales, dirs_exist_ok=True)
    for lang in ("en", "fr", "ln", "st"):
        path = po_path(locales, lang)
        catalog = read_catalog(path, lang)
        for msgid, strings in EXTRA.items():
            catalog.add(msgid, msgid if lang == "en" else strings[lang])
        write_catalog(path, catalog)
    return flows, locales


@dataclass
class Sent:
    """A message as the chat shows it."""

    message_id: int
    text: str
    buttons: list[tuple[str, str]]
    """(label, callback data) of each button, in order."""
    from_bot: bool = True


@dataclass
class FakeTelegram:
    """The Bot API for respx, served by ``bot.dev.fake_botapi.FakeBotApi`` (the fake behind
    ``hotline telegram fake-api``): its answers, errors and chats are the ones the tests see.
    This adds what tests read: every call with its raw form parameters, deleted ids, the chats'
    messages as ``Sent``, and methods made to fail as if Telegram could not be reached."""

    bot: FakeBotApi = field(default_factory=FakeBotApi)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    deleted: dict[int, set[int]] = field(default_factory=dict)
    fail: set[str] = field(default_factory=set)
    """Methods that fail as if Telegram could not be reached."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    """The app's event loop and the outbox worker's thread both call."""

    def install(self, router: respx.MockRouter, base: str = API) -> None:
        """Serve every method under ``base`` (``.../bot{token}``)."""
        pattern = "^" + re.escape(base) + r"/(?P<method>\w+)$"
        router.post(url__regex=pattern).mock(side_effect=self.answer)

    def new_id(self, chat: int = USER) -> int:
        """The chat's next message id (shared by the person and the bot, as in a private chat)."""
        with self.lock:
            return self.bot.chat(chat).new_id()

    def show(self, chat: int, message_id: int, text: str) -> None:
        """A message the person sent, shown in the chat."""
        with self.lock:
            self.bot.chat(chat).messages[message_id] = Shown(message_id, text, False)

    def expect_answer(self, query_id: str, chat: int) -> None:
        """A callback query sent to the bot, which it may answer once."""
        with self.lock:
            self.bot.pending[query_id] = chat

    def answer(self, request: httpx.Request, method: str) -> Response:
        """One Bot API call."""
        params = dict(parse_qsl(request.content.decode()))
        if method in self.fail:
            raise httpx.ConnectError("unreachable", request=request)
        token = request.url.path.rsplit("/", 2)[-2].removeprefix("bot")
        with self.lock:
            self.calls.append((method, params))
            if method == "deleteMessages":
                ids = set(json.loads(params["message_ids"]))
                self.deleted.setdefault(int(params["chat_id"]), set()).update(ids)
            status, body = self.bot.respond(token, method, params)
        return Response(status, json=body)

    @property
    def chats(self) -> dict[int, dict[int, Sent]]:
        """Each chat's messages still shown, by id."""
        with self.lock:
            return {
                chat.id: {shown.message_id: _sent(shown) for shown in chat.visible()}
                for chat in self.bot.chats.values()
            }

    def methods(self) -> list[str]:
        """Every method called, in order (getMe left out)."""
        return [m for m, _ in self.calls if m != "getMe"]

    def called(self, method: str) -> list[dict[str, Any]]:
        """The parameters of every call of one method."""
        return [p for m, p in self.calls if m == method]

    def visible(self, chat: int = USER) -> list[Sent]:
        """The chat's messages still shown, oldest first."""
        shown = self.chats.get(chat, {})
        return [shown[k] for k in sorted(shown)]

    def last(self, chat: int = USER) -> Sent:
        """The newest message of the bot in a chat."""
        return [m for m in self.visible(chat) if m.from_bot][-1]

    def keyboard(self, chat: int = USER) -> Sent:
        """The newest message with buttons."""
        return [m for m in self.visible(chat) if m.buttons][-1]


def _sent(shown: Shown) -> Sent:
    buttons = [(b["text"], b["callback_data"]) for row in shown.keyboard for b in row]
    return Sent(shown.message_id, shown.text, buttons, from_bot=shown.from_bot)


def _message(chat: int, message_id: int, text: str) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "date": 1_700_000_000,
        "chat": {"id": chat, "type": "private"},
        "from": {"id": 42, "is_bot": True, "first_name": "Hotline"},
        "text": text,
    }


def person(user: int, language_code: str | None) -> dict[str, Any]:
    """A Telegram user as updates describe them."""
    found: dict[str, Any] = {"id": user, "is_bot": False, "first_name": "Test"}
    if language_code is not None:
        found["language_code"] = language_code
    return found


@dataclass
class TelegramHotline:
    """The running app, posted to the way Telegram does."""

    app: FastAPI
    client: TestClient
    api: FakeTelegram
    update_id: int = 5000

    def post(self, update: dict[str, Any], *, secret: str | None = SECRET) -> httpx2.Response:
        """Post an update with the secret header (or a given one, or none)."""
        headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
        return self.client.post("/telegram/webhook", json=update, headers=headers)

    def update(self, **body: Any) -> dict[str, Any]:
        """A new update (the next update_id)."""
        self.update_id += 1
        return {"update_id": self.update_id, **body}

    def message(
        self,
        text: str | None = None,
        *,
        user: int = USER,
        language_code: str | None = "en",
        chat_type: str = "private",
        **extra: Any,
    ) -> dict[str, Any]:
        """An update carrying a message from a person (a command when it starts with /)."""
        message: dict[str, Any] = {
            "message_id": self.api.new_id(user),
            "date": 1_700_000_000,
            "chat": {"id": user, "type": chat_type},
            "from": person(user, language_code),
            **extra,
        }
        if text is not None:
            message["text"] = text
            if text.startswith("/"):
                length = len(text.split()[0])
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
            self.api.show(user, message["message_id"], text)
        return self.update(message=message)

    def send(self, text: str, **kwargs: Any) -> httpx2.Response:
        """A person sends a message; the webhook must take it."""
        response = self.post(self.message(text, **kwargs))
        assert response.status_code == 200, response.text
        return response

    def button(self, label: str, *, user: int = USER, on: Sent | None = None) -> dict[str, Any]:
        """An update for a tap on the newest button with this label (or on message ``on``)."""
        message = on or self.api.keyboard(user)
        data = next((d for text, d in message.buttons if text == label), None)
        assert data is not None, f"no button {label!r} in {message.buttons}"
        return self.callback(data, message.message_id, user=user)

    def callback(self, data: str, message_id: int, *, user: int = USER) -> dict[str, Any]:
        """A callback query as Telegram sends it for a tapped button."""
        self.update_id += 1
        query: dict[str, Any] = {
            "id": f"cq{self.update_id}",
            "from": person(user, "en"),
            "chat_instance": "ci",
            "data": data,
            "message": _message(user, message_id, "..."),
        }
        query["message"]["chat"] = {"id": user, "type": "private"}
        self.api.expect_answer(query["id"], user)
        return {"update_id": self.update_id, "callback_query": query}

    def tap(self, label: str, **kwargs: Any) -> httpx2.Response:
        """A person taps a button; the webhook must take it."""
        response = self.post(self.button(label, **kwargs))
        assert response.status_code == 200, response.text
        return response


@functools.cache
def flow_content(ambassador: bool = False) -> tuple[Path, Content]:
    """The test flow (with the shipped ambassador flow and areas when asked) and its catalogs,
    written to a folder and loaded once per process; the folder, and the content."""
    folder = Path(tempfile.mkdtemp(prefix="hotline-telegram-"))
    atexit.register(shutil.rmtree, folder, True)
    flows, locales = write_content(folder)
    if ambassador:
        shutil.copy(ROOT / "flows" / "ambassador.yaml", flows / "ambassador.yaml")
        (flows / "data").mkdir(exist_ok=True)
        shutil.copy(ROOT / "flows" / "data" / "areas.yaml", flows / "data" / "areas.yaml")
    return folder, load_content(flows, locales)


def make_settings(
    folder: Path, database_url: str | None = None, *, ambassador: bool = False, **overrides: Any
) -> Settings:
    """Settings for a test app on the test flow, the Telegram bot on; files in ``folder``."""
    content_folder, _ = flow_content(ambassador)
    values: dict[str, Any] = {
        "telegram_token": TOKEN,
        "telegram_webhook_secret": SECRET,
        "pseudonym_key": PSEUDONYM_KEY,
        "public_number": HOTLINE,
        "secrets_file": folder / "s.json",
        "flows_dir": content_folder / "flows",
        "locales_dir": content_folder / "locales",
    }
    if database_url is not None:
        values["database_url"] = database_url
    return test_settings(folder, **{**values, **overrides})


def content_of(settings: Settings) -> Content | None:
    """The content already loaded for these settings' flows and catalogs (None: load them)."""
    if (settings.flows_dir, settings.locales_dir) == (ROOT / "flows", ROOT / "locales"):
        return shipped()
    for ambassador in (False, True):
        folder, content = flow_content(ambassador)
        if (settings.flows_dir, settings.locales_dir) == (folder / "flows", folder / "locales"):
            return content
    return None


LOCAL_API = "http://127.0.0.1:8081"
"""A local Bot API server's root, as HOTLINE_TELEGRAM_API_BASE names it."""


def starter(
    folder: Path,
    router: respx.MockRouter,
    database_url: str | None = None,
    *,
    ambassador: bool = False,
) -> Iterator[Callable[..., TelegramHotline]]:
    """Start apps on demand (with settings overrides); each is stopped after the test."""
    stack: list[TestClient] = []
    api = FakeTelegram()
    api.install(router, API)
    api.install(router, f"{LOCAL_API}/bot{TOKEN}")

    def start(*, unreachable: bool = False, **overrides: Any) -> TelegramHotline:
        if unreachable:
            api.fail.add("getMe")
        settings = make_settings(folder, database_url, ambassador=ambassador, **overrides)
        app = create_app(settings, content=content_of(settings))
        client = TestClient(app)
        client.__enter__()
        stack.append(client)
        return TelegramHotline(app, client, api)

    try:
        yield start
    finally:
        while stack:
            stack.pop().__exit__(None, None, None)


def translate(ambassador: bool = False) -> Translate:
    """The test catalogs' translation, with the hotline number filled in."""
    catalogs = flow_content(ambassador)[1].catalogs

    def tr(lang: str, msgid: str) -> str:
        return catalogs.gettext(lang, msgid).replace("{hotline_number}", HOTLINE)

    return tr


def assert_no_telegram_ids(*texts: str, ids: tuple[int, ...] = TELEGRAM_IDS) -> None:
    """No test Telegram id appears in the texts (database dump, captured logs)."""
    for telegram_id in ids:
        for blob in texts:
            assert str(telegram_id) not in blob, "a Telegram id was stored or logged in clear"


def assert_no_token(*texts: str) -> None:
    """The bot token (or its secret half) appears nowhere in the texts."""
    for blob in texts:
        assert TOKEN.split(":")[1] not in blob, "the bot token was logged"
