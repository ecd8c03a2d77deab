"""Log set-up: JSON lines in production, readable text in development, the request id on each.

``HOTLINE_LOG_FORMAT`` (``json`` or ``text``; by default ``json`` when ``HOTLINE_ENV=production``)
picks the format for every process (``hotline serve``, ``hotline worker`` and the other
commands). A JSON line holds ``ts`` (UTC, ms), ``level``, ``logger``, ``msg``, ``request_id``
while a request runs, ``exc`` for a traceback, and the fields a call passes as
``extra={"fields": {...}}`` (the access line's method, route, status, duration_ms). What a
line may say is the caller's business: never a number, a Telegram id, a token, a case
reference or a request body (DESIGN §9). As a last guard, both formats write a case reference
as ``[reference]`` and 8 digits or more in a row (a phone number, a Telegram id) as
``[number]``, should a line quote one all the same.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

from bot.engine.formats import REFERENCE_DIGITS, REFERENCE_LETTERS

REQUEST_ID: ContextVar[str | None] = ContextVar("hotline_request_id", default=None)
"""The id of the request being answered (``bot.http.access`` sets it)."""
FORMATS = ("text", "json")
QUIET = ("transitions", "alembic.runtime.plugins", "httpx", "httpcore")
"""Loggers that write a line per call at INFO: kept to warnings."""
SCRUB = re.compile(
    rf"(?P<reference>\b[{REFERENCE_LETTERS}]{{4}}-?[{REFERENCE_DIGITS}]{{2}}\b)|(?P<number>\+?\d{{8,}})"
)
"""A case reference (``K7QM-46``, also typed without its dash) or a run of 8 digits or more."""
HANDLER = "hotline"
"""Name of the handler ``configure`` installs on the root logger."""
BASE = frozenset({"ts", "level", "logger", "msg", "request_id", "exc"})


def stamp_request_ids() -> None:
    """Give every log record the request id current where it is made (once per process).

    At creation, not when formatted: a handler may format in another thread, and a test's
    capture has no formatter of ours."""
    made = logging.getLogRecordFactory()
    if getattr(made, "stamps_request_ids", False):
        return

    def stamped(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = made(*args, **kwargs)
        record.request_id = REQUEST_ID.get()
        return record

    stamped.stamps_request_ids = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(stamped)


def scrub(text: str) -> str:
    """``text`` with case references and long digit runs masked."""
    return SCRUB.sub(lambda found: f"[{found.lastgroup}]", text)


def fields_of(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields a call passed (``extra={"fields": {...}}``), else none."""
    fields = getattr(record, "fields", None)
    return fields if isinstance(fields, dict) else {}


def request_id_of(record: logging.LogRecord) -> str | None:
    """The request id current when the line was written (``stamp_request_ids``)."""
    given = getattr(record, "request_id", None)
    return given if isinstance(given, str) else None


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON (non-ASCII kept; unknown values as text)."""
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": scrub(record.getMessage()),
        }
        request_id = request_id_of(record)
        if request_id:
            data["request_id"] = request_id
        for name, value in fields_of(record).items():
            if name not in BASE:
                data[name] = scrub(value) if isinstance(value, str) else value
        if record.exc_info:
            data["exc"] = scrub(self.formatException(record.exc_info))
        elif record.exc_text:
            data["exc"] = scrub(record.exc_text)
        return json.dumps(data, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``time LEVEL logger: message [request id]`` for a person reading a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """The classic line, with the request id appended while a request runs."""
        line = scrub(super().format(record))
        request_id = request_id_of(record)
        if not request_id:
            return line
        head, newline, rest = line.partition("\n")  # a traceback stays below its line
        return f"{head} [{request_id}]{newline}{rest}"


def formatter(fmt: str) -> logging.Formatter:
    """The formatter of ``json`` or ``text``."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown log format {fmt!r}; use json or text")
    return JsonFormatter() if fmt == "json" else TextFormatter()


def configure(level: str, fmt: str, stream: TextIO | None = None) -> None:
    """Send every logger's lines to ``stream`` (stderr) in ``fmt``, at ``level`` and above.

    Replaces the handler an earlier call installed (a command run twice in one process); like
    ``logging.basicConfig``, adds none where someone else's handlers are (pytest's capture).
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter(fmt))
    handler.set_name(HANDLER)
    root = logging.getLogger()
    for old in list(root.handlers):
        if old.get_name() == HANDLER:
            root.removeHandler(old)
    if not root.handlers:
        root.addHandler(handler)
    root.setLevel(level)
    stamp_request_ids()
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
