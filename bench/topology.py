"""The production topology on this machine: N ``hotline serve``, M ``hotline worker``, one front.

What ``compose.yaml`` runs, without containers: a scratch PostgreSQL database (created, migrated
once as the compose one-shot does, seeded with the demo team and a rota covering now, dropped at
the end), a Redis database number of its own (emptied before and after), N app processes on
their own ports behind a small round-robin TCP front (a connection goes to the next app that
accepts it, as a proxy's passive health check does), M workers, a local stub of Africa's
Talking's messaging API that records every SMS it is asked to send, and the fake Telegram Bot
API (``hotline telegram fake-api``) whose webhook is the front. The workers are ``hotline
worker`` itself; only the SDK's base URL is pointed at the stub (``SOAK_AT_BASE``).

    .venv/bin/python -m bench.topology                       # 2 apps, 2 workers; Ctrl-C stops
    .venv/bin/python -m bench.topology --apps 3 --workers 1 --check   # one USSD request, stop
    .venv/bin/python -m bench.topology --caddy      # deploy/Caddyfile in front (Debian's caddy)

With ``--caddy`` the front is ``caddy run`` on ``deploy/Caddyfile`` itself, the file compose
mounts, given local upstreams, ports and a self-signed certificate through its placeholders.

``bench.soak`` drives traffic and faults through it.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import httpx
import psycopg
import redis

from bench.at_stub import AtStub, StubServer
from bench.front import self_signed
from bench.services import ADMIN_URL, REDIS_PORT, PrivatePostgres
from bot.core.db import make_engine
from bot.core.migrate import upgrade
from bot.core.privacy import Cipher, new_key
from bot.dev import demo
from tests.jobs.private_redis import PrivateRedis

ROOT = Path(__file__).resolve().parents[1]
DATABASE = "hotline_soak"
"""Prefix of the scratch database's name (a random suffix per topology)."""
LOCK = Path(tempfile.gettempdir()) / "hotline-topology.lock"
"""Held while a topology uses the machine's Redis database ``REDIS_DB`` (one at a time)."""
REDIS_DB = 10
"""Redis database of the topology (tests use 15, ``bench.ussd_load`` 13, ``bench.ussd_cpu`` 12)."""
TELEGRAM_TOKEN = "123456:soak"  # noqa: S105 - the fake Bot API takes any token


def free_port() -> int:
    """A TCP port nothing listens on now (loopback)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# --- processes ------------------------------------------------------------------------------


def worker_main() -> None:
    """``hotline worker`` with the Africa's Talking SDK pointed at ``SOAK_AT_BASE``."""
    from bot.cli import main
    from bot.outbox.senders import africastalking

    base = os.environ["SOAK_AT_BASE"]
    original = africastalking.AfricasTalkingSender.__init__

    def redirected(
        self: africastalking.AfricasTalkingSender,
        username: str,
        api_key: str,
        sender_id: str | None = None,
    ) -> None:
        original(self, username, api_key, sender_id)
        self._service._baseUrl = base

    africastalking.AfricasTalkingSender.__init__ = redirected  # type: ignore[method-assign]
    main(["worker"])


@dataclass
class Process:
    """A child process of the topology and how to start it again."""

    name: str
    argv: list[str]
    log: Path
    port: int | None = None
    metrics_port: int | None = None
    """A worker's ``HOTLINE_METRICS_PORT`` (apps serve ``/metrics`` on their own port)."""
    extra_env: dict[str, str] = field(default_factory=dict)
    popen: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self, env: dict[str, str]) -> None:
        env = {**env, **self.extra_env}
        if self.metrics_port is not None:
            env["HOTLINE_METRICS_PORT"] = str(self.metrics_port)
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(  # noqa: S603 - this interpreter, our own modules
                self.argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )

    @property
    def metrics_url(self) -> str | None:
        """Where this process answers ``/metrics`` (with the topology's token)."""
        port = self.metrics_port or self.port
        return None if port is None else f"http://127.0.0.1:{port}/metrics"
        self.starts += 1

    def kill(self) -> None:
        """SIGKILL: no clean-up, whatever it was doing."""
        if self.popen is not None and self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait()

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 15 s."""
        if self.popen is None or self.popen.poll() is not None:
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None


def wait_http(url: str, timeout: float = 60.0, *, ok: tuple[int, ...] = (200,)) -> None:
    """Wait until ``url`` answers one of ``ok``."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2, trust_env=False, verify=False).status_code in ok:  # noqa: S501
                return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer in {timeout:.0f} s")
        time.sleep(0.2)


