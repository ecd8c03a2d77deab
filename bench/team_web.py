"""The team web's queue and case pages on a large database: server time and SQL queries.

A private PostgreSQL schema is created, migrated and filled with COPY (100,000 cases, 10,000 of
them open, with their timelines, notes and referrals), then the app (``create_app`` with the demo
team) answers signed-in requests in this process: the queue page, its live refresh, and case
pages of open cases. Each request is timed around the app (the server's time, no network) and
its SQL statements counted (a SQLAlchemy listener): the count must not grow with the rows shown
(no N+1). The schema is dropped at the end (``--keep`` leaves it, and prints its name).

    .venv/bin/python -m bench.team_web                         # 100,000 cases, 2-15 minutes here
    .venv/bin/python -m bench.team_web --cases 20000 --open 2000 --requests 100
    .venv/bin/python -m bench.team_web --show-queries          # each page's statements, once
    .venv/bin/python -m bench.team_web --pages case --requests 100   # case pages only
    .venv/bin/python -m bench.team_web --without-queue-indexes # as before migration 0008
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import json
import os
import random
import re
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.app import create_app
from bot.core.db import make_engine
from bot.core.migrate import upgrade
from bot.core.privacy import Cipher, new_key, pseudonym
from bot.core.settings import Settings
from bot.engine.formats import REFERENCE_DIGITS, REFERENCE_LETTERS

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = os.environ.get(
    "HOTLINE_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PASSWORD = "bench-team-web-password"  # noqa: S105 (the bench's own demo team)
OPERATOR = "demo.amani"
PSEUDONYM_KEY = "b" * 32
OPEN = ("new", "triaged", "active", "referred", "follow_up")
OPEN_WEIGHTS = (30, 20, 25, 15, 10)
PRIORITIES = ("P1", "P2", "P3", "P4")
PRIORITY_WEIGHTS = (5, 20, 35, 40)
TRIAGE = {"P1": timedelta(minutes=15), "P2": timedelta(hours=4), "P3": timedelta(hours=72)}
KINDS = ("tip", "screening", "callback_request", "ambassador_report")
CHANNELS = ("ussd", "sms", "telegram")
LANGS = ("fr", "ln", "en", "st")
AREAS = (
    "cd-kwilu-kikwit",
    "cd-kinshasa",
    "cd-kwilu",
    "cd-haut-katanga",
    "gn-conakry",
    "gn-kankan",
    "ls-maseru",
    "ls-berea",
    None,
)
TYPES = ("forced_labour", "sexual_exploitation", "child_labour", "forced_marriage", None)
RULES = ("danger_now", "minor_involved", "score>=6", "callback_requested", None)
EVENT_KINDS = ("created", "alert", "ack", "status", "claim", "note", "consent")
PAGES = ("queue", "mine", "area", "rows", "case")
"""The pages ``--pages`` may name."""
CLOSE_REASONS = ("resolved", "not_trafficking", "no_contact_possible", "duplicate")


def reference(n: int) -> str:
    """The ``n``-th reference code (``K7QM-46`` shape): unique for n below 8.3 million."""
    letters, digits = REFERENCE_LETTERS, REFERENCE_DIGITS
    tail = "".join(digits[(n // len(digits) ** i) % len(digits)] for i in range(2))
    n //= len(digits) ** 2
    head = "".join(letters[(n // len(letters) ** i) % len(letters)] for i in range(4))
    return f"{head}-{tail}"


def schema_url(url: str, schema: str) -> str:
    """``url`` with every connection's search_path set to ``schema``."""
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}options=-csearch_path%3D{schema}"


