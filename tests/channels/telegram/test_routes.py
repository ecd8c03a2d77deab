"""``POST /telegram/webhook``: the secret header, one processing per update_id, the bot's life."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import respx

from tests.channels.telegram.fake import (
    LOCAL_API,
    SECRET,
    TOKEN,
    USER,
    TelegramHotline,
    assert_no_token,
    starter,
)


@pytest.fixture
def start(tmp_path: Path, router: respx.MockRouter) -> Iterator[Callable[..., TelegramHotline]]:
    yield from starter(tmp_path, router)


@pytest.fixture
def hotline(start: Callable[..., TelegramHotline]) -> TelegramHotline:
    return start()


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x", SECRET[:-1]])
def test_a_wrong_or_missing_secret_is_refused_and_nothing_processed(
    hotline: TelegramHotline, secret: str | None
) -> None:
    update = hotline.message("/start")
    response = hotline.post(update, secret=secret)
    assert response.status_code == 403
    assert hotline.api.methods() == [], "nothing was sent"
    # The same update with the right secret afterwards is processed: it was not marked as seen.
    assert hotline.post(update).json() == {"status": "ok"}
    assert hotline.api.methods() == ["sendMessage"]


def test_the_right_secret_is_processed(hotline: TelegramHotline) -> None:
    response = hotline.send("/start")
    assert response.json() == {"status": "ok"}
    [sent] = hotline.api.called("sendMessage")
    assert sent["chat_id"] == str(USER)


def test_an_update_sent_twice_is_processed_once(hotline: TelegramHotline) -> None:
    update = hotline.message("/start")
    assert hotline.post(update).json() == {"status": "ok"}
    assert hotline.post(update).json() == {"status": "duplicate"}
    tap = hotline.button("Get help now")
    assert hotline.post(tap).json() == {"status": "ok"}
    assert hotline.post(tap).json() == {"status": "duplicate"}
    assert hotline.api.methods() == ["sendMessage", "editMessageText", "answerCallbackQuery"]


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"message": {}}', b'{"update_id": "7"}'])
def test_what_is_not_an_update_is_refused(hotline: TelegramHotline, body: bytes) -> None:
    response = hotline.client.post(
        "/telegram/webhook",
        content=body,
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert hotline.api.methods() == []


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,  # past Python's recursion limit
        b'{"update_id": 7, "message": ' + b'{"a": ' * 900 + b"1" + b"}" * 901,
        b'{"update_id": 8, "message": {"text": ' + b"[" * 200 + b"]" * 200 + b"}}",
    ],
)
def test_deeply_nested_json_is_refused_with_400(hotline: TelegramHotline, body: bytes) -> None:
    response = hotline.client.post(
        "/telegram/webhook",
        content=body,
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert hotline.api.methods() == []


def test_a_malformed_update_is_taken_and_ignored(hotline: TelegramHotline) -> None:
    update = hotline.update(message={"message_id": "x", "chat": 5})
    assert hotline.post(update).json() == {"status": "ok"}
    assert hotline.api.methods() == []


def test_an_update_of_a_kind_the_bot_does_not_handle_is_taken(hotline: TelegramHotline) -> None:
    update = hotline.update(edited_message=hotline.message("hello")["message"])
    assert hotline.post(update).json() == {"status": "ok"}
    assert hotline.api.methods() == []


def test_without_a_token_the_webhook_does_not_exist(start: Callable[..., TelegramHotline]) -> None:
    hotline = start(telegram_token=None)
    assert hotline.app.state.telegram is None
    assert hotline.post(hotline.message("/start")).status_code == 404
    assert hotline.api.calls == [], "no call to Telegram at all"


def test_the_bot_starts_with_the_app_and_stops_with_it(
    start: Callable[..., TelegramHotline],
) -> None:
    hotline = start()
    assert hotline.app.state.telegram.application.running
    assert [m for m, _ in hotline.api.calls] == ["getMe"]
    hotline.client.__exit__(None, None, None)
    assert not hotline.app.state.telegram.application.running


def test_telegram_unreachable_at_start_does_not_stop_the_hotline(
    start: Callable[..., TelegramHotline], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    hotline = start(unreachable=True)
    api = hotline.api
    assert not hotline.app.state.telegram.application.running
    assert hotline.client.get("/healthz").status_code == 200
    assert "telegram bot not started (NetworkError)" in caplog.text
    # While Telegram stays away, updates are refused so that Telegram sends them again.
    update = hotline.message("/start")
    assert hotline.post(update).status_code == 503
    api.fail.clear()
    assert hotline.post(update).json() == {"status": "ok"}
    assert hotline.app.state.telegram.application.running
    assert hotline.api.methods() == ["sendMessage"]
    assert_no_token(caplog.text)


def test_a_local_bot_api_server_is_used_when_set(start: Callable[..., TelegramHotline]) -> None:
    hotline = start(telegram_api_base=LOCAL_API + "/")
    bot = hotline.app.state.telegram.application.bot
    assert bot.base_url == f"{LOCAL_API}/bot{TOKEN}"
    assert bot.base_file_url == f"{LOCAL_API}/file/bot{TOKEN}"
    hotline.send("/start")
    assert hotline.api.methods() == ["sendMessage"]
