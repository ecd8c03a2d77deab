"""A burst from one number over the USSD endpoint (in process): cases made, alerts queued.

Each scenario starts the real app (``create_app``: SQLite in a temporary folder, sessions in
process, the demo team and rota so P1s page someone) and posts Africa's Talking's USSD
callbacks to it, then counts what the database holds:

- ``dialled``: 100 new sessions from one number, each dialled with a whole report
  (``*384*12*1*1*1*3*1*1*2*1*2*2*1#``: English, Report, every answer of a P1 tip, and Send);
- ``sessions``: 100 sessions from one number, each dialled up to Send and then sending (two
  requests, a person pressing 1): P1 tips;
- ``numbers``: the same 100 P1 tips from 100 numbers (no per-number limit in play): the alerts
  a burst makes once grouped;
- ``budget``: ``numbers`` with grouping off and a budget of 10 pages a shift;
- ``lookups``: 3,000 look-ups of a reference from one number (follow a report), the last 6
  of them real references.

Run it from the repository root (it takes about a minute)::

    .venv/bin/python -m bench.burst
    .venv/bin/python -m bench.burst --only dialled,lookups --lookups 500

To measure "before", copy this file into a worktree of an older commit and run it there: the
settings it passes that the older code does not know are ignored.
"""

from __future__ import annotations

import argparse
import base64
import logging
import os
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

TOKEN = secrets.token_urlsafe(16)  # the callback path token of this run's app
URL = f"/ussd/africastalking/{TOKEN}"
ONE_NUMBER = "+243000000001"
DIALLED = "1*1*1*3*1*1*2*1*2*2*1"
FOLLOW = "1*5"
LATER_WORDS = "cannot look up more reports"
FOUND_WORDS = ("received", "looking at it", "partner", "closed. Thank")


def number(n: int) -> str:
    """A fake number per sender (the unassigned +243 000 range the tests use)."""
    return f"+243000{n:06d}"


@contextmanager
def hotline(**overrides: Any) -> Iterator[tuple[TestClient, Any]]:
    """The app on a fresh SQLite database in a temporary folder, with the demo team."""
    from bot.app import create_app
    from bot.core.settings import Settings

    with tempfile.TemporaryDirectory() as folder:
        values: dict[str, Any] = {
            "database_url": f"sqlite:///{Path(folder) / 'hotline.db'}",
            "redis_url": None,
            "secrets_file": Path(folder) / "secrets.json",
            "callback_token": TOKEN,
            "pseudonym_key": secrets.token_urlsafe(32),
            "encryption_keys": base64.urlsafe_b64encode(os.urandom(32)).decode(),
            "demo": True,
            "demo_password": secrets.token_urlsafe(16),
            "log_level": "ERROR",
        }
        values.update(overrides)
        app = create_app(Settings(**values))
        with TestClient(app) as client:
            yield client, app.state.engine


