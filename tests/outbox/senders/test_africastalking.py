"""Africa's Talking at the HTTP layer: the official SDK's real requests, answered by `responses`.

No test reaches the network: `responses` refuses any request it was not told about.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
import responses
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from bot.outbox.senders.africastalking import ACCEPTED, PERMANENT, AfricasTalkingSender
from tests.conftest import TEST_PHONES, assert_no_phone_numbers

SANDBOX = "https://api.sandbox.africastalking.com/version1/messaging"
LIVE = "https://api.africastalking.com/version1/messaging"
TO = TEST_PHONES[0]
TEXT = "Appelez gratuitement la ligne d'aide : 0800 000 000."


def answer(
    code: int = 101, status: str = "Success", message_id: str = "ATXid_c1"
) -> dict[str, Any]:
    """The provider's JSON for one recipient."""
    return {
        "SMSMessageData": {
            "Message": "Sent to 1/1 Total Cost: USD 0.0100" if code in ACCEPTED else "Sent to 0/1",
            "Recipients": [
                {
                    "statusCode": code,
                    "number": TO,
                    "status": status,
                    "cost": "USD 0.0100" if code in ACCEPTED else "0",
                    "messageId": message_id if code in ACCEPTED else "None",
                }
            ],
        }
    }


@pytest.fixture
def provider() -> Iterator[responses.RequestsMock]:
    """Every request the SDK makes is answered here; an unexpected one fails the test."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def form(call: Any) -> dict[str, str]:
    """The urlencoded form of a recorded request."""
    body = call.request.body
    text = body.decode() if isinstance(body, bytes) else str(body)
    return {k: v[0] for k, v in parse_qs(text).items()}


def test_an_accepted_sms_gives_the_message_id(provider: responses.RequestsMock) -> None:
    provider.add(responses.POST, SANDBOX, json=answer(101), status=201)
    result = AfricasTalkingSender("sandbox", "at-key-123").send(TO, TEXT)
    assert result.ok and result.provider_message_id == "ATXid_c1"
    assert not result.error
    (call,) = provider.calls
    assert call.request.url == SANDBOX
    assert call.request.method == "POST"
    assert call.request.headers["apiKey"] == "at-key-123"
    assert call.request.headers["Accept"] == "application/json"
    sent = form(call)
    assert sent["username"] == "sandbox"
    assert sent["to"] == TO
    assert sent["message"] == TEXT
    assert "from" not in sent


def test_a_live_account_uses_the_live_host_and_its_sender_id(
    provider: responses.RequestsMock,
) -> None:
    provider.add(responses.POST, LIVE, json=answer(100, "Processed"), status=201)
    result = AfricasTalkingSender("hotline-cd", "live-key", sender_id="HOTLINE").send(TO, TEXT)
    assert result.ok
    sent = form(provider.calls[0])
    assert sent["username"] == "hotline-cd" and sent["from"] == "HOTLINE"


@pytest.mark.parametrize("code", sorted(ACCEPTED))
def test_processed_sent_and_queued_are_accepted(
    provider: responses.RequestsMock, code: int
) -> None:
    provider.add(responses.POST, SANDBOX, json=answer(code, "Queued"), status=201)
    assert AfricasTalkingSender("sandbox", "k").send(TO, TEXT).ok


def test_a_json_answer_with_a_charset_is_still_understood(
    provider: responses.RequestsMock,
) -> None:
    """The SDK parses JSON only for exactly "application/json"; a sent SMS must not be resent."""
    provider.add(
        responses.POST,
        SANDBOX,
        body=json.dumps(answer(101, message_id="ATXid_c2")),
        status=201,
        content_type="application/json; charset=utf-8",
    )
    result = AfricasTalkingSender("sandbox", "k").send(TO, TEXT)
    assert result.ok and result.provider_message_id == "ATXid_c2"


@pytest.mark.parametrize(("code", "status"), sorted(PERMANENT.items()))
def test_a_refusal_no_retry_changes_is_permanent(
    provider: responses.RequestsMock, code: int, status: str
) -> None:
    provider.add(responses.POST, SANDBOX, json=answer(code, status), status=201)
    result = AfricasTalkingSender("sandbox", "k").send(TO, TEXT)
    assert not result.ok and result.permanent
    assert result.error == f"status {code} {status}"
    assert_no_phone_numbers(result.error or "")


@pytest.mark.parametrize(
    ("code", "status"),
    [(405, "InsufficientBalance"), (401, "RiskHold"), (407, "CouldNotRoute"), (502, "Gateway")],
)
def test_a_refusal_that_may_pass_later_is_retried(
    provider: responses.RequestsMock, code: int, status: str
) -> None:
    provider.add(responses.POST, SANDBOX, json=answer(code, status), status=201)
    result = AfricasTalkingSender("sandbox", "k").send(TO, TEXT)
    assert not result.ok and not result.permanent and not result.unknown
    assert result.error == f"status {code} {status}"


@pytest.mark.parametrize(
    ("http", "body"),
    [
        (401, "The supplied authentication is invalid"),
        (500, "Internal Server Error"),
        (503, "<html>Service Unavailable</html>"),
        (400, f"Invalid phone number: {TO}"),
    ],
)
def test_an_http_error_is_retried_never_raised_and_never_echoes_a_number(
    provider: responses.RequestsMock, http: int, body: str
) -> None:
    provider.add(responses.POST, SANDBOX, body=body, status=http, content_type="text/plain")
    result = AfricasTalkingSender("sandbox", "k").send(TO, TEXT)
    assert not result.ok and not result.permanent and not result.unknown
    assert (result.error or "").startswith("refused: ")
    assert_no_phone_numbers(result.error or "")


def never_connected() -> requests.ConnectionError:
    """What requests raises when nothing listens: the request never left this machine."""
    refused = NewConnectionError(None, "Failed to establish a new connection: refused")  # type: ignore[arg-type]
    return requests.ConnectionError(MaxRetryError(None, "/version1/messaging", refused))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "maybe_sent"),
    [
        (never_connected(), False),
        (requests.ConnectTimeout("connect timed out"), False),
        (requests.ReadTimeout("read timed out"), True),
        (requests.ConnectionError(ProtocolError("Connection aborted.")), True),
        (requests.ConnectionError("connection reset"), True),
    ],
    ids=["refused", "connect-timeout", "read-timeout", "aborted", "reset"],
)
def test_a_network_error_is_retried_or_unknown_if_the_request_may_have_gone_out(
    provider: responses.RequestsMock, error: requests.RequestException, maybe_sent: bool
) -> None:
    provider.add(responses.POST, SANDBOX, body=error)
    result = AfricasTalkingSender("sandbox", "k").send(TO, TEXT)
    assert not result.ok and not result.permanent
    assert result.error == f"network: {type(error).__name__}"
    assert result.unknown is maybe_sent


@pytest.mark.parametrize(
    "payload",
    [
        {"SMSMessageData": {"Message": "InvalidSenderId", "Recipients": []}},
        {"unexpected": True},
        {"SMSMessageData": {"Recipients": [{"statusCode": "x"}]}},
    ],
)
def test_an_unexpected_answer_is_an_unknown_outcome(
    provider: responses.RequestsMock, payload: dict[str, Any]
) -> None:
    """HTTP 201 that cannot be read: the provider may have taken the message."""
    provider.add(responses.POST, SANDBOX, json=payload, status=201)
    result = AfricasTalkingSender("sandbox", "k").send(TO, TEXT)
    assert not result.ok and not result.permanent and result.unknown
    assert (result.error or "").startswith("unexpected answer")


def test_a_text_answer_is_unknown_without_echoing_a_number(
    provider: responses.RequestsMock,
) -> None:
    provider.add(responses.POST, SANDBOX, body=f"Queued for {TO}", status=201)
    result = AfricasTalkingSender("sandbox", "k").send(TO, TEXT)
    assert not result.ok and not result.permanent and result.unknown
    assert_no_phone_numbers(result.error or "")


@pytest.mark.parametrize("bad", ["243000000001", "+243", "HELP"])
def test_a_number_the_sdk_refuses_fails_for_good_before_any_request(
    provider: responses.RequestsMock, bad: str
) -> None:
    provider.assert_all_requests_are_fired = False
    result = AfricasTalkingSender("sandbox", "k").send(bad, TEXT)
    assert not result.ok and result.permanent
    assert result.error == "invalid number (not E.164)"
    assert len(provider.calls) == 0
