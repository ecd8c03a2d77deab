"""``hotline worker`` under faults: Redis restarts and worker kills while messages go out.

Everything is on loopback and bounded in time: a private ``redis-server`` on a free port, a
local stub of Africa's Talking (``POST /version1/messaging``, counting every SMS it is asked to
send), an SQLite file (or ``--database-url``, an empty database of your own), and ``hotline
worker``'s own loops (``bot.jobs.runner``) in a child process sending through the real
Africa's Talking SDK to the stub. N messages are queued (replies and operator alerts) and
announced as the app would; meanwhile Redis is restarted and the worker SIGKILLed and started
again a few times. Then each message is counted: delivered once, twice or more, lost, unknown.

    .venv/bin/python -m bench.worker_faults                 # 300 messages, about 1 minute
    .venv/bin/python -m bench.worker_faults --messages 100 --kills 3 --redis-restarts 2
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs

from sqlmodel import Session, select

from bot.core.db import make_engine
from bot.core.migrate import upgrade
from bot.core.privacy import Cipher, new_key
from bot.models import OutboundMessage
from bot.models.outbox import WorkerHeartbeat
from bot.outbox import queue
from bot.outbox.notify import ArqNotifier
from tests.jobs.private_redis import PrivateRedis

TO = "+243000000001"  # an unassigned test number
ROOT = Path(__file__).resolve().parents[1]


class StubServer(ThreadingHTTPServer):
    """The stub's server: a worker killed mid-call leaves a broken pipe, nothing to report."""

    def handle_error(self, request: object, client_address: object) -> None:
        """Quiet."""


class Stub(BaseHTTPRequestHandler):
    """Africa's Talking's messaging endpoint: accepts every SMS after ``delay`` seconds."""

    sends: ClassVar[Counter[str]] = Counter()
    lock = threading.Lock()
    delay = 0.02

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        form = parse_qs(self.rfile.read(length).decode())
        text = form.get("message", [""])[0]
        time.sleep(self.delay)  # the provider call: a kill may land here
        with self.lock:
            self.sends[text] += 1
            n = sum(self.sends.values())
        body = json.dumps(
            {
                "SMSMessageData": {
                    "Message": "Sent to 1/1",
                    "Recipients": [
                        {"statusCode": 101, "status": "Success", "messageId": f"ATXid_b{n}"}
                    ],
                }
            }
        ).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


def child(database_url: str, redis_url: str, stub_url: str, key: str, lease: float) -> None:
    """The worker process: ``hotline worker``'s runner, the real SDK pointed at the stub."""
    from bot.i18n.catalog import Catalogs
    from bot.jobs.runner import SWEEP_SECONDS, Runner
    from bot.outbox.senders.africastalking import AfricasTalkingSender
    from bot.outbox.worker import OutboxWorker

    engine = make_engine(database_url)
    sender = AfricasTalkingSender("bench", "bench-key")
    sender._service._baseUrl = stub_url
    outbox = OutboxWorker(
        engine,
        Cipher.from_list([key]),
        sender,
        policy=queue.RetryPolicy(lease=timedelta(seconds=lease), base=timedelta(seconds=1)),
        poll=SWEEP_SECONDS,
    )
    runner = Runner(engine, outbox, Catalogs.load(ROOT / "locales").gettext, redis_url=redis_url)

    async def run() -> None:
        task = asyncio.current_task()
        assert task is not None
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await runner.run()

    asyncio.run(run())


def start_worker(
    args: argparse.Namespace, database_url: str, redis_url: str, stub: str, key: str
) -> subprocess.Popen[bytes]:
    """A worker process (see ``child``)."""
    return subprocess.Popen(  # noqa: S603 - this interpreter, this module
        [
            sys.executable,
            "-m",
            "bench.worker_faults",
            "--child",
            database_url,
            redis_url,
            stub,
            key,
            str(args.lease),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "HOTLINE_LOG_LEVEL": "WARNING"},
    )


def statuses(engine_url: str) -> dict[str, tuple[str, str]]:
    """Each message's (status, purpose) by its body's marker."""
    engine = make_engine(engine_url)
    try:
        with Session(engine) as session:
            rows = session.exec(select(OutboundMessage)).all()
        return {row.key: (row.status, row.purpose) for row in rows}
    finally:
        engine.dispose()


def redis_state(engine_url: str) -> str | None:
    engine = make_engine(engine_url)
    try:
        with Session(engine) as session:
            rows = session.exec(select(WorkerHeartbeat)).all()
        fresh = max(rows, key=lambda r: r.seen_at) if rows else None
        return fresh.redis if fresh else None
    finally:
        engine.dispose()


