"""Repeated log lines: a burst per interval, then counted, never a flood."""

from __future__ import annotations

import logging

import pytest

from bot.http.logs import RepeatLimit, limit_repeated_logs


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_passes_then_lines_are_dropped_and_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    log = logging.getLogger("tests.http.flood")
    limit = RepeatLimit(burst=3, interval=60, clock=clock)
    log.addFilter(limit)
    try:
        for n in range(100):
            log.error("database down for session %s", n)
        log.info("an info line is never limited")
        log.error("another kind of line")
        clock.now = 61
        log.error("database down for session %s", "later")
    finally:
        log.removeFilter(limit)
    lines = [r.getMessage() for r in caplog.records if r.name == "tests.http.flood"]
    assert len(lines) == 6
    assert (
        lines[-1] == "database down for session later [97 like lines dropped in the last interval]"
    )


def test_the_limit_is_on_only_while_an_app_runs(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("bot.channels.ussd.routes")
    with limit_repeated_logs():
        for _ in range(200):
            log.warning("same line")
    for _ in range(30):
        log.warning("same line")
    assert len([r for r in caplog.records if r.getMessage() == "same line"]) == 20 + 30


def test_only_the_first_of_a_kind_keeps_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("tests.http.tracebacks")
    limit = RepeatLimit(burst=5, interval=60, clock=Clock())
    log.addFilter(limit)
    try:
        for n in range(5):
            try:
                raise ConnectionError(f"server closed the connection\ndetail {n}")
            except ConnectionError:
                log.exception("session %s failed", n)
    finally:
        log.removeFilter(limit)
    records = [r for r in caplog.records if r.name == "tests.http.tracebacks"]
    assert [bool(r.exc_info) for r in records] == [True, False, False, False, False]
    assert records[1].getMessage() == (
        "session 1 failed (ConnectionError: server closed the connection; traceback as above)"
    )
