"""The statistics page and exports on 1,000,000 cases in PostgreSQL: server time per request.

A scratch database (``hotline_bench_stats``) is created, migrated and filled in SQL with
``INSERT … SELECT generate_series`` (cases over three years to now, one triage event each,
escalations for P1s, referrals for three in ten, outbox messages), then the app (``create_app``
with the demo team) answers a signed-in supervisor (and an admin for the case-level export)
in this process. Each request is timed around the app (server time, no network); the CPU time
of this process is given too, since the machine is shared. The database is dropped at the end
(``--keep`` leaves it). Pages and table downloads are timed cold (the year's figures made
afresh from its months' roll-up, ``bot.stats.rollup``, as the first reader of a minute finds
them) and warm (``bot.stats.recent``: made within the minute by an earlier request); the year
page also with the roll-up empty (every month counted from the cases, as after an upgrade) and
after one case of this month changed (that month counted again, the rest read as kept).

    .venv/bin/python -m bench.stats                      # 1,000,000 cases: a few minutes to fill
    .venv/bin/python -m bench.stats --cases 100000 --requests 10
    .venv/bin/python -m bench.stats --show-plans         # EXPLAIN ANALYZE of the year's queries
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from bench.team_web import Timed
from bot.app import create_app
from bot.core.db import make_engine
from bot.core.migrate import upgrade
from bot.core.privacy import new_key
from bot.core.settings import Settings
from bot.stats.recent import Recent

DEFAULT_URL = os.environ.get(
    "HOTLINE_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SCRATCH = "hotline_bench_stats"
PASSWORD = "bench-stats-password"  # noqa: S105 (the bench's own demo team)
EXPORT_PASSWORD = "bench export password"  # noqa: S105
CSRF = re.compile(r'name="csrf" value="([^"]+)"')

FILL = [
    """
    INSERT INTO cases (reference, event_key, kind, channel, lang, area, exploitation_type, minor,
        priority, status, close_reason, due_at, acknowledged_at, created_at, updated_at,
        consent_contact, consent_refer, consent_police)
    SELECT 'B' || lpad(to_hex(i), 8, '0'), 'bench:' || i,
        (ARRAY['tip','tip','screening','ambassador_report','callback_request'])[1 + i % 5],
        (ARRAY['ussd','ussd','sms','telegram'])[1 + (i / 7) % 4],
        (ARRAY['fr','fr','ln','st','en'])[1 + (i / 3) % 5],
        (ARRAY['cd-kwilu-kikwit','cd-kwilu','cd-kinshasa-funa','cd-kinshasa','gn-conakry',
               'ls-maseru','ls-berea','cd-kasai','cd-ituri', NULL])[1 + (i % 10007) * 7919 % 10],
        (ARRAY['forced_labour','sexual_exploitation','child_labour','forced_marriage',
               'domestic_servitude','forced_begging','other', NULL])[1 + (i % 10007) * 104729 % 8],
        (ARRAY[true, false, false, NULL])[1 + (i / 11) % 4],
        (ARRAY['P1','P2','P3','P3','P4'])[1 + (i / 13) % 5],
        'closed', 'resolved', at, at + make_interval(secs => 60 + (i % 100003) * 37 % 90000),
        at, at, false, false, false
    FROM (
        SELECT i, :start + (i::float / :n) * (:end - :start) AS at
        FROM generate_series(1, :n) AS i
    ) AS made
    """,
    """
    INSERT INTO case_events (case_id, at, actor, kind, from_status, to_status)
    SELECT id, acknowledged_at + interval '20 minutes', 'bench', 'status', 'new', 'triaged'
    FROM cases WHERE event_key LIKE 'bench:%'
    """,
    """
    INSERT INTO escalations (case_id, level, reason, notified_at, due_at, acknowledged_at, done)
    SELECT id, 0, 'new_p1', created_at, created_at + interval '10 minutes', acknowledged_at, true
    FROM cases WHERE priority = 'P1' AND event_key LIKE 'bench:%'
    """,
    """
    INSERT INTO referrals (case_id, service_id, status, outcome, created_at, updated_at)
    SELECT c.id, s.id, (ARRAY['done','accepted','rejected','in_progress'])[1 + c.id % 4],
        CASE WHEN c.id % 4 = 0 THEN 'successful' END, c.created_at, c.created_at
    FROM cases c JOIN services s ON s.id = 1 + c.id % (SELECT count(*) FROM services)
    WHERE c.id % 10 < 3 AND c.event_key LIKE 'bench:%'
    """,
    """
    INSERT INTO outbox (key, channel, purpose, contact, body, lang, parts, status, attempts,
        next_attempt_at, created_at)
    SELECT 'bench:' || id, (ARRAY['sms','telegram'])[1 + id % 2], 'reply', 'bench', 'x', 'fr', 1,
        (ARRAY['delivered','sent','failed','delivered','unknown'])[1 + id % 5], 1,
        created_at, created_at
    FROM cases WHERE id % 5 = 0 AND event_key LIKE 'bench:%'
    """,
    "VACUUM ANALYZE",
]


@contextlib.contextmanager
def scratch_database(url: str, keep: bool) -> Iterator[str]:
    """A new, migrated database of this run; its URL. Dropped afterwards unless ``keep``."""
    admin = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{SCRATCH}"'))
        connection.execute(text(f'CREATE DATABASE "{SCRATCH}"'))
    scratch = make_url(url).set(database=SCRATCH).render_as_string(hide_password=False)
    try:
        made = make_engine(scratch)
        try:
            upgrade(made)
        finally:
            made.dispose()
        yield scratch
    finally:
        if keep:
            print(f"database kept: {SCRATCH}")
        else:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)'))
        admin.dispose()


def fill(engine: Engine, cases: int, now: datetime) -> float:
    """Generate the rows in SQL; the seconds it took."""
    started = time.perf_counter()
    start = datetime(now.year - 2, 1, 1, tzinfo=UTC)
    with engine.begin() as connection:
        for statement in FILL[:-1]:
            connection.execute(text(statement), {"n": cases, "start": start, "end": now})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(FILL[-1]))
    return time.perf_counter() - started


@dataclass
class Figures:
    """Server and CPU times (seconds) of one kind of request."""

    name: str
    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    size: int = 0

    def line(self) -> str:
        ordered = sorted(self.times)
        p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
        return (
            f"{self.name:<34} n={len(ordered):<3} p50 {statistics.median(ordered) * 1e3:7.1f} ms"
            f"  p99 {p99 * 1e3:7.1f} ms  cpu p50 {statistics.median(self.cpu) * 1e3:6.1f} ms"
            f"  {self.size / 1024:7.1f} KB"
        )


async def sign_in(client: httpx.AsyncClient, username: str) -> str:
    """Sign in through the form; a CSRF token of the session for later forms."""
    form = await client.get("/signin")
    token = CSRF.search(form.text)
    assert token is not None
    answer = await client.post(
        "/signin",
        data={"csrf": token.group(1), "username": username, "password": PASSWORD, "next": "/"},
    )
    assert answer.status_code in (302, 303), answer.status_code
    page = await client.get("/account")
    found = CSRF.search(page.text)
    assert found is not None
    return found.group(1)


EMPTY = ("DELETE FROM stats_counts", "DELETE FROM stats_months")
TOUCH = (
    "UPDATE cases SET updated_at = now() WHERE id = (SELECT max(id) FROM cases)",
)  # the newest case (this month) changed: the month is counted again, the rest read as kept


def prepare(engine: Engine, kind: str, recent: Recent) -> None:
    """Before one timed request of ``kind``: what its first reader would find."""
    if kind == "warm":
        return
    recent.clear()  # counted afresh: what the first reader of a minute waits
    statements = {"roll-up empty": EMPTY, "a case changed": TOUCH}.get(kind, ())
    if statements:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement))


async def measure(
    app: Timed, engine: Engine, recent: Recent, year: int, requests: int, exports: int
) -> list[Figures]:
    """Each page and export, ``requests`` times (``exports`` for the case-level one): cold
    (the year's figures made afresh from the months' roll-up), warm (made by a request within
    the minute), and for the year page also with the roll-up empty (every month counted from
    the cases: the first page after an upgrade) and after a case of this month changed."""
    out = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        token = await sign_in(client, "demo.admin")
        page = ("cold", "warm")
        asks: list[tuple[str, str, int, dict[str, str] | None, tuple[str, ...]]] = [
            (
                f"page, year {year}",
                f"/stats?p={year}",
                requests,
                None,
                ("roll-up empty", "a case changed", *page),
            ),
            (f"page, quarter {year}-Q2", f"/stats?p={year}-Q2", requests, None, page),
            (f"page, month {year}-03", f"/stats?p={year}-03", requests, None, page),
            (f"CSV, year {year}", f"/stats/cases.csv?p={year}", requests, None, page),
            (f"XLSX, year {year}", f"/stats/cases.xlsx?p={year}", requests, None, page),
            (
                f"case-level export, {year}-03",
                "/stats/case-export",
                exports,
                {"csrf": token, "password": EXPORT_PASSWORD, "p": f"{year}-03"},
                ("",),
            ),
        ]
        for name, path, count, form, kinds in asks:
            if count < 1:
                continue
            for kind in kinds:
                figures = Figures(f"{name} {kind}".strip())
                for n in range(count + 1):  # the first one warms the code up
                    prepare(engine, kind, recent)
                    answer = await (client.post(path, data=form) if form else client.get(path))
                    assert answer.status_code == 200, (path, answer.status_code, answer.text[:200])
                    if n:
                        figures.times.append(app.last)
                        figures.cpu.append(app.cpu)
                        figures.size = len(answer.content)
                print(figures.line(), flush=True)
                out.append(figures)
    return out


def kept(app: FastAPI) -> Recent:
    """The app's recently counted figures (``bot.stats.recent``), to clear for a cold count."""
    recent = Recent()
    app.state.stats_recent = recent
    return recent


