"""CPU per case written at Send: ``CasesSink.commit`` alone, on PostgreSQL or SQLite.

A tip session's Send writes its case in the database's thread while the event loop serves
everyone else, so every millisecond of CPU a case costs is taken from the callers
(``bench/README.md``, "Tip sessions"). This times only that write: the hotline's own
``CasesSink`` on a fresh schema (PostgreSQL) or file (SQLite), the demo-like mix of the tip
paths (P1 with an on-call lookup, P2, P3; with and without a description and contact), each a
new event of a new contact. It prints CPU (this process: the Python side, SQLAlchemy and the
driver) and wall time per case, and the statements per case; ``--profile`` adds cProfile.

    .venv/bin/python -m bench.case_write           # PostgreSQL (HOTLINE_TEST_DATABASE_URL)
    .venv/bin/python -m bench.case_write --sqlite
    .venv/bin/python -m bench.case_write --cases 2000 --profile --top 30
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from bench.ussd_load import postgres_schema
from bot.cases.intake import CasesSink
from bot.core.db import make_engine
from bot.core.migrate import upgrade
from bot.core.privacy import Cipher, new_key
from bot.engine.state import Event
from bot.i18n.catalog import Catalogs
from bot.outbox.notify import Notifier

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = os.environ.get(
    "HOTLINE_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MIX: list[tuple[str, dict[str, str]]] = [
    ("P1", {"area": "cd-kwilu-kikwit", "exploitation": "forced_labour", "children": "yes"}),
    ("P2", {"area": "gn-conakry", "exploitation": "sexual_exploitation", "consent_contact": "yes"}),
    ("P3", {"area": "ls-maseru", "description": "Des enfants travaillent la nuit au marché."}),
    ("P3", {"area": "cd-kinshasa", "people": "3", "exploitation": "domestic_servitude"}),
]


class Quiet:
    """A notifier that drops the alerts (the worker's job; not timed here)."""

    async def notify(self, ids: list[int]) -> None:
        return None


@contextmanager
def database(sqlite: bool, url: str) -> Iterator[Engine]:
    """A migrated engine on a fresh schema or file, gone afterwards."""
    if sqlite:
        with tempfile.TemporaryDirectory() as folder:
            engine = make_engine(f"sqlite:///{Path(folder) / 'cases.db'}")
            upgrade(engine)
            yield engine
            engine.dispose()
        return
    with postgres_schema(url) as scoped:
        engine = make_engine(scoped)
        upgrade(engine)
        yield engine
        engine.dispose()


def events(n: int) -> Iterator[tuple[Event, str, str]]:
    """``n`` events of the mix: (event, contact pseudonym, the caller's number)."""
    for i in range(n):
        priority, answers = MIX[i % len(MIX)]
        payload: dict[str, Any] = {
            "event_id": f"bench:{i}",
            "flow": "tip",
            "lang": ("fr", "ln", "st", "en")[i % 4],
            "answers": answers,
            "priority": priority,
        }
        yield Event("tip_submitted", payload), f"c{i:010d}", f"+243000{i:06d}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args(argv)
    catalogs = Catalogs.load(ROOT / "locales")
    cipher = Cipher.from_list([new_key()])
    with database(args.sqlite, args.database_url) as engine:
        quiet: Notifier = Quiet()  # type: ignore[assignment]
        sink = CasesSink(engine, cipher, catalogs.gettext, lambda: quiet)
        statements = [0]

        def count(*_: object) -> None:
            statements[0] += 1

        event.listen(engine, "before_cursor_execute", count)
        made = list(events(args.warmup + args.cases))
        for e, contact, number in made[: args.warmup]:
            sink.commit(e, channel="ussd", contact=contact, address=number)
        statements[0] = 0
        cpu: list[float] = []
        wall: list[float] = []
        profile = cProfile.Profile(time.thread_time) if args.profile else None
        for e, contact, number in made[args.warmup :]:
            c0, w0 = time.thread_time(), time.perf_counter()
            if profile:
                profile.enable()
            sink.commit(e, channel="ussd", contact=contact, address=number)
            if profile:
                profile.disable()
            cpu.append(time.thread_time() - c0)
            wall.append(time.perf_counter() - w0)
        name = "SQLite" if args.sqlite else "PostgreSQL"
        print(f"{name}: {args.cases} cases (P1/P2/P3 mix), load average {os.getloadavg()[0]:.2f}")
        print(
            f"  CPU per case  p50 {statistics.median(cpu) * 1e3:.2f} ms"
            f"  mean {statistics.fmean(cpu) * 1e3:.2f} ms"
        )
        print(
            f"  wall per case p50 {statistics.median(wall) * 1e3:.2f} ms"
            f"  mean {statistics.fmean(wall) * 1e3:.2f} ms"
        )
        print(f"  statements per case {statements[0] / args.cases:.1f}")
        if profile:
            pstats.Stats(profile).sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
