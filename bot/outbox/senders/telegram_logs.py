"""Keep the bot token and Telegram ids out of the logs.

httpx logs every request URL at INFO, and Bot API URLs carry the token; python-telegram-bot logs
request parameters and updates (chat and user ids) at DEBUG. Those loggers are held at WARNING
whatever ``HOTLINE_LOG_LEVEL`` says, and what they still log has tokens and long numbers masked.
"""

from __future__ import annotations

import logging
import re

LIBRARY_LOGGERS = (
    "httpx",
    "httpcore",
    "telegram",
    "telegram.ext",
    "telegram.Bot",
    "telegram.ext.ExtBot",
    "telegram.ext.Application",
    "telegram.ext.Updater",
    "telegram.ext.JobQueue",
    "telegram.ext.ConversationHandler",
    "telegram.ext.AIORateLimiter",
    "telegram.request.BaseRequest",
    "telegram.request.HTTPXRequest",
)
"""Loggers that may name the token or a chat (a filter only sees its own logger's records)."""
OWN_LOGGERS = ("bot.channels.telegram.bot", "bot.channels.telegram.routes")

_TOKEN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}")
_NUMBER = re.compile(r"(?<![\w.])-?\d{7,}(?![\w.])")


class Scrub(logging.Filter):
    """Mask bot tokens (and, for library loggers, ids: numbers of 7+ digits) in a record."""

    def __init__(self, *, numbers: bool) -> None:
        super().__init__()
        self.numbers = numbers
        self.secrets: set[str] = set()

    def clean(self, text: str) -> str:
        """The text with every known token, token-like string and (optionally) id masked."""
        for secret in self.secrets:
            text = text.replace(secret, "<token>")
        text = _TOKEN.sub("<token>", text)
        return _NUMBER.sub("<id>", text) if self.numbers else text

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message (and traceback text) masked; never drop it."""
        record.msg = self.clean(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self.clean(logging.Formatter().formatException(record.exc_info))
        return True


def mask(text: str, token: str) -> str:
    """A text (an error from Telegram) with the token masked, to show a person."""
    return _TOKEN.sub("<token>", text.replace(token, "<token>") if token else text)


def quiet_telegram_logs(token: str) -> None:
    """Hold the library loggers at WARNING and mask the token everywhere the bot logs."""
    for name, numbers in [(n, True) for n in LIBRARY_LOGGERS] + [(n, False) for n in OWN_LOGGERS]:
        logger = logging.getLogger(name)
        if numbers and logger.level < logging.WARNING:  # NOTSET (0) would follow the root
            logger.setLevel(logging.WARNING)
        scrub = next((f for f in logger.filters if isinstance(f, Scrub)), None)
        if scrub is None:
            scrub = Scrub(numbers=numbers)
            logger.addFilter(scrub)
        if token:
            scrub.secrets.add(token)
