"""Africa's Talking SMS through the official SDK (synchronous: the worker runs it in a thread).

``POST /version1/messaging`` (sandbox host when the username is ``sandbox``); success is HTTP
201 with, per recipient, ``{"statusCode": 101, "status": "Success", "messageId": "ATXid_…"}``.

An error answer (HTTP 4xx/5xx, a refusal per recipient) says the message was not taken. No
answer at all says nothing: unless the connection was never made, the result is ``unknown``
(the SMS may have gone out), and the outbox decides whether to send it again.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from typing import Any

from africastalking.Service import AfricasTalkingException
from africastalking.SMS import SMSService
from requests import ConnectionError as RequestsConnectionError
from requests import ConnectTimeout, RequestException
from urllib3.exceptions import NewConnectionError

from bot.outbox.senders.base import SendResult

log = logging.getLogger(__name__)

ACCEPTED = {100, 101, 102}  # Processed, Sent, Queued
PERMANENT = {
    402: "InvalidSenderId",
    403: "InvalidPhoneNumber",
    404: "UnsupportedNumberType",
    406: "UserInBlacklist",
    409: "DoNotDisturbRejection",
}
"""Refusals that no retry will change; other codes (risk hold, balance, gateway) are retried."""
_NUMBER = re.compile(r"\+?\d[\d ()-]{4,}\d")


def _scrub(text: str) -> str:
    """Provider text with anything that looks like a phone number blanked (errors are stored)."""
    return _NUMBER.sub("<number>", text)


class AfricasTalkingSender:
    """Send SMS with the ``africastalking`` SDK; refusals become results, not exceptions."""

    name = "africastalking"

    def __init__(self, username: str, api_key: str, sender_id: str | None = None) -> None:
        self._service = SMSService(username, api_key)
        self._sender_id = sender_id

    def send(self, to: str, message: str) -> SendResult:
        """Send one SMS to one E.164 number."""
        try:
            answer: Any = self._service.send(message, [to], sender_id=self._sender_id)
        except AfricasTalkingException as exc:
            # HTTP errors (bad key, outage) are retried: fixing the setting delivers the backlog.
            return SendResult(ok=False, error=f"refused: {_scrub(str(exc))[:200]}")
        except (RequestException, OSError) as exc:
            return SendResult(
                ok=False, error=f"network: {type(exc).__name__}", unknown=_maybe_sent(exc)
            )
        except ValueError:  # the SDK validates the number first; its message repeats the number
            return SendResult(ok=False, error="invalid number (not E.164)", permanent=True)
        return _result(answer)


def _maybe_sent(exc: BaseException) -> bool:
    """Whether the request may have reached the provider: anything but a connection never made
    (refused, unresolved, or its connect timeout)."""
    if isinstance(exc, ConnectTimeout):
        return False
    if isinstance(exc, RequestsConnectionError) and exc.args:
        return not isinstance(getattr(exc.args[0], "reason", None), NewConnectionError)
    return True


def _result(answer: Any) -> SendResult:
    if isinstance(answer, str | bytes):
        # The SDK returns the raw text unless Content-Type is exactly "application/json" (a
        # "; charset=utf-8" suffix is enough): parse it, or an accepted SMS would be retried.
        with contextlib.suppress(ValueError):
            answer = json.loads(answer)
    try:
        recipient = answer["SMSMessageData"]["Recipients"][0]
        code = int(recipient["statusCode"])
    except (KeyError, IndexError, TypeError, ValueError):
        summary = _scrub(str(answer))[:120] if not isinstance(answer, dict) else "no recipient"
        # A 2xx the SDK let through: the provider may have taken the message.
        return SendResult(ok=False, error=f"unexpected answer: {summary}", unknown=True)
    if code in ACCEPTED:
        return SendResult(ok=True, provider_message_id=str(recipient.get("messageId") or ""))
    status = str(recipient.get("status", ""))[:60]
    return SendResult(ok=False, error=f"status {code} {status}", permanent=code in PERMANENT)
