"""The Telegram sender (Bot API ``sendMessage`` mocked by respx) and the worker's routing."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from urllib.parse import parse_qsl

import httpx
import pytest
import respx
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.core.settings import Settings
from bot.models import OutboundMessage
from bot.outbox import queue
from bot.outbox.senders import make_senders
from bot.outbox.senders.base import LogSender, SendResult
from bot.outbox.senders.telegram import (
    TelegramSender,
    alert_buttons,
    api_base_url,
    parse_operator_data,
)
from bot.outbox.worker import NoSender, OutboxWorker
from tests.cases.helpers import CIPHER

TOKEN = "123456789:AAtestTOKENforTHEsenderTESTS_0123-x"
API = f"https://api.telegram.org/bot{TOKEN}"
CHAT = "700000009"


def tr(lang: str, msgid: str) -> str:
    return f"{lang}:{msgid}"


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as mocked:
        yield mocked


def sent(api: respx.MockRouter) -> list[dict[str, str]]:
    return [dict(parse_qsl(call.request.content.decode())) for call in api.calls]


def test_an_alert_gets_its_buttons_and_other_messages_none() -> None:
    assert alert_buttons("alert-tg:12:1", "fr", tr) == [
        [("fr:Acknowledge", "op:ack:12"), ("fr:Claim", "op:claim:12")]
    ]
    assert alert_buttons("alert:12:1", "fr", tr) is None
    assert alert_buttons("reply:abc", "fr", tr) is None
    assert parse_operator_data("op:ack:12") == ("ack", 12)
    assert parse_operator_data("op:claim:7") == ("claim", 7)
    for bad in ("op:drop:1", "op:ack:x", "3:1", "", None):
        assert parse_operator_data(bad) is None


def test_local_bot_api_server_urls() -> None:
    assert api_base_url("T", None) == "https://api.telegram.org/botT"
    assert api_base_url("T", "http://127.0.0.1:8081/") == "http://127.0.0.1:8081/botT"


def test_send_with_buttons(api: respx.MockRouter) -> None:
    api.post(f"{API}/sendMessage").mock(
        return_value=httpx.Response(200, json={"ok": True, "result": {"message_id": 77}})
    )
    sender = TelegramSender(TOKEN, tr=tr).for_message(
        key="alert-tg:5:0", purpose="alert", lang="st"
    )
    assert sender.send(CHAT, "Hotline: case") == SendResult(ok=True, provider_message_id="tg-77")
    [params] = sent(api)
    assert params["chat_id"] == CHAT and params["text"] == "Hotline: case"
    keyboard = json.loads(params["reply_markup"])["inline_keyboard"]
    assert [[b["callback_data"] for b in row] for row in keyboard] == [["op:ack:5", "op:claim:5"]]


@pytest.mark.parametrize(
    ("status", "code", "permanent"),
    [(403, 403, True), (400, 400, True), (429, 429, False), (502, 502, False), (401, 401, False)],
)
def test_refusals(api: respx.MockRouter, status: int, code: int, permanent: bool) -> None:
    api.post(f"{API}/sendMessage").mock(
        return_value=httpx.Response(
            status,
            json={"ok": False, "error_code": code, "description": f"chat {CHAT} said no"},
        )
    )
    result = TelegramSender(TOKEN, tr=tr).send(CHAT, "x")
    assert not result.ok and result.permanent is permanent
    assert result.error is not None and CHAT not in result.error and TOKEN not in result.error


@pytest.mark.parametrize(
    ("error", "maybe_sent"),
    [
        (httpx.ConnectError("down"), False),
        (httpx.ConnectTimeout("slow"), False),
        (httpx.ReadTimeout("no answer"), True),
        (httpx.RemoteProtocolError("cut mid-answer"), True),
    ],
)
def test_network_errors_are_retried_or_unknown_once_the_request_may_have_gone_out(
    api: respx.MockRouter, caplog: pytest.LogCaptureFixture, error: Exception, maybe_sent: bool
) -> None:
    caplog.set_level(logging.DEBUG)
    api.post(f"{API}/sendMessage").mock(side_effect=error)
    result = TelegramSender(TOKEN, tr=tr).send(CHAT, "x")
    expected = f"network: {type(error).__name__}"
    assert result == SendResult(ok=False, error=expected, unknown=maybe_sent)
    assert TOKEN.split(":")[1] not in caplog.text


@pytest.mark.parametrize(("status", "maybe_sent"), [(200, True), (502, False)])
def test_an_answer_that_cannot_be_read(
    api: respx.MockRouter, status: int, maybe_sent: bool
) -> None:
    """A 2xx that is not the Bot API's JSON may be a message sent; a proxy's 502 page is not."""
    api.post(f"{API}/sendMessage").mock(return_value=httpx.Response(status, text="<html>"))
    result = TelegramSender(TOKEN, tr=tr).send(CHAT, "x")
    assert not result.ok and not result.permanent and result.unknown is maybe_sent


def test_make_senders() -> None:
    assert isinstance(make_senders(Settings())["telegram"], LogSender)
    assert isinstance(make_senders(Settings(telegram_token=TOKEN))["telegram"], TelegramSender)


def queue_message(engine: Engine, channel: str, key: str) -> int:
    with Session(engine) as session:
        message = queue.enqueue(
            session,
            CIPHER,
            key=key,
            channel=channel,
            purpose="alert",
            contact="op_1",
            recipient=CHAT,
            body="Hotline: case",
            lang="en",
        )
        session.commit()
        assert message.id is not None
        return message.id


async def test_the_worker_sends_each_channel_its_own_way(engine: Engine) -> None:
    sms, telegram = LogSender(), LogSender()
    worker = OutboxWorker(engine, CIPHER, sms, senders={"telegram": telegram})
    queue_message(engine, "sms", "alert:1:0")
    queue_message(engine, "telegram", "alert-tg:1:0")
    assert await worker.run_due() == 2
    assert (sms.count, telegram.count) == (1, 1)


async def test_a_channel_without_a_sender_fails_for_good(engine: Engine) -> None:
    sms = LogSender()
    worker = OutboxWorker(engine, CIPHER, sms)
    message_id = queue_message(engine, "telegram", "alert-tg:1:0")
    await worker.run_due()
    assert sms.count == 0, "a Telegram chat id never goes out as an SMS"
    with Session(engine) as session:
        message = session.get(OutboundMessage, message_id)
        assert message is not None and message.status == "failed" and message.recipient is None
        assert message.last_error == "no sender for channel telegram"
    assert NoSender("x").send("a", "b").permanent
