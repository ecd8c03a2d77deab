"""Outbox keys of on-call alerts, written and read here only.

One alert per case and level (``alert:{case}:{level}``); the rest of an operator's alerts in a
grouping window go as one grouped alert (``alert-group:{operator}:{window}``); once a shift's
alert budget is spent, its supervisor gets one summary (``alert-budget:{shift}``). Each has a
Telegram twin (``-tg``): one *page* is the same message on every channel the operator has.
"""

from __future__ import annotations

TELEGRAM_ALERT = "alert-tg"
SMS_ALERT = "alert"
GROUP = "alert-group"
BUDGET = "alert-budget"
TELEGRAM = "-tg"


def _channel(prefix: str, channel: str) -> str:
    return prefix + TELEGRAM if channel == "telegram" else prefix


def telegram_alert(case_id: int, level: int) -> str:
    """The key of a Telegram alert: ``alert-tg:{case id}:{level}`` (its buttons are rebuilt
    from it when it is sent)."""
    return f"{TELEGRAM_ALERT}:{case_id}:{level}"


def sms_alert(case_id: int, level: int) -> str:
    """The key of an SMS alert: ``alert:{case id}:{level}``."""
    return f"{SMS_ALERT}:{case_id}:{level}"


def case_alert(channel: str, case_id: int, level: int) -> str:
    """The key of one case's alert on a channel (``sms`` or ``telegram``)."""
    return telegram_alert(case_id, level) if channel == "telegram" else sms_alert(case_id, level)


def group_alert(channel: str, operator_id: int, window: int) -> str:
    """The key of an operator's grouped alert for one window: ``alert-group[-tg]:{op}:{window}``
    (``window`` counts grouping windows since the epoch)."""
    return f"{_channel(GROUP, channel)}:{operator_id}:{window}"


def budget_alert(channel: str, shift_id: int) -> str:
    """The key of the one summary a shift's supervisor gets when its alert budget is spent."""
    return f"{_channel(BUDGET, channel)}:{shift_id}"


def page(key: str) -> str | None:
    """The page an alert's key belongs to, the same for its SMS and its Telegram message (None
    for anything else): pages, not messages, are what a shift's alert budget counts."""
    prefix, _, rest = key.partition(":")
    base = prefix.removesuffix(TELEGRAM)
    if base not in (SMS_ALERT, GROUP, BUDGET) or not rest:
        return None
    return f"{base}:{rest}"


def is_group(key: str) -> bool:
    """Is this the key of a grouped alert (on either channel)?"""
    return key.partition(":")[0].removesuffix(TELEGRAM) == GROUP


def is_budget(key: str) -> bool:
    """Is this the key of a shift's budget summary (on either channel)?"""
    return key.partition(":")[0].removesuffix(TELEGRAM) == BUDGET


def alerted_case(key: str) -> int | None:
    """The case id of a Telegram alert's key, or None for any other message."""
    prefix, _, rest = key.partition(":")
    case_id, _, _level = rest.partition(":")
    if prefix != TELEGRAM_ALERT or not case_id.isdigit():
        return None
    return int(case_id)
