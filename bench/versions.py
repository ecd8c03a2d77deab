"""What stored flow versions cost: seeding, checking a draft, saving, publishing, listing.

``python -m bench.versions [--url sqlite:///…|postgresql://…] [--rounds N]``: on a fresh
database (a temporary SQLite file by default), the median and max of each operation over N
rounds on the shipped flows, with the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlmodel import Session

from bot.content import versions
from bot.content.assemble import default_base
from bot.content.seed import plan, seed
from bot.core.clock import utcnow
from bot.core.db import make_engine
from bot.core.migrate import upgrade
from bot.core.settings import ROOT


def timed(fn: Callable[[], object]) -> float:
    """Milliseconds one call takes."""
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def report(name: str, samples: list[float]) -> None:
    print(f"{name:<34} median {statistics.median(samples):8.1f} ms   max {max(samples):8.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="bench-versions-")
    engine = make_engine(args.url or f"sqlite:///{Path(folder) / 'bench.db'}")
    upgrade(engine)
    flows, locales = ROOT / "flows", ROOT / "locales"
    print(f"bench.versions: load average {os.getloadavg()[0]:.2f}")
    read = timed(lambda: plan(flows, locales))
    print(f"{'read the files (once per process)':<34} {read:8.1f} ms")
    seeded = timed(lambda: seed(engine, flows, locales))
    print(f"{'seed version 1 of 7 flows':<34} {seeded:8.1f} ms")
    default_base()
    checks: list[float] = []
    saves: list[float] = []
    publishes: list[float] = []
    lists: list[float] = []
    with Session(engine) as session:
        for round_ in range(args.rounds):
            draft = versions.get_draft(session, "main")
            source = draft.source.replace("Choose your language:", f"Language ({round_}):", 1)
            if round_:
                source = draft.source.replace(f"({round_ - 1})", f"({round_})", 1)
            start = time.perf_counter()
            versions.save_draft(
                session, flow="main", revision=draft.revision, source=source, by="b", now=utcnow()
            )
            saves.append((time.perf_counter() - start) * 1000)
            checks.append(timed(lambda: versions.draft_issues(session, "main")))
            revision = versions.get_draft(session, "main").revision
            start = time.perf_counter()
            versions.publish(session, flow="main", revision=revision, note="", by="b", now=utcnow())
            publishes.append((time.perf_counter() - start) * 1000)
            session.commit()
            lists.append(timed(lambda: versions.list_flows(session)))
    report("save a draft (English changed)", saves)
    report("check a draft (draft_issues)", checks)
    report("publish (checks + version)", publishes)
    report("list the flows", lists)
    engine.dispose()


if __name__ == "__main__":
    main()
