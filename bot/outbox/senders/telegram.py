"""Telegram messages through the Bot API's ``sendMessage`` (synchronous httpx: the worker runs it
in a thread).

The recipient is a chat id, decrypted from the outbox only to send. An on-call alert (outbox
key ``bot.outbox.keys.telegram_alert``) gets its buttons rebuilt here, in the operator's language:
"Acknowledge" (``op:ack:{case id}``) and "Claim" (``op:claim:{case id}``) — callback data that
names nothing but the case's row id. Refusals no retry can fix (chat not found, bot blocked:
HTTP 400/403) fail at once; flood limits, outages and a bad token are retried, so fixing the
setting delivers the backlog. No readable answer after the request may have gone out is an
``unknown`` outcome (see ``bot.outbox.queue``). Errors are stored without ids or the token.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import httpx

from bot.i18n import ui
from bot.i18n.translate import Translate
from bot.outbox import keys
from bot.outbox.senders.base import SendResult
from bot.outbox.senders.telegram_logs import quiet_telegram_logs

log = logging.getLogger(__name__)

OPERATOR_PREFIX = "op"
"""Callback data of operator buttons: ``op:<action>:<case id>``."""
ACK = "ack"
CLAIM = "claim"
PERMANENT = {400, 403}
"""Bad request (chat not found, text refused) and forbidden (blocked, user deactivated)."""
_NUMBER = re.compile(r"-?\d{5,}")

Buttons = list[list[tuple[str, str]]]
"""Rows of (label, callback data)."""


def operator_data(action: str, case_id: int) -> str:
    """The callback data of an operator button (at most 64 bytes: a verb and a row id)."""
    return f"{OPERATOR_PREFIX}:{action}:{case_id}"


def parse_operator_data(data: str | None) -> tuple[str, int] | None:
    """(action, case id) from an operator button's data, or None."""
    prefix, _, rest = (data or "").partition(":")
    action, _, case_id = rest.partition(":")
    if prefix != OPERATOR_PREFIX or action not in (ACK, CLAIM) or not case_id.isdigit():
        return None
    return action, int(case_id)


def alert_buttons(key: str, lang: str, tr: Translate) -> Buttons | None:
    """The buttons of the message with outbox key ``key`` (an alert's), or None."""
    case_id = keys.alerted_case(key)
    if case_id is None:
        return None
    return [
        [
            (tr(lang, ui.OP_ACK_BUTTON), operator_data(ACK, case_id)),
            (tr(lang, ui.OP_CLAIM_BUTTON), operator_data(CLAIM, case_id)),
        ]
    ]


def _scrub(text: str) -> str:
    return _NUMBER.sub("<id>", text)


def api_base_url(token: str, api_base: str | None) -> str:
    """``https://api.telegram.org/bot<token>``, or the same on a local Bot API server."""
    root = (api_base or "").strip().rstrip("/")
    if not root:
        return f"https://api.telegram.org/bot{token}"
    if "{token}" in root:
        return root.replace("{token}", token)
    return f"{root}/bot{token}"


class TelegramSender:
    """Send Telegram messages; refusals become results, not exceptions."""

    name = "telegram"

    def __init__(
        self,
        token: str,
        api_base: str | None = None,
        *,
        tr: Translate,
        timeout: float = 10.0,
    ) -> None:
        quiet_telegram_logs(token)  # httpx logs URLs, and Bot API URLs carry the token
        self._url = api_base_url(token, api_base)
        self._tr = tr
        self._timeout = timeout

    def send(self, to: str, message: str) -> SendResult:
        """Send one message without buttons."""
        return self.send_message(to, message)

    def for_message(self, *, key: str, purpose: str, lang: str) -> _WithButtons:
        """A sender for one outbox row: with the buttons its key calls for."""
        return _WithButtons(
            self, alert_buttons(key, lang, self._tr) if purpose == "alert" else None
        )

    def send_message(self, to: str, message: str, buttons: Buttons | None = None) -> SendResult:
        """``sendMessage`` to chat ``to``, with an inline keyboard when given."""
        data: dict[str, Any] = {"chat_id": to, "text": message}
        if buttons:
            keyboard = [[{"text": t, "callback_data": d} for t, d in row] for row in buttons]
            data["reply_markup"] = json.dumps({"inline_keyboard": keyboard})
        try:
            response = httpx.post(f"{self._url}/sendMessage", data=data, timeout=self._timeout)
        except httpx.HTTPError as exc:
            # Only a connection never made says the message did not go out.
            maybe_sent = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
            return SendResult(ok=False, error=f"network: {type(exc).__name__}", unknown=maybe_sent)
        return _result(response)


class _WithButtons:
    """A ``TelegramSender`` bound to one message's buttons."""

    name = "telegram"

    def __init__(self, sender: TelegramSender, buttons: Buttons | None) -> None:
        self._sender = sender
        self.buttons = buttons

    def send(self, to: str, message: str) -> SendResult:
        """Send the message with its buttons."""
        return self._sender.send_message(to, message, self.buttons)


def _result(response: httpx.Response) -> SendResult:
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        return SendResult(
            ok=False,
            error=f"unexpected answer: HTTP {response.status_code}",
            unknown=response.is_success,  # a 2xx that cannot be read may be a message sent
        )
    if answer.get("ok") is True:
        result = answer.get("result")
        message_id = result.get("message_id") if isinstance(result, dict) else None
        return SendResult(ok=True, provider_message_id=f"tg-{message_id}" if message_id else None)
    code = answer.get("error_code")
    code = code if isinstance(code, int) else response.status_code
    description = _scrub(str(answer.get("description") or ""))[:200]
    return SendResult(
        ok=False, error=f"telegram {code}: {description}", permanent=code in PERMANENT
    )