class Line:
    """Africa's Talking, as one client: numbered sessions, cumulative ``text``."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.sessions = 0
        self.requests = 0

    def session(self) -> str:
        self.sessions += 1
        return f"ATUid_bench_{self.sessions:07d}"

    def post(self, session_id: str, text_: str, phone: str = ONE_NUMBER) -> str:
        self.requests += 1
        response = self.client.post(
            URL,
            data={
                "sessionId": session_id,
                "serviceCode": "*384*12#",
                "phoneNumber": phone,
                "networkCode": "63001",
                "text": text_,
            },
        )
        return response.text


def guess(n: int) -> str:
    """The n-th well-formed reference a guesser tries (``K7QM-46``'s alphabet, so each one
    reaches the database unless a limit stops it)."""
    from bot.cases.reference import DIGITS, LETTERS

    head = "".join(LETTERS[(n // len(LETTERS) ** i) % len(LETTERS)] for i in range(4))
    return f"{head}-{DIGITS[n % len(DIGITS)]}{DIGITS[(n // 7) % len(DIGITS)]}"


def counts(engine: Any) -> dict[str, int]:
    """Cases and alerts in the database (plain SQL: the same on older code)."""
    with engine.connect() as connection:
        cases = connection.execute(text("SELECT count(*) FROM cases")).scalar_one()
        p1 = connection.execute(
            text("SELECT count(*) FROM cases WHERE priority = 'P1'")
        ).scalar_one()
        keys = [
            row[0]
            for row in connection.execute(text("SELECT key FROM outbox WHERE purpose = 'alert'"))
        ]
    pages = {k.split(":", 1)[0].removesuffix("-tg") + ":" + k.split(":", 1)[1] for k in keys}
    return {
        "cases": int(cases),
        "p1 cases": int(p1),
        "alert messages": len(keys),
        "alert pages": len(pages),
        "grouped pages": sum(p.startswith("alert-group:") for p in pages),
        "supervisor summaries": sum(p.startswith("alert-budget:") for p in pages),
    }


def dialled(line: Line, count: int) -> dict[str, int]:
    ends = sum(line.post(line.session(), DIALLED).startswith("END ") for _ in range(count))
    return {"END answers": ends}


def sessions(line: Line, count: int, *, many: bool = False) -> dict[str, int]:
    refused = 0
    for n in range(count):
        phone = number(n) if many else ONE_NUMBER
        sid = line.session()
        line.post(sid, DIALLED, phone)
        body = line.post(sid, DIALLED + "*1", phone)
        refused += "received your recent reports" in body
    return {"refused (neutral END)": refused}


def lookups(line: Line, engine: Any, count: int) -> dict[str, int]:
    with engine.connect() as connection:
        real = [row[0] for row in connection.execute(text("SELECT reference FROM cases"))][:6]
    guesses = [guess(n) for n in range(count - len(real))] + real
    later = found = 0
    for tried in guesses:
        sid = line.session()
        line.post(sid, FOLLOW)
        body = line.post(sid, f"{FOLLOW}*{tried}")
        later += LATER_WORDS in body
        found += any(words in body for words in FOUND_WORDS)
    return {
        "look-ups": len(guesses),
        "answered unchecked": later,
        "checked": len(guesses) - later,
        "references found": found,
    }


def run(name: str, work: Callable[[Line, Any], dict[str, int]], **settings: Any) -> None:
    with hotline(**settings) as (client, engine):
        line = Line(client)
        before = counts(engine)
        started = time.perf_counter()
        extra = work(line, engine)
        took = time.perf_counter() - started
        after = counts(engine)
    print(f"\n== {name}: {line.requests} requests, {line.sessions} sessions in {took:.1f} s")
    for key, value in extra.items():
        print(f"  {key:<24} {value}")
    print(f"  {'':<24} {'before':>7} {'after':>7}")
    for key in after:
        print(f"  {key:<24} {before[key]:>7} {after[key]:>7}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--count", type=int, default=100, help="requests or sessions per burst")
    parser.add_argument("--lookups", type=int, default=3000, help="look-ups from one number")
    parser.add_argument(
        "--only", default="dialled,sessions,numbers,budget,lookups", help="scenarios to run"
    )
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # the app's own warnings (one per refused case) are noise
    only = set(args.only.split(","))
    print(f"bench.burst: load average {os.getloadavg()[0]:.2f}")
    if "dialled" in only:
        run("dialled", lambda line, _: dialled(line, args.count))
    if "sessions" in only:
        run("sessions", lambda line, _: sessions(line, args.count))
    if "numbers" in only:
        run("numbers", lambda line, _: sessions(line, args.count, many=True))
    if "budget" in only:
        run(
            "budget",
            lambda line, _: sessions(line, args.count, many=True),
            alert_group_seconds=0,
            alert_shift_budget=10,
        )
    if "lookups" in only:

        def follow(line: Line, engine: Any) -> dict[str, int]:
            sessions(line, 6, many=True)  # six real references to find
            return lookups(line, engine, args.lookups)

        run("lookups", follow)


if __name__ == "__main__":
    main()
