"""Outbox keys of on-call alerts, written and read here only: one message per case and level."""

from __future__ import annotations

TELEGRAM_ALERT = "alert-tg"
SMS_ALERT = "alert"


def telegram_alert(case_id: int, level: int) -> str:
    """The key of a Telegram alert: ``alert-tg:{case id}:{level}`` (its buttons are rebuilt
    from it when it is sent)."""
    return f"{TELEGRAM_ALERT}:{case_id}:{level}"


def sms_alert(case_id: int, level: int) -> str:
    """The key of an SMS alert: ``alert:{case id}:{level}``."""
    return f"{SMS_ALERT}:{case_id}:{level}"


def alerted_case(key: str) -> int | None:
    """The case id of a Telegram alert's key, or None for any other message."""
    prefix, _, rest = key.partition(":")
    case_id, _, _level = rest.partition(":")
    if prefix != TELEGRAM_ALERT or not case_id.isdigit():
        return None
    return int(case_id)
