"""Repeated log lines limited: a database outage or a flood must not fill the disk.

``RepeatLimit`` lets ``burst`` warnings or errors with the same logger, message template and
exception type through per ``interval`` seconds, drops the rest, and says how many it dropped
on the next record it lets through (below WARNING nothing is limited). Only the first of a kind
in an interval keeps its traceback; the others name the exception's type and first line. It is
put on the loggers that write a line per request (``PER_REQUEST``) while an app runs; a filter
only sees the records of the logger it is on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

PER_REQUEST = (
    "bot.channels.ussd.routes",
    "bot.channels.sms.routes",
    "bot.channels.telegram.routes",
    "bot.channels.inbound",
    "bot.conversation.service",
    "bot.cases.intake",
    "bot.api.auth",
    "bot.auth.signin",
    "bot.deps",
    "bot.http.errors",
    "bot.http.limits",
    "bot.http.probes",
    "uvicorn.error",
)
"""Loggers that may write once per request."""
BURST = 20
INTERVAL = 60.0


class RepeatLimit(logging.Filter):
    """At most ``burst`` like records per ``interval`` seconds; the dropped ones counted."""

    def __init__(
        self,
        burst: int = BURST,
        interval: float = INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.burst = burst
        self.interval = interval
        self.clock = clock
        self.windows: dict[tuple[str, str, str], tuple[float, int]] = {}
        self.dropped: dict[tuple[str, str, str], int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        """Let the record through unless its kind already spent this interval's burst."""
        if record.levelno < logging.WARNING:
            return True
        kind = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else ""
        key = (record.name, str(record.msg), kind)
        now = self.clock()
        started, count = self.windows.get(key, (now, 0))
        if now - started >= self.interval:
            started, count = now, 0
        if count >= self.burst:
            self.windows[key] = (started, count + 1)
            self.dropped[key] = self.dropped.get(key, 0) + 1
            return False
        self.windows[key] = (started, count + 1)
        if count and record.exc_info:
            _without_traceback(record)
        if len(self.windows) > 10_000:  # templates are few; keep the table bounded all the same
            self.windows = {key: (started, count + 1)}
        dropped = self.dropped.pop(key, 0)
        if dropped:
            record.msg = f"{record.msg} [{dropped} like lines dropped in the last interval]"
        return True


def _without_traceback(record: logging.LogRecord) -> None:
    """The record with its exception named in one line instead of a traceback (a repeat)."""
    exc = record.exc_info[1] if record.exc_info else None
    first = str(exc).strip().splitlines()[0][:200] if exc is not None and str(exc).strip() else ""
    record.msg = f"{record.msg} ({type(exc).__name__}: {first}; traceback as above)"
    record.exc_info = None
    record.exc_text = None


@contextmanager
def limit_repeated_logs(names: Iterable[str] = PER_REQUEST) -> Iterator[RepeatLimit]:
    """While inside: one ``RepeatLimit`` (shared, so counts are per app) on each logger named."""
    limit = RepeatLimit()
    loggers = [logging.getLogger(name) for name in names]
    for logger in loggers:
        logger.addFilter(limit)
    try:
        yield limit
    finally:
        for logger in loggers:
            logger.removeFilter(limit)