@dataclass
class Topology:
    """Everything above; ``start`` brings it up healthy, ``stop`` takes it down and drops it."""

    apps: int = 2
    workers: int = 2
    redis_db: int = REDIS_DB
    redis_url_base: str = f"redis://127.0.0.1:{REDIS_PORT}"
    env_extra: dict[str, str] = field(default_factory=dict)
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="topology-")))
    database: str = field(default_factory=lambda: f"{DATABASE}_{secrets.token_hex(3)}")
    caddy: bool = False
    telegram: bool = True
    """Run the fake Bot API and turn the Telegram channel on."""
    seed: bool = True
    """Add the demo team and a rota covering now (alerts need someone on call)."""

    def __post_init__(self) -> None:
        self.callback_token = secrets.token_urlsafe(24)
        self.pseudonym_key = new_key()
        self.encryption_key = new_key()
        self.webhook_secret = secrets.token_urlsafe(24)
        self.metrics_token = secrets.token_urlsafe(24)
        self.demo_password = secrets.token_urlsafe(12)
        self.front_port = free_port()
        self.fake_port = free_port()
        self.app_procs: list[Process] = []
        self.worker_procs: list[Process] = []
        self.others: list[Process] = []
        self.stub: StubServer | None = None
        self.private_redis: PrivateRedis | None = None
        self.private_postgres: PrivatePostgres | None = None
        self.caddy_env: dict[str, str] = {}

    def use_private_redis(self) -> None:
        """A ``redis-server`` of the topology's own (free port) instead of the machine's."""
        self.private_redis = PrivateRedis()
        self.private_redis.start()
        self.redis_url_base = f"redis://127.0.0.1:{self.private_redis.port}"

    def use_private_postgres(self) -> None:
        """A PostgreSQL cluster of the topology's own (free port), to stop without the lock."""
        self.private_postgres = PrivatePostgres(free_port())
        self.private_postgres.init()

    def private_redis_restart(self, down_for: float = 2.0) -> float:
        """Kill the private Redis and start it again; returns the seconds it was away."""
        assert self.private_redis is not None
        began = time.monotonic()
        self.private_redis.restart(down_for=down_for)
        return time.monotonic() - began

    # urls
    @property
    def database_url(self) -> str:
        port = self.private_postgres.port if self.private_postgres else 5432
        return f"postgresql+psycopg://postgres@127.0.0.1:{port}/{self.database}"

    @property
    def admin_url(self) -> str:
        """The maintenance database of the PostgreSQL in use (to create and drop ours)."""
        return self.private_postgres.admin_url if self.private_postgres else ADMIN_URL

    @property
    def redis_url(self) -> str:
        return f"{self.redis_url_base}/{self.redis_db}"

    @property
    def front_url(self) -> str:
        scheme = "https" if self.caddy else "http"
        return f"{scheme}://127.0.0.1:{self.front_port}"

    @property
    def fake_url(self) -> str:
        return f"http://127.0.0.1:{self.fake_port}"

    @property
    def cipher(self) -> Cipher:
        return Cipher((self.encryption_key,))

    def env(self) -> dict[str, str]:
        """The one environment of every app and worker (as compose's ``x-hotline``)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
        assert self.stub is not None
        env.update(
            {
                "HOTLINE_DATABASE_URL": self.database_url,
                "HOTLINE_REDIS_URL": self.redis_url,
                "HOTLINE_CALLBACK_TOKEN": self.callback_token,
                "HOTLINE_PSEUDONYM_KEY": self.pseudonym_key,
                "HOTLINE_ENCRYPTION_KEYS": self.encryption_key,
                "HOTLINE_DEMO_PASSWORD": self.demo_password,
                "HOTLINE_METRICS_TOKEN": self.metrics_token,
                "HOTLINE_AT_USERNAME": "soak",
                "HOTLINE_AT_API_KEY": "soak-key",
                "HOTLINE_AUTO_MIGRATE": "0",  # the one-shot below migrated it
                "HOTLINE_SECRETS_FILE": str(self.folder / "secrets.json"),
                "HOTLINE_LOG_LEVEL": "WARNING",
                "SOAK_AT_BASE": f"http://127.0.0.1:{self.stub.server_address[1]}",
                "PYTHONPATH": os.pathsep.join(
                    filter(None, (str(ROOT), os.environ.get("PYTHONPATH")))
                ),
            }
        )
        if self.telegram:
            env["HOTLINE_TELEGRAM_TOKEN"] = TELEGRAM_TOKEN
            env["HOTLINE_TELEGRAM_WEBHOOK_SECRET"] = self.webhook_secret
            env["HOTLINE_TELEGRAM_API_BASE"] = self.fake_url
        env.update(self.env_extra)
        return env

    # lifecycle
    def start(self) -> None:
        self.stub = StubServer(("127.0.0.1", 0), AtStub)
        threading.Thread(target=self.stub.serve_forever, daemon=True).start()
        self._create_database()
        redis.Redis.from_url(self.redis_url).flushdb()
        env = self.env()
        ports = [free_port() for _ in range(self.apps)]
        hotline = [sys.executable, "-m", "bot.cli"]
        fake = Process(
            "fake-botapi",
            [
                *hotline,
                "telegram",
                "fake-api",
                "--port",
                str(self.fake_port),
                "--webhook",
                f"{self.front_url}/telegram/webhook",
                "--secret",
                self.webhook_secret,
            ],
            self.folder / "fake-botapi.log",
        )
        proxy = self._caddy(ports) if self.caddy else self._front(ports)
        self.others = [fake, proxy] if self.telegram else [proxy]
        self.app_procs = [
            Process(
                f"app{n + 1}",
                [*hotline, "serve", "--port", str(port)],
                self.folder / f"app{n + 1}.log",
                port,
            )
            for n, port in enumerate(ports)
        ]
        self.worker_procs = [
            Process(
                f"worker{n + 1}",
                [sys.executable, "-m", "bench.topology", "--worker"],
                self.folder / f"worker{n + 1}.log",
                metrics_port=free_port(),
            )
            for n in range(self.workers)
        ]
        for process in (*self.others, *self.app_procs, *self.worker_procs):
            process.start({**env, **self.caddy_env} if process.name == "caddy" else env)
        if self.telegram:
            wait_http(f"{self.fake_url}/_calls")
        for app in self.app_procs:
            self.wait_app(app)
        wait_http(f"{self.front_url}/healthz")

    def _front(self, ports: list[int]) -> Process:
        """The small round-robin TCP front of this module."""
        return Process(
            "front",
            [
                sys.executable,
                "-m",
                "bench.front",
                str(self.front_port),
                ",".join(map(str, ports)),
            ],
            self.folder / "front.log",
        )

    def _caddy(self, ports: list[int]) -> Process:
        """``caddy run`` on deploy/Caddyfile: HTTPS on the front port, a self-signed pair."""
        certs = self.folder / "certs"
        self_signed(certs)
        self.caddy_env = {
            "HOTLINE_DOMAIN": "127.0.0.1",
            "HOTLINE_UPSTREAMS": " ".join(f"127.0.0.1:{port}" for port in ports),
            "CADDY_HTTPS_PORT": str(self.front_port),
            "CADDY_HTTP_PORT": str(free_port()),
            "CADDY_ADMIN": "off",
            "CADDY_CERTS_DIR": str(certs),
            "XDG_DATA_HOME": str(self.folder / "caddy-data"),
            "XDG_CONFIG_HOME": str(self.folder / "caddy-config"),
        }
        return Process(
            "caddy",
            [
                "caddy",
                "run",
                "--config",
                str(ROOT / "deploy" / "Caddyfile"),
                "--adapter",
                "caddyfile",
            ],
            self.folder / "caddy.log",
        )

    def wait_app(self, app: Process, timeout: float = 90.0) -> None:
        """Wait until ``app`` answers ``/healthz`` (ok or degraded: it is serving)."""
        wait_http(f"http://127.0.0.1:{app.port}/healthz", timeout, ok=(200, 503))

    def _create_database(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{self.database}"')
        engine = make_engine(self.database_url)
        try:
            upgrade(engine)  # compose's one-shot `hotline db upgrade`
            # The demo team and a rota from yesterday, so that someone is on call now.
            if self.seed:
                demo.seed(
                    engine,
                    self.cipher,
                    password=self.demo_password,
                    today=date.today() - timedelta(days=1),
                )
        finally:
            engine.dispose()

    def stop(self) -> None:
        for process in (*self.app_procs, *self.worker_procs, *self.others):
            process.stop()
        if self.stub is not None:
            self.stub.shutdown()
            self.stub.server_close()
        with contextlib.suppress(redis.RedisError):
            redis.Redis.from_url(self.redis_url).flushdb()
        if self.private_redis is not None:
            self.private_redis.kill()
        if self.private_postgres is not None:
            self.private_postgres.remove()
        with (
            contextlib.suppress(psycopg.Error),
            psycopg.connect(self.admin_url, autocommit=True) as admin,
        ):
            admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')

    @contextlib.contextmanager
    def running(self) -> Iterator[Topology]:
        """Up and healthy inside, down and dropped after, whatever happens."""
        with contextlib.ExitStack() as stack:
            if self.private_redis is None:  # the machine's Redis db REDIS_DB: one at a time
                handle = stack.enter_context(LOCK.open("a"))
                fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                self.start()
                yield self
            finally:
                self.stop()


# --- command line ---------------------------------------------------------------------------


def ussd_once(topology: Topology) -> str:
    """One USSD request through the front: the first screen."""
    answer = httpx.post(
        f"{topology.front_url}/ussd/africastalking/{topology.callback_token}",
        data={
            "sessionId": f"topology-{secrets.token_hex(6)}",
            "serviceCode": "*384*12#",
            "phoneNumber": "+243000000001",  # an unassigned test number
            "networkCode": "63001",
            "text": "",
        },
        timeout=10,
        trust_env=False,
        verify=False,  # noqa: S501 - the Caddy front's self-signed certificate
    )
    answer.raise_for_status()
    return answer.text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--check", action="store_true", help="serve one USSD request and stop")
    parser.add_argument("--caddy", action="store_true", help="deploy/Caddyfile as the front")
    parser.add_argument("--private-redis", action="store_true", help="a redis-server of its own")
    args = parser.parse_args(argv)
    topology = Topology(args.apps, args.workers, caddy=args.caddy)
    if args.private_redis:
        topology.use_private_redis()
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
    with topology.running():
        print(
            f"topology: {args.apps} apps {[p.port for p in topology.app_procs]}, "
            f"{args.workers} workers; front {topology.front_url}; PostgreSQL "
            f"{topology.database}; Redis {topology.redis_url}; logs {topology.folder}"
        )
        screen = ussd_once(topology)
        print(f"USSD through the front: {screen.splitlines()[0]!r}")
        if args.check:
            return 0
        print(f"callback token {topology.callback_token}; Ctrl-C stops and drops it all")
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(1)
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker_main()
    else:
        sys.exit(main())