@contextlib.contextmanager
def private_schema(url: str, keep: bool) -> Iterator[str]:
    """A new, migrated schema of this run; its URL. Dropped afterwards unless ``keep``."""
    admin = make_engine(url)
    schema = f"bench_team_web_{uuid.uuid4().hex[:10]}"
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        made = make_engine(schema_url(url, schema))
        try:
            upgrade(made)
        finally:
            made.dispose()
        yield schema_url(url, schema)
    finally:
        if keep:
            print(f"schema kept: {schema}")
        else:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def copy_rows(engine: Engine, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """Bulk-load ``rows`` into ``table`` with PostgreSQL's COPY."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        names = ", ".join(columns)
        with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        raw.commit()
    finally:
        raw.close()


@dataclass
class Filled:
    """What was generated: counts, and the references of open cases to open."""

    counts: dict[str, int] = field(default_factory=dict)
    open_references: list[str] = field(default_factory=list)
    seconds: float = 0.0


def fill(engine: Engine, cipher: Cipher, *, cases: int, open_cases: int, seed: int) -> Filled:
    """``cases`` cases over two years (the newest ``open_cases`` still open), with timelines,
    notes and referrals, loaded with COPY."""
    started = time.perf_counter()
    rng = random.Random(seed)
    now = datetime.now(UTC)
    with engine.connect() as connection:
        operators = [r[0] for r in connection.execute(text("SELECT id FROM operators"))]
        usernames = [r[0] for r in connection.execute(text("SELECT username FROM operators"))]
        services = [r[0] for r in connection.execute(text("SELECT id FROM services"))]
    # A few ciphertexts, reused: encrypting 100,000 narratives would time the cipher, not pages.
    narratives = [cipher.encrypt(f"bench narrative {i} " * 8, "case.narrative") for i in range(50)]
    answers = [
        cipher.encrypt(json.dumps({"q": i, "people": "2_5"}), "case.answers") for i in range(50)
    ]
    phones = [cipher.encrypt(f"+24300000{i:04d}", "case.contact_phone") for i in range(50)]
    notes = [cipher.encrypt(f"bench note {i}", "case_note.body") for i in range(50)]
    contacts = [pseudonym(PSEUDONYM_KEY, "phone", f"+24300000{i:04d}") for i in range(5000)]
    case_rows: list[tuple[Any, ...]] = []
    event_rows: list[tuple[Any, ...]] = []
    note_rows: list[tuple[Any, ...]] = []
    referral_rows: list[tuple[Any, ...]] = []
    span = timedelta(days=730).total_seconds()
    filled = Filled()
    for n in range(1, cases + 1):
        is_open = n > cases - open_cases
        created = now - timedelta(seconds=span * (cases - n) / cases + rng.random() * 60)
        priority = rng.choices(PRIORITIES, PRIORITY_WEIGHTS)[0]
        due = created + TRIAGE.get(priority, timedelta(days=7))
        status = rng.choices(OPEN, OPEN_WEIGHTS)[0] if is_open else "closed"
        acknowledged = None if status == "new" and rng.random() < 0.7 else created
        consent_contact = rng.random() < 0.4
        ref = reference(n * 7919 % 8_000_000)
        if is_open:
            filled.open_references.append(ref)
        case_rows.append(
            (
                n,
                ref,
                f"bench:{n}",
                rng.choice(KINDS),
                rng.choice(CHANNELS),
                rng.choice(LANGS),
                rng.choice(AREAS),
                rng.choice(TYPES),
                rng.randint(1, 20),
                rng.choice(("under_18", "18_plus", None)),
                rng.choice((True, False, None)),
                rng.choice(answers),
                rng.choice(RULES),
                priority,
                consent_contact,
                rng.random() < 0.5,
                rng.random() < 0.2,
                rng.choice(contacts),
                rng.choice(phones) if consent_contact else None,
                rng.choice(narratives),
                status,
                None if is_open else rng.choice(CLOSE_REASONS),
                rng.choice(operators) if status != "new" and rng.random() < 0.8 else None,
                due,
                acknowledged,
                created,
                created,
                None if is_open else created + timedelta(days=rng.randint(1, 60)),
            )
        )
        moves = 2 if status == "new" else rng.randint(3, 8)
        for k in range(moves):
            kind = "created" if k == 0 else rng.choice(EVENT_KINDS[1:])
            event_rows.append(
                (
                    n,
                    created + timedelta(minutes=5 * k),
                    "system" if k == 0 else rng.choice(usernames),
                    kind,
                    None,
                    status if kind == "status" else None,
                    None,
                )
            )
        if is_open and rng.random() < 0.6:
            for k in range(rng.randint(1, 3)):
                note_rows.append(
                    (n, rng.choice(operators), rng.choice(notes), created + timedelta(hours=k))
                )
        if rng.random() < 0.2:
            referral_rows.append(
                (
                    n,
                    rng.choice(services),
                    "in_progress" if is_open else "done",
                    rng.choice(operators),
                    created + timedelta(hours=1),
                    created + timedelta(hours=2),
                )
            )
    copy_rows(
        engine,
        "cases",
        [
            "id",
            "reference",
            "event_key",
            "kind",
            "channel",
            "lang",
            "area",
            "exploitation_type",
            "people_affected",
            "age_band",
            "minor",
            "answers",
            "rule",
            "priority",
            "consent_contact",
            "consent_refer",
            "consent_police",
            "contact",
            "contact_phone",
            "narrative",
            "status",
            "close_reason",
            "assignee_id",
            "due_at",
            "acknowledged_at",
            "created_at",
            "updated_at",
            "closed_at",
        ],
        case_rows,
    )
    copy_rows(
        engine,
        "case_events",
        ["case_id", "at", "actor", "kind", "from_status", "to_status", "detail"],
        event_rows,
    )
    copy_rows(engine, "case_notes", ["case_id", "author_id", "body", "created_at"], note_rows)
    copy_rows(
        engine,
        "referrals",
        ["case_id", "service_id", "status", "created_by", "created_at", "updated_at"],
        referral_rows,
    )
    with engine.begin() as connection:
        connection.execute(text("SELECT setval('cases_id_seq', (SELECT max(id) FROM cases))"))
    # As autovacuum leaves a table in use: statistics and visibility map (index-only scans).
    autocommit = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    with autocommit as connection:
        connection.execute(text("VACUUM ANALYZE cases, case_events, case_notes, referrals"))
    filled.counts = {
        "cases": len(case_rows),
        "open": open_cases,
        "case_events": len(event_rows),
        "case_notes": len(note_rows),
        "referrals": len(referral_rows),
    }
    filled.seconds = time.perf_counter() - started
    return filled


class Timed:
    """ASGI wrapper: the server time of the last request (until its answer's last byte), and
    the CPU time this process spent meanwhile (one request at a time: that request's CPU, which
    other programs competing for the cores do not inflate as they do the wall time)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.last = 0.0
        self.cpu = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started, cpu = time.perf_counter(), time.process_time()
        try:
            await self.app(scope, receive, send)
        finally:
            self.last = time.perf_counter() - started
            self.cpu = time.process_time() - cpu


@dataclass
class Counter:
    """SQL statements run on an engine since the last ``reset``."""

    statements: list[str] = field(default_factory=list)

    def listen(self, engine: Engine) -> None:
        """Count every statement the engine sends."""

        def count(*args: Any) -> None:
            self.statements.append(str(args[2]))

        event.listen(engine, "before_cursor_execute", count)

    def reset(self) -> None:
        """Start counting again."""
        self.statements.clear()


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def sign_in(client: httpx.AsyncClient, username: str) -> None:
    """Sign in through the form, as a browser does (CSRF token and cookies)."""
    form = await client.get("/signin")
    form.raise_for_status()
    token = CSRF.search(form.text)
    assert token is not None, "no CSRF token on the sign-in form"
    answer = await client.post(
        "/signin",
        data={"csrf": token.group(1), "username": username, "password": PASSWORD, "next": "/queue"},
    )
    assert answer.status_code in (302, 303), (answer.status_code, answer.text[:300])


@dataclass
class Figures:
    """Server times (seconds) and statement counts of one kind of request."""

    name: str
    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    missing: bool = False

    def line(self) -> str:
        """One report line."""
        if self.missing:
            return f"{self.name:<28} not served here (404)"
        ordered = sorted(self.times)
        p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
        spread = f"{min(self.queries)}-{max(self.queries)}"
        queries = str(self.queries[0]) if len(set(self.queries)) == 1 else spread
        return (
            f"{self.name:<28} n={len(self.times):<4} p50 {statistics.median(ordered) * 1e3:6.1f} ms"
            f"  p99 {p99 * 1e3:6.1f} ms  cpu p50 {statistics.median(self.cpu) * 1e3:5.1f} ms"
            f"  queries {queries:<5}  gzip {statistics.median(self.sizes) / 1024:5.1f} KB"
        )


async def measure(
    app: ASGIApp,
    engine: Engine,
    paths: dict[str, list[str]],
    *,
    requests: int,
    warmup: int,
    show: bool,
) -> list[Figures]:
    """Each kind of page, ``requests`` times after ``warmup``: server time and statements."""
    timed = Timed(app)
    counter = Counter()
    counter.listen(engine)
    transport = httpx.ASGITransport(app=timed)
    out = []
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        await sign_in(client, OPERATOR)
        for name, choices in paths.items():
            figures = Figures(name)
            for n in range(warmup + requests):
                path = choices[n % len(choices)]
                counter.reset()
                answer = await client.get(path)
                if answer.status_code == 404 and n == 0:
                    figures.missing = True
                    break
                assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
                if n == warmup and show:
                    print(f"\n{name} ({path}): {len(counter.statements)} statements")
                    for statement in counter.statements:
                        print("   ", " ".join(statement.split())[:160])
                if n >= warmup:
                    figures.times.append(timed.last)
                    figures.cpu.append(timed.cpu)
                    figures.queries.append(len(counter.statements))
                    figures.sizes.append(len(gzip.compress(answer.content, 6, mtime=0)))
            out.append(figures)
    return out


def main(argv: list[str] | None = None) -> None:
    """Run the bench and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default=DEFAULT_URL, help="a PostgreSQL to make a schema in"
    )
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--open", type=int, default=10_000, dest="open_cases")
    parser.add_argument("--requests", type=int, default=300, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--keep", action="store_true", help="do not drop the schema")
    parser.add_argument("--show-queries", action="store_true")
    parser.add_argument(
        "--pages",
        default=",".join(PAGES),
        help=f"which to measure, comma-separated: {', '.join(PAGES)}",
    )
    parser.add_argument(
        "--without-queue-indexes",
        action="store_true",
        help="drop migration 0008's partial indexes first (to compare)",
    )
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.pages.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in PAGES]
    if unknown:
        parser.error(f"--pages: unknown {', '.join(unknown)} (one of {', '.join(PAGES)})")
    if not args.database_url.startswith("postgresql"):
        parser.error("--database-url: a PostgreSQL URL (the bench makes a schema of its own)")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} CPUs")
    with (
        tempfile.TemporaryDirectory() as folder,
        private_schema(args.database_url, args.keep) as url,
    ):
        settings = Settings(
            database_url=url,
            redis_url=None,
            secrets_file=Path(folder) / "secrets.json",
            callback_token="bench-callback-token",  # noqa: S106
            pseudonym_key=PSEUDONYM_KEY,
            encryption_keys=new_key(),
            telegram_webhook_secret="bench-webhook-secret",  # noqa: S106
            demo=True,
            demo_password=PASSWORD,
            flows_dir=ROOT / "flows",
            locales_dir=ROOT / "locales",
        )
        app = create_app(settings)
        engine: Engine = app.state.engine
        if args.without_queue_indexes:
            with engine.begin() as connection:
                connection.execute(text("DROP INDEX ix_cases_open_queue, ix_cases_open_area"))
        filled = fill(
            engine,
            app.state.cipher,
            cases=args.cases,
            open_cases=args.open_cases,
            seed=args.seed,
        )
        counts = ", ".join(f"{v:,} {k}" for k, v in filled.counts.items())
        print(f"filled in {filled.seconds:.1f} s: {counts}")
        rng = random.Random(args.seed)
        cases = [f"/cases/{ref}" for ref in rng.sample(filled.open_references, 50)]
        every = {
            "queue": ("queue page /queue", ["/queue"]),
            "mine": ("queue page, mine", ["/queue?who=mine"]),
            "area": ("queue page, P1 in an area", ["/queue?priority=P1&area=cd-kinshasa"]),
            "rows": ("live refresh /queue/rows", ["/queue/rows"]),
            "case": ("case page /cases/{ref}", cases),
        }
        paths = dict(every[name] for name in chosen)
        figures = asyncio.run(
            measure(
                app,
                engine,
                paths,
                requests=args.requests,
                warmup=args.warmup,
                show=args.show_queries,
            )
        )
        print(f"\nserver time per page, {date.today()}:")
        for one in figures:
            print(" ", one.line())
        engine.dispose()


if __name__ == "__main__":
    main()