async def main(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    folder = Path(tempfile.mkdtemp(prefix="worker-faults-"))
    database_url = args.database_url or f"sqlite:///{folder / 'bench.db'}"
    engine = make_engine(database_url)
    upgrade(engine)
    key = new_key()
    cipher = Cipher((key,))
    server = StubServer(("127.0.0.1", 0), Stub)
    Stub.delay = args.provider_delay
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stub_url = f"http://127.0.0.1:{server.server_address[1]}"
    redis = PrivateRedis()
    redis.start()
    notifier = ArqNotifier(redis.url)
    worker = start_worker(args, database_url, redis.url, stub_url, key)
    ids: list[int] = []
    with Session(engine) as session:
        for n in range(args.messages):
            purpose = "alert" if n % 4 == 0 else "reply"
            message = queue.enqueue(
                session,
                cipher,
                key=f"bench:{purpose}:{n}",
                channel="sms",
                purpose=purpose,
                contact="ph_bench",
                recipient=TO,
                body=f"bench:{purpose}:{n}",
                lang="en",
            )
            assert message.id is not None
            ids.append(message.id)
        session.commit()
    started = time.monotonic()
    await notifier.notify(ids)
    faults = ["kill"] * args.kills + ["redis"] * args.redis_restarts
    rng.shuffle(faults)
    recoveries: dict[str, list[float]] = {"kill": [], "redis": []}
    for fault in faults:
        await asyncio.sleep(rng.uniform(0.2, 1.0))
        before = sum(Stub.sends.values())
        hit = time.monotonic()
        if fault == "kill":
            worker.kill()  # SIGKILL: no clean-up, a send may be mid-call
            worker.wait()
            worker = start_worker(args, database_url, redis.url, stub_url, key)
            while sum(Stub.sends.values()) == before and time.monotonic() - hit < 30:
                if all(s in ("sent", "unknown") for s, _ in statuses(database_url).values()):
                    break
                await asyncio.sleep(0.05)
        else:
            redis.restart(down_for=1.0)
            while redis_state(database_url) != "connected" and time.monotonic() - hit < 60:
                await asyncio.sleep(0.1)
        recoveries[fault].append(time.monotonic() - hit)
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        found = statuses(database_url)
        if all(status in ("sent", "unknown", "failed") for status, _ in found.values()):
            break
        await asyncio.sleep(0.25)
    elapsed = time.monotonic() - started
    worker.send_signal(signal.SIGTERM)
    worker.wait(timeout=30)
    await notifier.close()
    redis.kill()
    server.shutdown()
    found = statuses(database_url)
    engine.dispose()
    report(args, found, elapsed, recoveries)


def report(
    args: argparse.Namespace,
    found: dict[str, tuple[str, str]],
    elapsed: float,
    recoveries: dict[str, list[float]],
) -> None:
    rows: dict[str, Counter[str]] = {"reply": Counter(), "alert": Counter()}
    for marker, (status, purpose) in found.items():
        sends = Stub.sends.get(marker, 0)
        if status == "unknown":
            kind = "unknown (sent)" if sends else "unknown (not sent)"
        elif sends == 0:
            kind = "lost" if status != "pending" else "still pending"
        elif sends == 1:
            kind = "delivered once"
        else:
            kind = "delivered twice or more"
        rows[purpose][kind] += 1
    print(
        f"worker_faults: {args.messages} messages, {args.kills} worker kills (SIGKILL), "
        f"{args.redis_restarts} Redis restarts (1 s down), provider call "
        f"{args.provider_delay * 1000:.0f} ms, lease {args.lease:.0f} s; "
        f"load {os.getloadavg()[0]:.2f}"
    )
    kinds = [
        "delivered once",
        "delivered twice or more",
        "lost",
        "unknown (sent)",
        "unknown (not sent)",
        "still pending",
    ]
    for purpose, counts in rows.items():
        guarantee = "at least once" if purpose == "alert" else "at most once"
        cells = ", ".join(f"{kind} {counts[kind]}" for kind in kinds)
        print(f"  {purpose} ({guarantee}): {cells}")
    print(f"  all settled after {elapsed:.1f} s")
    for fault, times in recoveries.items():
        if times:
            print(
                f"  recovery after {fault}: median {sorted(times)[len(times) // 2]:.2f} s,"
                f" max {max(times):.2f} s"
                + (" (to heartbeat 'connected')" if fault == "redis" else " (to next send)")
            )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], float(sys.argv[6]))
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--kills", type=int, default=6)
    parser.add_argument("--redis-restarts", type=int, default=3)
    parser.add_argument("--provider-delay", type=float, default=0.02)
    parser.add_argument("--lease", type=float, default=5.0)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--database-url", default=None)
    asyncio.run(main(parser.parse_args()))
