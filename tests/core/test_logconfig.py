"""Log lines as JSON in production and text in development, each with its request id."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator

import pytest

from bot.core.logconfig import HANDLER, REQUEST_ID, configure, formatter, stamp_request_ids
from bot.core.settings import Settings


@pytest.fixture
def restored() -> Iterator[None]:
    """The root logger as it was (pytest's capture) after a test that configures it."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def record(text: str, /, *args: object, **fields: object) -> logging.LogRecord:
    stamp_request_ids()
    made = logging.getLogRecordFactory()("bot.test", logging.WARNING, __file__, 1, text, args, None)
    if fields:
        made.fields = fields
    return made


def test_a_json_line_holds_the_message_its_fields_and_request_id() -> None:
    token = REQUEST_ID.set("req-0123abcd")
    try:
        made = record("case %s created", 7, route="/ussd/{token}", status=200)
    finally:
        REQUEST_ID.reset(token)
    line = json.loads(formatter("json").format(made))
    assert line["msg"] == "case 7 created"
    assert line["level"] == "WARNING"
    assert line["logger"] == "bot.test"
    assert line["request_id"] == "req-0123abcd"
    assert line["route"] == "/ussd/{token}"
    assert line["status"] == 200
    assert line["ts"].endswith("+00:00")


def test_fields_never_overwrite_the_line_s_own() -> None:
    line = json.loads(formatter("json").format(record("hello", msg="forged", level="X")))
    assert line["msg"] == "hello"
    assert line["level"] == "WARNING"


def test_a_traceback_stays_in_one_json_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        made = logging.getLogRecordFactory()(
            "bot.test", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )
    text = formatter("json").format(made)
    assert "\n" not in text
    assert "ValueError" in json.loads(text)["exc"]


def test_a_text_line_is_readable_with_its_request_id() -> None:
    token = REQUEST_ID.set("req-0123abcd")
    try:
        made = record("ussd callback refused")
    finally:
        REQUEST_ID.reset(token)
    text = formatter("text").format(made)
    assert "WARNING bot.test: ussd callback refused [req-0123abcd]" in text
    assert "[" not in formatter("text").format(record("no request"))


def test_json_in_production_text_in_development_unless_set() -> None:
    assert Settings(env="development").log_style == "text"
    assert Settings(env="production").log_style == "json"
    assert Settings(env="production", log_format="text").log_style == "text"
    with pytest.raises(ValueError):
        formatter("xml")


def test_configure_writes_json_to_its_stream(restored: None) -> None:
    root = logging.getLogger()
    root.handlers[:] = []  # as in a process nobody else configured
    stream = io.StringIO()
    configure("INFO", "json", stream)
    configure("INFO", "json", stream)  # again: still one handler
    assert [h.get_name() for h in root.handlers] == [HANDLER]
    logging.getLogger("bot.test").info("ready")
    logging.getLogger("bot.test").debug("not at INFO")
    [line] = stream.getvalue().splitlines()
    assert json.loads(line)["msg"] == "ready"


def test_configure_leaves_another_s_handlers_alone(restored: None) -> None:
    before = list(logging.getLogger().handlers)  # pytest's capture
    configure("WARNING", "text", io.StringIO())
    assert logging.getLogger().handlers == before
    assert logging.getLogger().level == logging.WARNING


@pytest.mark.parametrize("style", ["json", "text"])
def test_a_reference_or_a_number_quoted_all_the_same_is_masked(style: str) -> None:
    made = record("case %s from %s", "K7QM-46", "+243000000001", note="chat 700000001")
    text = formatter(style).format(made)
    assert "K7QM-46" not in text
    assert "243000000001" not in text
    assert "[reference]" in text
    assert "[number]" in text
    if style == "json":
        assert json.loads(text)["note"] == "chat [number]"
    kept = formatter(style).format(record("outbox 12 at 2026-12-06 took 3.5 ms"))
    assert "outbox 12 at 2026-12-06 took 3.5 ms" in kept
