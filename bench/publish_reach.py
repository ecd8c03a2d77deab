"""How long a publish takes to reach the other app processes (DESIGN §12: within 2 seconds).

Two ``hotline serve`` processes run on one database (SQLite in a temporary folder, or
``--database-url``). This script publishes versions of the main flow the way a publish commits
one (the version row and the ``content_signal`` counter in one transaction, then
``bot.content.signal.announce``), alternating the wording of the main menu's first option, at
random moments (up to 1 s after the last); after each, it asks both processes for a new USSD
conversation's main menu every 10 ms until each shows the new wording. The time from the commit
to that answer is the reach.

Two modes: ``redis`` (both processes have ``HOTLINE_REDIS_URL``: the publish is announced on
a pub/sub channel) and ``poll`` (no Redis: each process reads the counter every
``HOTLINE_CONTENT_POLL_SECONDS``, 1 s by default). Run from the repository root::

    .venv/bin/python -m bench.publish_reach                      # both modes, 20 publishes each
    .venv/bin/python -m bench.publish_reach --mode poll --publishes 50
    .venv/bin/python -m bench.publish_reach --redis-url redis://127.0.0.1:6379/14
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx2
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

ROOT = Path(__file__).resolve().parents[1]
TOKEN = secrets.token_urlsafe(16)
OLD = "Report something"


@dataclass
class Server:
    """One ``hotline serve`` process."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    client: httpx2.Client

    def first_option(self) -> str:
        """The first option of a new USSD conversation's English main menu."""
        form = {
            "sessionId": f"ATUid_{uuid.uuid4().hex}",
            "serviceCode": "*384*12#",
            "phoneNumber": "+243000000001",  # unassigned: the tests' range
            "networkCode": "63001",
            "text": "1",
        }
        response = self.client.post(f"/ussd/africastalking/{TOKEN}", data=form)
        response.raise_for_status()
        line = next(r for r in response.text.split("\n") if r.startswith("1 "))
        return line.removeprefix("1 ")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start(name: str, folder: Path, env: dict[str, str]) -> Server:
    port = free_port()
    log = (folder / f"{name}.log").open("wb")
    process = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)],
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    client = httpx2.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
    return Server(name, port, process, client)


def wait_up(server: Server, deadline: float) -> None:
    while True:
        if server.process.poll() is not None:
            raise SystemExit(f"{server.name} stopped; see its log")
        try:
            server.client.get("/healthz")
            return
        except httpx2.TransportError:
            if time.monotonic() > deadline:
                raise SystemExit(f"{server.name} not up in time") from None
            time.sleep(0.05)


def stop(server: Server) -> None:
    server.client.close()
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


def publish(engine: Engine, label: str) -> int:
    """Store a new version of the main flow with this first option, as a publish commits it;
    the new generation."""
    from bot.content import store
    from bot.models.content import FlowVersion

    source = (ROOT / "flows" / "main.yaml").read_text(encoding="utf-8")
    source = source.replace(f"label: {OLD},", f"label: {label},")
    with Session(engine) as session:
        numbers = session.exec(
            select(FlowVersion.number).where(col(FlowVersion.flow) == "main")
        ).all()
        store.add_version(
            session,
            store.Version(
                flow="main",
                number=max(numbers, default=0) + 1,
                source=source,
                translations={},
                digest=uuid.uuid4().hex[:12],
                published_by="bench",
                published_at=datetime.now(UTC),
                note="bench.publish_reach",
                restored_from=None,
            ),
        )
        generation = store.bump_signal(session)
        session.commit()
    return generation


def run(mode: str, publishes: int, database_url: str | None, redis_url: str) -> None:
    from bot.content import signal as content_signal
    from bot.core.db import make_engine
    from bot.core.migrate import upgrade

    folder = Path(tempfile.mkdtemp(prefix="hotline-reach-"))
    try:
        url = database_url or f"sqlite:///{folder / 'hotline.db'}"
        engine = make_engine(url)
        upgrade(engine)
        env = {
            "HOTLINE_DATABASE_URL": url,
            "HOTLINE_CALLBACK_TOKEN": TOKEN,
            "HOTLINE_PSEUDONYM_KEY": secrets.token_urlsafe(32),
            "HOTLINE_ENCRYPTION_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),
            "HOTLINE_SECRETS_FILE": str(folder / "secrets.json"),
            "HOTLINE_LOG_LEVEL": "WARNING",
        }
        if mode == "redis":
            env["HOTLINE_REDIS_URL"] = redis_url
        servers = [start(name, folder, env) for name in ("first", "second")]
        try:
            started = time.monotonic()
            for server in servers:
                wait_up(server, started + 180)
            print(f"{mode}: both processes up in {time.monotonic() - started:.1f} s")
            reach: dict[str, list[float]] = {s.name: [] for s in servers}
            pause = random.Random(14)
            for n in range(publishes):
                # Publishes come at any moment, not in step with the processes' polls.
                time.sleep(pause.uniform(0, 1.0))
                label = f"Report {n} now"
                generation = publish(engine, label)
                committed = time.perf_counter()
                content_signal.announce(redis_url if mode == "redis" else None, generation)
                waiting = list(servers)
                while waiting:
                    for server in list(waiting):
                        if server.first_option() == label:
                            reach[server.name].append(time.perf_counter() - committed)
                            waiting.remove(server)
                    if time.perf_counter() - committed > 10:
                        raise SystemExit(f"publish {n} not served within 10 s")
                    time.sleep(0.01)
            for name, times in reach.items():
                ms = sorted(t * 1000 for t in times)
                print(
                    f"{mode}: {name} process: {len(ms)} publishes, reach p50 "
                    f"{statistics.median(ms):.0f} ms, p90 {ms[int(len(ms) * 0.9) - 1]:.0f} ms, "
                    f"max {ms[-1]:.0f} ms"
                )
        finally:
            for server in servers:
                stop(server)
            engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=["redis", "poll", "both"], default="both")
    parser.add_argument("--publishes", type=int, default=20)
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp folder")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    args = parser.parse_args()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"bench.publish_reach: load average {load}, {os.cpu_count()} CPUs")
    for mode in ("redis", "poll") if args.mode == "both" else (args.mode,):
        run(mode, args.publishes, args.database_url, args.redis_url)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"bench.publish_reach: load average after {load}")


if __name__ == "__main__":
    main()
