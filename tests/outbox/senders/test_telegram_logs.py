"""The bot token and Telegram ids stay out of the logs, whatever the log level."""

from __future__ import annotations

import logging

import pytest

from bot.outbox.senders.telegram_logs import LIBRARY_LOGGERS, Scrub, mask, quiet_telegram_logs
from tests.channels.telegram.fake import TOKEN, USER, assert_no_telegram_ids, assert_no_token


@pytest.fixture
def restore_loggers() -> object:
    """Put the library loggers' levels and filters back after the test."""
    saved = {
        n: (logging.getLogger(n).level, list(logging.getLogger(n).filters)) for n in LIBRARY_LOGGERS
    }
    yield None
    for name, (level, filters) in saved.items():
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.filters[:] = filters


@pytest.mark.usefixtures("restore_loggers")
def test_library_loggers_are_held_at_warning_even_at_debug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "telegram.Bot", "telegram.ext.Application"):
        logging.getLogger(name).setLevel(logging.NOTSET)
    quiet_telegram_logs(TOKEN)
    url = f"https://api.telegram.org/bot{TOKEN}/sendMessage"
    logging.getLogger("httpx").info('HTTP Request: POST %s "HTTP/1.1 200 OK"', url)
    logging.getLogger("telegram.Bot").debug("Calling sendMessage with {'chat_id': %d}", USER)
    assert caplog.text == ""
    for name in ("httpx", "httpcore", "telegram", "telegram.ext.ExtBot"):
        assert logging.getLogger(name).getEffectiveLevel() == logging.WARNING, name


@pytest.mark.usefixtures("restore_loggers")
def test_what_they_still_log_has_the_token_and_ids_masked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    quiet_telegram_logs(TOKEN)
    url = f"https://api.telegram.org/bot{TOKEN}/getMe"
    logging.getLogger("httpx").warning("failed: %s", url)
    logging.getLogger("telegram.ext.Application").critical("update %s", {"chat": {"id": USER}})
    try:
        raise RuntimeError(f"The token `{TOKEN}` was rejected by the server for chat {USER}")
    except RuntimeError:
        logging.getLogger("telegram.ext.Application").exception("no error handler")
    assert "failed: https://api.telegram.org/bot<token>/getMe" in caplog.text
    assert "'id': <id>" in caplog.text
    assert "The token `<token>` was rejected" in caplog.text
    assert_no_token(caplog.text)
    assert_no_telegram_ids(caplog.text)


@pytest.mark.usefixtures("restore_loggers")
def test_quieting_twice_adds_one_filter_per_logger() -> None:
    quiet_telegram_logs(TOKEN)
    quiet_telegram_logs("987654:another-token-of-some-other-test-bot")
    for name in LIBRARY_LOGGERS:
        assert sum(isinstance(f, Scrub) for f in logging.getLogger(name).filters) == 1


def test_a_token_like_string_is_masked_even_if_not_ours() -> None:
    scrub = Scrub(numbers=False)
    assert scrub.clean("bot1234567:AAbbCCddEEffGGhhIIjjKKllMM/send") == "bot<token>/send"
    assert scrub.clean("chat 700000001") == "chat 700000001", "our own loggers keep numbers"
    assert Scrub(numbers=True).clean("chat 700000001, 12 rows, v1.2345678") == (
        "chat <id>, 12 rows, v1.2345678"
    )


def test_mask_hides_the_token_in_an_error_shown_to_a_person() -> None:
    assert mask(f"The token `{TOKEN}` was rejected", TOKEN) == "The token `<token>` was rejected"
    assert mask("Bad Request: bad webhook", TOKEN) == "Bad Request: bad webhook"
