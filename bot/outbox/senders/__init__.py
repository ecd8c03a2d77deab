"""Outbound senders behind one interface, chosen from settings per channel."""

from __future__ import annotations

import logging

from bot.core.settings import Settings
from bot.outbox.senders.base import LogSender, Sender, SendResult

__all__ = ["LogSender", "SendResult", "Sender", "make_sender", "make_senders"]

log = logging.getLogger(__name__)


def make_sender(settings: Settings) -> Sender:
    """Africa's Talking when a key is configured, else the demo sender that sends nothing."""
    if settings.at_api_key is not None and settings.at_api_key.get_secret_value():
        from bot.outbox.senders.africastalking import AfricasTalkingSender

        return AfricasTalkingSender(
            settings.at_username,
            settings.at_api_key.get_secret_value(),
            settings.at_sender_id or None,  # set but empty (compose's `${VAR:-}`): the default
        )
    log.warning("no HOTLINE_AT_API_KEY: outbound SMS are logged, not sent (demo sender)")
    return LogSender()


def make_senders(settings: Settings) -> dict[str, Sender]:
    """Senders for channels other than SMS: Telegram through the Bot API when a token is set,
    else the demo sender that sends nothing."""
    token = settings.telegram_token.get_secret_value().strip() if settings.telegram_token else ""
    if token:
        from bot.i18n.catalog import Catalogs
        from bot.outbox.senders.telegram import TelegramSender

        catalogs = Catalogs.load(settings.locales_dir)
        return {"telegram": TelegramSender(token, settings.telegram_api_base, tr=catalogs.gettext)}
    return {"telegram": LogSender()}
