"""Soak of the production topology: USSD, SMS and Telegram traffic while parts die and return.

``bench.topology`` brings up N apps behind a round-robin front, M workers, a scratch PostgreSQL
database and a Redis database number. People are played by lanes that loop for ``--duration``
seconds: USSD sessions (tips that press Send, and browsing), SMS conversations (a keyword, then
a tip; one in ten messages delivered twice, as a provider retry would) and Telegram chats
(updates posted to the webhook with the secret; a failed one is posted again with the same
``update_id``, as Telegram does). Meanwhile, on a schedule spread over the run: an app is
SIGKILLed and started again, a worker likewise, the open escalation deadlines are brought
forward so they fall due, the machine's Redis is shut down and started again (the guide's
command), and PostgreSQL is stopped for a few seconds (always started again). Then traffic stops
and the soak waits for the workers to settle, and counts:

- requests served, 5xx, connection errors, p50/p99, per channel;
- references shown (a USSD screen, an SMS the Africa's Talking stub sent, a Telegram message the
  fake Bot API got) against cases stored: shown but not stored (acknowledged and lost) must be
  0, and no session may have two cases;
- outbox messages sent once, twice or more, lost, unknown, still pending (matched to what the
  stub was asked to send, by recipient and text);
- alerts delivered, escalations done, due ones left undone;
- with ``--metrics-url`` (or ``/metrics`` on an app when it answers), scrapes taken during the
  run and every label value checked for personal data (numbers, references, ids).

Faults on the machine's Redis and PostgreSQL are taken under ``flock /tmp/hotline-suite.lock``
(held for the whole run) since other test runs use them; ``--private-redis`` restarts a
``redis-server`` of the soak's own instead, ``--no-postgres-stop`` skips the PostgreSQL stop.

    .venv/bin/python -m bench.soak                     # 3 minutes, 2 apps, 2 workers
    .venv/bin/python -m bench.soak --duration 900 --lanes 16
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import update
from sqlmodel import Session, col

from bench.services import postgres, restart_redis, wait_postgres
from bench.soak_count import (
    SETTLE_SECONDS,
    count,
    metrics_lines,
    requests_lines,
    scrape,
    settle,
    telegram_shown,
)
from bench.soak_people import People, Tally
from bench.topology import Topology
from bot.core.clock import utcnow
from bot.core.db import make_engine
from bot.models import Escalation

SUITE_LOCK = Path("/tmp/hotline-suite.lock")  # noqa: S108 - the team's agreed lock file
# --- faults -----------------------------------------------------------------------------------


@contextlib.contextmanager
def suite_lock(needed: bool) -> Iterator[None]:
    """Hold ``/tmp/hotline-suite.lock`` (other runs' full suites wait) while shared services
    are taken down."""
    if not needed:
        yield
        return
    with SUITE_LOCK.open("a") as handle:
        print("soak: waiting for /tmp/hotline-suite.lock ...", flush=True)
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


async def faults(args: argparse.Namespace, topology: Topology, tally: Tally, began: float) -> None:
    """The schedule of faults, at fractions of the run."""
    loop = asyncio.get_running_loop()

    async def at(fraction: float) -> None:
        await asyncio.sleep(max(0.0, began + fraction * args.duration - time.monotonic()))

    def note(text: str) -> None:
        line = f"  {time.monotonic() - began:6.1f} s  {text}"
        tally.events.append(line)
        print(line, flush=True)

    await at(0.15)
    app = topology.app_procs[0]
    app.kill()
    note(f"SIGKILL {app.name}")
    await asyncio.sleep(3)
    app.start(topology.env())
    await loop.run_in_executor(None, topology.wait_app, app)
    note(f"{app.name} serving again")

    await at(0.3)
    worker = topology.worker_procs[0]
    worker.kill()
    note(f"SIGKILL {worker.name}")
    await asyncio.sleep(2)
    worker.start(topology.env())
    note(f"{worker.name} started again")

    await at(0.42)
    moved = await loop.run_in_executor(None, bring_escalations_forward, topology)
    note(f"{moved} open escalation deadline(s) brought forward to now")

    await at(0.5)
    if args.private_redis:
        down = await loop.run_in_executor(None, topology.private_redis_restart)
    else:
        down = await loop.run_in_executor(None, restart_redis, args.redis_down)
    note(f"Redis shut down and started again: {down:.1f} s without Redis")

    if not args.no_postgres_stop:
        await at(0.65)
        private = topology.private_postgres
        note("PostgreSQL stopping" + (" (a cluster of the soak's own)" if private else ""))
        try:
            if private:
                await loop.run_in_executor(None, private.stop)
            else:
                await loop.run_in_executor(None, postgres, "stop")
            note("PostgreSQL stopped")
            await asyncio.sleep(args.postgres_down)
        finally:
            if private:
                await loop.run_in_executor(None, private.start)
            else:
                await loop.run_in_executor(None, postgres, "start")
            await loop.run_in_executor(None, wait_postgres, 60.0, topology.admin_url)
            note("PostgreSQL started again")

    if len(topology.app_procs) > 1:
        await at(0.8)
        app = topology.app_procs[-1]
        app.kill()
        note(f"SIGKILL {app.name}")
        await asyncio.sleep(3)
        app.start(topology.env())
        await loop.run_in_executor(None, topology.wait_app, app)
        note(f"{app.name} serving again")


def bring_escalations_forward(topology: Topology) -> int:
    """Open escalation deadlines (10 minutes away) set to now, so that they fall due in the run."""
    engine = make_engine(topology.database_url)
    try:
        with Session(engine) as session:
            moved = session.execute(
                update(Escalation).where(col(Escalation.done).is_(False)).values(due_at=utcnow())
            )
            session.commit()
            return int(moved.rowcount)  # type: ignore[attr-defined]
    finally:
        engine.dispose()


async def run(args: argparse.Namespace) -> int:
    env = {
        "HOTLINE_ALERT_GROUP_SECONDS": "0",  # every alert alone, so each can be counted
        "HOTLINE_ALERT_SHIFT_BUDGET": "0",
        "HOTLINE_SMS_HOURLY_LIMIT": "1000",
    }
    topology = Topology(args.apps, args.workers, env_extra=env, caddy=args.caddy)
    if args.private_redis:
        topology.use_private_redis()
    if args.private_postgres:
        topology.use_private_postgres()
    tally = Tally()
    shared = not (args.private_redis and (args.no_postgres_stop or args.private_postgres))
    with suite_lock(shared and not args.lock_held), topology.running():
        print(
            f"soak: {args.duration:.0f} s, {args.lanes} lanes; {args.apps} apps, {args.workers}"
            f" workers behind {topology.front_url}; PostgreSQL {topology.database}; Redis"
            f" {topology.redis_url}; logs {topology.folder}; load {os.getloadavg()[0]:.2f}",
            flush=True,
        )
        people = People(topology, tally, args.seed)
        began = time.monotonic()
        until = began + args.duration
        tasks = [asyncio.create_task(people.lane(until)) for _ in range(args.lanes)]
        tasks.append(asyncio.create_task(scrape(topology, tally, until)))
        fault_task = asyncio.create_task(faults(args, topology, tally, began))
        await asyncio.gather(*tasks)
        await fault_task
        await people.client.aclose()
        elapsed = time.monotonic() - began
        load = os.getloadavg()
        settled = await asyncio.get_running_loop().run_in_executor(
            None, settle, topology, SETTLE_SECONDS
        )
        methods = await telegram_shown(topology, tally)
        lines = count(topology, tally)
    print(f"\nsoak: {elapsed:.0f} s of traffic; load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print("faults:")
    print("\n".join(tally.events))
    print("requests (through the front; each failed request tried again up to 3 times):")
    for line in requests_lines(tally):
        print("  " + line)
    print(f"  SMS delivered twice by the 'provider': {tally.sms_duplicates}")
    for screen, n in tally.no_reference.most_common(6):
        print(f"  Send without a reference {n}x, last screen {screen}")
    print(f"settled {settled:.1f} s after the traffic stopped")
    for line in lines:
        print("  " + line)
    print("  Telegram Bot API calls: " + ", ".join(f"{k} {v}" for k, v in sorted(methods.items())))
    for line in metrics_lines(tally, topology):
        print(line)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=180.0, help="seconds of traffic")
    parser.add_argument("--apps", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--lanes", type=int, default=10, help="people at once")
    parser.add_argument("--redis-down", type=float, default=2.0)
    parser.add_argument("--postgres-down", type=float, default=5.0)
    parser.add_argument("--private-redis", action="store_true")
    parser.add_argument("--no-postgres-stop", action="store_true")
    parser.add_argument(
        "--private-postgres", action="store_true", help="a PostgreSQL cluster of its own"
    )
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--caddy", action="store_true", help="deploy/Caddyfile as the front")
    parser.add_argument(
        "--lock-held", action="store_true", help="the caller holds /tmp/hotline-suite.lock"
    )
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
