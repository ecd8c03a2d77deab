"""The machine's shared PostgreSQL and Redis, taken down and brought back by ``bench.soak``.

Other runs use them too: callers hold ``/tmp/hotline-suite.lock`` meanwhile."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import redis

ADMIN_URL = os.environ.get("SOAK_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_PORT = 6379
REDIS_START = [
    "redis-server",
    "--daemonize",
    "yes",
    "--bind",
    "127.0.0.1",
    "-::1",
    "--port",
    "6379",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    "/var/lib/redis",
    "--logfile",
    "/var/log/redis/ci.log",
]
"""The machine's Redis, started exactly as the developers' guide (and ``.ci/run``) does."""


def restart_redis(down_for: float) -> float:
    """Shut the machine's Redis down (no save) and start it again as the guide does; returns
    the seconds it did not answer."""
    client = redis.Redis(host="127.0.0.1", port=REDIS_PORT, socket_connect_timeout=0.5)
    began = time.monotonic()
    with contextlib.suppress(redis.ConnectionError):
        client.shutdown(nosave=True)
    time.sleep(down_for)
    Path("/var/lib/redis").mkdir(parents=True, exist_ok=True)
    Path("/var/log/redis").mkdir(parents=True, exist_ok=True)
    subprocess.run(REDIS_START, check=True)  # noqa: S603 - the guide's fixed command
    while True:
        with contextlib.suppress(redis.ConnectionError):
            if client.ping():
                return time.monotonic() - began
        time.sleep(0.05)


def postgres(action: str) -> None:
    """``pg_ctlcluster`` stop (fast) or start of the machine's one cluster."""
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action]
    if action == "stop":
        command += ["-m", "fast"]
    subprocess.run(command, check=True, capture_output=True)  # noqa: S603


def wait_postgres(timeout: float = 60.0, url: str = ADMIN_URL) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(psycopg.Error), psycopg.connect(url, connect_timeout=1):
            return
        time.sleep(0.2)
    raise TimeoutError("PostgreSQL did not come back")


class PrivatePostgres:
    """A PostgreSQL cluster of the soak's own (initdb in a temporary folder, a free port), to
    stop and start without touching the machine's: run as the ``postgres`` user."""

    def __init__(self, port: int) -> None:
        version = sorted(os.listdir("/usr/lib/postgresql"))[-1]
        self.bin = Path("/usr/lib/postgresql") / version / "bin"
        self.port = port
        self.folder = Path(tempfile.mkdtemp(prefix="soak-pg-"))
        shutil.chown(self.folder, "postgres", "postgres")
        self.data = self.folder / "data"

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *argv: str) -> None:
        subprocess.run(  # noqa: S603 - fixed binaries of the PostgreSQL package
            ["/usr/sbin/runuser", "-u", "postgres", "--", *argv], check=True, capture_output=True
        )

    def init(self) -> None:
        self._as_postgres(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust")
        self.start()

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.folder / "postgres.log")
        self._as_postgres(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", log, "-w", "start"
        )

    def stop(self) -> None:
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