def plans(engine: Engine, year: int) -> None:
    """EXPLAIN ANALYZE of the year's heaviest statements, for the indexes they need."""
    start, end = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    statements = {
        "the roll-up's check (bot.stats.rollup.seen)": "SELECT extract(month FROM created_at), "
        "count(*), max(updated_at) FROM cases WHERE created_at >= :s AND created_at < :e "
        "GROUP BY 1",
        "cases by month and area": "SELECT extract(month FROM created_at), area, count(*) "
        "FROM cases WHERE created_at >= :s AND created_at < :e GROUP BY 1, 2",
        "time to triage": "SELECT c.priority, count(*) FROM cases c JOIN case_events e "
        "ON e.case_id = c.id WHERE c.created_at >= :s AND c.created_at < :e "
        "AND e.kind = 'status' AND e.from_status = 'new' GROUP BY 1",
        "escalations": "SELECT level, count(*) FROM escalations "
        "WHERE notified_at >= :s AND notified_at < :e GROUP BY 1",
        "referrals": "SELECT status, count(*) FROM referrals "
        "WHERE created_at >= :s AND created_at < :e GROUP BY 1",
        "outbox": "SELECT channel, count(*) FROM outbox "
        "WHERE created_at >= :s AND created_at < :e GROUP BY 1",
    }
    with engine.connect() as connection:
        for name, sql in statements.items():
            rows = connection.execute(text("EXPLAIN ANALYZE " + sql), {"s": start, "e": end})
            print(f"\n-- {name}")
            for (line,) in rows:
                print("  ", line)


