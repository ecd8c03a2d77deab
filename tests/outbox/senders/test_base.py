"""The sender interface and the demo sender the embedded default uses without provider keys."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from bot.outbox.senders import LogSender, Sender, SendResult
from bot.outbox.senders.africastalking import AfricasTalkingSender
from tests.conftest import TEST_PHONES, assert_no_phone_numbers


def test_a_result_is_immutable_and_defaults_to_retryable() -> None:
    result = SendResult(ok=False, error="gateway")
    assert not result.permanent and result.provider_message_id is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.ok = True  # type: ignore[misc]


def test_the_senders_satisfy_the_interface() -> None:
    senders: list[Sender] = [LogSender(), AfricasTalkingSender("sandbox", "key")]
    assert [s.name for s in senders] == ["log", "africastalking"]


def test_the_demo_sender_accepts_and_numbers_its_messages(caplog: pytest.LogCaptureFixture) -> None:
    sender = LogSender()
    with caplog.at_level(logging.INFO, logger="bot.outbox.senders.base"):
        first = sender.send(TEST_PHONES[0], "Appelez gratuitement la ligne d'aide")
        second = sender.send(TEST_PHONES[1], "Call the hotline")
    assert first == SendResult(ok=True, provider_message_id="demo-1")
    assert second.provider_message_id == "demo-2"
    assert sender.count == 2
    assert "not sent" in caplog.text
    assert "Appelez" not in caplog.text and "hotline" not in caplog.text
    assert_no_phone_numbers(caplog.text)
