"""The team web's queue under a big database: server time of ``/queue`` and ``/queue/rows``,
p50 and p99, and the SQL queries each runs (no N+1), on PostgreSQL.

Run ``python -m bench.web_queue [--cases 100000] [--open 10000] [--requests 200]
[--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]``. It makes a schema of its
own in that database (dropped at the end), migrates it, inserts the cases in bulk (every
priority, three areas, a tenth assigned), signs a supervisor in and asks for the pages in
process (the ASGI app called directly: server time, no network), a filtered page too. The
figures are printed; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import event, insert, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.app import create_app
from bot.auth import web_sessions
from bot.core.clock import utcnow
from bot.core.db import make_engine
from bot.core.migrate import upgrade
from bot.core.privacy import new_key
from bot.core.settings import Settings
from bot.models import Case, Operator

DEFAULT_URL = os.environ.get(
    "HOTLINE_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
AREAS = ("cd-kinshasa", "cd-kwilu-kikwit", "gn-conakry", "ls-maseru")
STATUSES = ("new", "triaged", "active", "referred", "follow_up")


def schema_url(base: str, schema: str) -> str:
    joiner = "&" if "?" in base else "?"
    return f"{base}{joiner}options=-csearch_path%3D{schema}"


def fill(engine: Engine, cases: int, open_cases: int) -> int:
    """``cases`` cases, ``open_cases`` of them open; a supervisor's id."""
    now = utcnow()
    with Session(engine) as session:
        boss = Operator(username="bench.joseph", display_name="Joseph", role="supervisor")
        session.add(boss)
        session.commit()
        assert boss.id is not None
        boss_id = boss.id
    rows = []
    for i in range(cases):
        closed = i >= open_cases
        rows.append(
            {
                "reference": f"B{i:07d}",
                "event_key": f"bench:{i}",
                "kind": "tip",
                "channel": ("ussd", "sms", "telegram")[i % 3],
                "lang": ("en", "fr", "ln", "st")[i % 4],
                "area": AREAS[i % len(AREAS)],
                "priority": f"P{1 + i % 4}",
                "rule": "bench rule",
                "minor": i % 7 == 0,
                "consent_contact": i % 2 == 0,
                "consent_refer": i % 3 == 0,
                "consent_police": False,
                "status": "closed" if closed else STATUSES[i % len(STATUSES)],
                "close_reason": "resolved" if closed else None,
                "assignee_id": boss_id if i % 10 == 0 else None,
                "due_at": now + timedelta(minutes=i % 5000 - 600),
                "created_at": now - timedelta(minutes=i % 5000),
                "updated_at": now,
            }
        )
    with engine.begin() as connection:
        for start in range(0, len(rows), 5000):
            connection.execute(insert(Case), rows[start : start + 5000])
    return boss_id


def timed(client: TestClient, path: str, requests: int) -> tuple[list[float], int, int]:
    """Milliseconds per request, the queries of one request, its body size."""
    times: list[float] = []
    size = 0
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
        size = len(response.content)
    return times, 0, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--open", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    args = parser.parse_args()
    schema = f"bench_web_{uuid.uuid4().hex[:10]}"
    admin = make_engine(args.database_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = schema_url(args.database_url, schema)
    try:
        engine = make_engine(url)
        upgrade(engine)
        started = time.perf_counter()
        boss_id = fill(engine, args.cases, args.open)
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
        print(f"{args.cases} cases ({args.open} open) in {time.perf_counter() - started:.1f} s")
        folder = Path(tempfile.mkdtemp(prefix="bench-web-"))
        settings = Settings(
            database_url=url,
            redis_url=None,
            pseudonym_key="bench-pseudonym-key-" + "k" * 20,
            encryption_keys=new_key(),
            callback_token="bench-callback-" + "c" * 20,
            telegram_webhook_secret="bench-webhook-" + "w" * 20,
            secrets_file=folder / "secrets.json",
        )
        app = create_app(settings)
        queries = {"n": 0}

        @event.listens_for(app.state.engine, "before_cursor_execute")
        def count(*_: object) -> None:
            queries["n"] += 1

        with Session(app.state.engine) as session:
            boss = session.get(Operator, boss_id)
            assert boss is not None
            timeouts = web_sessions.Timeouts(timedelta(hours=1), timedelta(hours=12))
            session_id = web_sessions.start(session, boss, now=utcnow(), timeouts=timeouts)
            session.commit()
        # Without its lifespan: no escalation loop working through the overdue cases meanwhile.
        client = TestClient(app)
        client.cookies.set("hotline", session_id)
        print(f"load average {os.getloadavg()[0]:.1f}; {args.requests} requests each")
        for path in ("/queue", "/queue/rows", "/queue?priority=P1&area=cd-kinshasa"):
            client.get(path)  # warm
            queries["n"] = 0
            client.get(path)
            per_request = queries["n"]
            times, _, size = timed(client, path, args.requests)
            times.sort()
            p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
            print(
                f"{path:40s} p50 {statistics.median(times):6.1f} ms  p99 {p99:6.1f} ms  "
                f"{per_request} queries  {size / 1024:.1f} KiB"
            )
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