def main(argv: list[str] | None = None) -> None:
    """Fill, measure, print, drop."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL, help="a PostgreSQL server")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=20, help="timed requests per page")
    parser.add_argument("--exports", type=int, default=3, help="timed case-level exports")
    parser.add_argument("--keep", action="store_true", help="do not drop the database")
    parser.add_argument("--show-plans", action="store_true")
    args = parser.parse_args(argv)
    if not args.database_url.startswith("postgresql"):
        parser.error("--database-url: a PostgreSQL URL")
    now = datetime.now(UTC)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} CPUs")
    with (
        tempfile.TemporaryDirectory() as folder,
        scratch_database(args.database_url, args.keep) as url,
    ):
        settings = Settings(
            database_url=url,
            redis_url=None,
            secrets_file=Path(folder) / "secrets.json",
            callback_token="bench-callback-token",  # noqa: S106
            pseudonym_key="s" * 32,
            encryption_keys=new_key(),
            telegram_webhook_secret="bench-webhook-secret",  # noqa: S106
            demo=True,
            demo_password=PASSWORD,
        )
        app = create_app(settings)  # the demo team, directory and year
        engine: Engine = app.state.engine
        seconds = fill(engine, args.cases, now)
        print(f"filled {args.cases:,} cases (and their rows) in {seconds:.0f} s")
        if args.show_plans:
            plans(engine, now.year)
        asyncio.run(measure(Timed(app), engine, kept(app), now.year, args.requests, args.exports))
        print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        engine.dispose()


if __name__ == "__main__":
    main()
