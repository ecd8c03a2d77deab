"""Load-test USSD over loopback: the hotline against a bare FastAPI + Redis baseline.

Run ``python -m bench.ussd_load [--rate 200] [--duration 20]``. It starts both servers (one
uvicorn worker each, Redis db 13), drives scripted Africa's Talking sessions at a fixed offered
rate, then saturates both, then measures Redis memory per active session; see bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import platform
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from array import array
from collections import Counter
from collections.abc import Coroutine, Iterator, Sequence
from dataclasses import dataclass, field, replace
from importlib.metadata import version as package_version
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast
from urllib.parse import urlencode

import httpx
import redis
from sqlalchemy import text as sql_text

from bot.core.db import make_engine, normalise_url
from bot.core.privacy import new_key

ROOT = Path(__file__).resolve().parent.parent
DB = 13
REDIS_URL = f"redis://127.0.0.1:6379/{DB}"
HOST = "127.0.0.1"
SERVICE_CODE = "*384*12#"
NETWORK_CODE = "63001"
AIM_RATE = 200.0
AIM_P99_MS = 50.0
AIM_RATIO = 0.70
AIM_SESSION_BYTES = 1024
SATURATED = 0.8  # a server using less of a core than this in the closed loop was not the limit
KEEP_ALIVE = 4.0  # reuse a connection idle for less than this (uvicorn closes after 5 s)

PATHS: tuple[tuple[str, ...], ...] = (
    ("", "1", "7", "2", "2"),  # English, an invalid choice, check my situation, not safe (END)
    ("", "2", "6", "3", "4", "0"),  # French, change language, Lingala, get help, exit
    ("", "3", "7", "00", "1", "3", "1", "0"),  # Lingala, invalid, back, English, signs, exit
    ("", "2", "6", "3", "7", "00", "4", "0"),  # ..., back to languages, Sesotho, exit
    ("", "4", "7", "0"),  # Sesotho, invalid, exit
    ("", "1", "6", "4", "2", "3"),  # English, change language, Sesotho, check: skip (END)
    ("", "1", "00", "2", "7", "5", "0"),  # English, back, French, invalid, follow a report, exit
    ("", "3", "6", "1", "7", "3", "2", "0"),  # change language, invalid, learn the signs, exit
)
"""Scripted sessions, every input in order; the first is empty and the last ends on END. They
walk the shipped flows (main, screening, signs, help, follow) and write no case: what is timed
is the session path, not the database."""

TIP_PATHS: tuple[tuple[str, ...], ...] = (
    # English: forced work, DR Congo, Bas-Uele, one person, no children, no danger, no
    # description, no contact; Send (P3)
    ("", "1", "1", "1", "1", "1", "1", "2", "2", "2", "2", "1"),
    # French: sexual exploitation, Lesotho, a district, 2 to 5, children (P2), a description
    (
        "",
        "2",
        "1",
        "2",
        "3",
        "1",
        "2",
        "1",
        "2",
        "1",
        "Un homme garde des filles dans un bar",
        "2",
        "1",
    ),
    # Lingala: child labour, DR Congo, a province, back (00), another, 6 to 20, children, no
    # danger, no description, contact yes, any time, by SMS (the number is kept, encrypted)
    ("", "3", "1", "3", "1", "7", "00", "2", "3", "1", "2", "2", "1", "4", "2", "1"),
    # Sesotho: forced house work, Guinea, region, prefecture, not sure, skip, someone in danger
    # now (P1: an on-call alert is looked for), skip, skip
    ("", "4", "1", "5", "2", "1", "1", "5", "3", "1", "3", "3", "1"),
    # English: something else, other country, more than 20, contact yes, morning, SMS
    ("", "1", "1", "7", "4", "4", "2", "2", "2", "1", "1", "2", "1"),
    # French: forced marriage, DR Congo, Equateur, one person, skip, someone in danger (P1)
    ("", "2", "1", "4", "1", "2", "1", "3", "1", "2", "2", "1"),
)
"""Tip sessions (``--tips``): each walks the tip flow to Send, which creates a case (the last
hop's END shows its reference); with ``--no-save`` the last input is Cancel instead (nothing
written), the same path otherwise."""
REFERENCE = re.compile(r"\b(?!K7QM-46\b)[0-9A-Z]{4}-[0-9]{2}\b")
"""A case reference on a screen; not K7QM-46, the example the follow-a-report screens show."""
MAX_HOPS = max(len(path) for path in (*PATHS, *TIP_PATHS))
HOP_LABELS = (*(str(n) for n in range(1, MAX_HOPS + 1)), "end", "last")
END_SLOT = MAX_HOPS  # index of the session-end callback in per-hop tables
LAST_SLOT = MAX_HOPS + 1  # a path's last hop, when the target records it apart (--tips: Send)

T = TypeVar("T")


def texts(path: Sequence[str]) -> list[str]:
    """Africa's Talking's cumulative ``text`` of each request: ``""``, ``"2"``, ``"2*6"``, ..."""
    return ["*".join(path[1 : k + 1]) for k in range(len(path))]


def percentile(ordered: Sequence[int], p: float) -> float:
    """Nearest-rank percentile of sorted nanoseconds, in milliseconds."""
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1] / 1e6


def verdict(ok: bool) -> str:
    """How an aim reads in the report."""
    return "met" if ok else "NOT MET"


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Target:
    """A running server and where its USSD callbacks are."""

    name: str
    port: int
    hop_path: str
    end_path: str | None
    pid: int
    checks_flow: bool  # the hotline must answer END exactly on a path's last input
    last_apart: bool = False  # record a path's last hop in LAST_SLOT (--tips: the Send hop)
    references: bool = False  # the last hop's END must show a case reference (--tips)


@dataclass
class Server:
    """A uvicorn subprocess with its log file."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def stop(self) -> None:
        """Terminate (then kill) the process if it still runs."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


SERVER_OPTIONS: list[str] = []  # --loop / --http given on the command line, for both servers
HOTLINE_OPTIONS: list[str] = []  # --processes: uvicorn's --workers, for the hotline only


def start_server(name: str, app: str, env: dict[str, str], logdir: Path) -> Server:
    """Start ``uvicorn app --factory`` (one worker, no access log) on a free loopback port."""
    port = free_port()
    log = logdir / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [
                sys.executable,
                "-m",
                "uvicorn",
                app,
                "--factory",
                "--host",
                HOST,
                "--port",
                str(port),
                "--no-access-log",
                "--log-level",
                "warning",
                *SERVER_OPTIONS,
                *(HOTLINE_OPTIONS if name == "hotline" else ()),
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Server(name, process, port, log)


def wait_healthy(server: Server, timeout: float = 60.0) -> None:
    """Poll ``/healthz`` until 200; raise with the server's log if it dies or never answers."""
    deadline = time.monotonic() + timeout
    url = f"http://{HOST}:{server.port}/healthz"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            break
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2, trust_env=False).status_code == 200:
                return
        time.sleep(0.1)
    tail = server.log.read_text(errors="replace")[-3000:]
    raise SystemExit(f"{server.name} did not become healthy on {url}:\n{tail}")


def _stat(pid: int | str) -> list[str]:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its children running now (uvicorn's
    ``--workers``) from /proc (Linux); 0 if unknown."""
    fields = _stat(pid)
    if not fields:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    for stat in Path("/proc").glob("[0-9]*/stat"):
        child = _stat(stat.parent.name)
        if child and child[1] == str(pid):
            ticks += int(child[11]) + int(child[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def self_cpu_seconds() -> float:
    """User + system CPU seconds of this load generator (resource.getrusage)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def redis_info(admin: redis.Redis, section: str) -> dict[str, Any]:
    """One section of INFO (the sync client is typed as maybe-awaitable)."""
    return cast(dict[str, Any], admin.info(section))


def redis_cpu_seconds(admin: redis.Redis) -> float:
    """User + system CPU seconds of the Redis server (INFO cpu, whole server)."""
    info = redis_info(admin, "cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def postgres_cpu_seconds() -> float:
    """User + system CPU seconds of the ``postgres`` processes running now (a backend that
    exited takes its share along: a lower bound)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, _, rest = stat.read_text().rpartition(")")
        except OSError:
            continue
        if head.endswith("(postgres"):
            fields = rest.split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds all CPUs spent busy (not idle or iowait) since boot, from /proc/stat."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            ticks = [int(x) for x in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0
    return (sum(ticks[:8]) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


Cpu = dict[str, float]
"""CPU seconds by who used them: generator, redis, each server, and the whole machine (busy)."""


@dataclass
class CpuMeter:
    """Who used the CPU during a phase: this generator, the servers, Redis, everything else."""

    admin: redis.Redis | None  # None: no Redis in this run
    pids: dict[str, int]
    postgres: bool = False  # also count the PostgreSQL server's processes

    def now(self) -> Cpu:
        """CPU seconds used so far by each part, and by the whole machine."""
        now = {name: proc_cpu_seconds(pid) for name, pid in self.pids.items()}
        if self.admin is not None:
            now["redis"] = redis_cpu_seconds(self.admin)
        if self.postgres:
            now["postgres"] = postgres_cpu_seconds()
        now["generator"] = self_cpu_seconds()
        now["busy"] = machine_busy_seconds()
        return now


def add_cpu(total: Cpu, before: Cpu, after: Cpu) -> None:
    """Add the CPU used between two readings to a running total."""
    for name, value in after.items():
        total[name] = total.get(name, 0.0) + value - before[name]


def cpu_line(used: Cpu, wall: float, requests: int, server: str) -> str:
    """``CPU, % of one core: hotline 88% (3.52 ms per request), ...``; the rest is "others"."""
    ours = sum(v for k, v in used.items() if k != "busy")
    parts = []
    for name, value in used.items():
        if name == "busy" or (value < 0.005 * wall and name not in (server, "generator")):
            continue
        share = f"{name} {value / wall:.0%}"
        if name in (server, "generator", "redis", "postgres") and requests:
            share += f" ({value / requests * 1e3:.2f} ms per request)"
        parts.append(share)
    parts.append(f"other processes and kernel {max(0.0, used['busy'] - ours) / wall:.0%}")
    return "CPU, % of one core: " + ", ".join(parts)


@dataclass
class Recorder:
    """Every timed request: hop slot, latency from send, lag of the send behind its schedule."""

    slot: bytearray = field(default_factory=bytearray)
    latency: array[int] = field(default_factory=lambda: array("q"))
    lag: array[int] = field(default_factory=lambda: array("q"))
    errors: Counter[str] = field(default_factory=Counter)
    references: list[str] = field(default_factory=list)  # shown on a last hop (--tips)
    neutral: int = 0  # last hops answered END without a reference: the case was not saved
    first_send: float = math.inf
    last_done: float = 0.0
    sessions_done: int = 0

    def add(self, slot: int, sent: float, done: float, lag: float) -> None:
        """Keep one answered request (times from loop.time(), seconds)."""
        self.slot.append(slot)
        self.latency.append(round((done - sent) * 1e9))
        self.lag.append(round(max(0.0, lag) * 1e9))
        self.first_send = min(self.first_send, sent)
        self.last_done = max(self.last_done, done)

    def of_slot(self, slot: int) -> list[int]:
        """Sorted latencies (ns) of one hop slot."""
        return sorted(t for t, s in zip(self.latency, self.slot, strict=True) if s == slot)


@dataclass
class Session:
    """One simulated person: an Africa's Talking session id, a fake number, a scripted path."""

    sid: str
    phone: str
    path: tuple[str, ...]
    times: list[float] = field(default_factory=list)  # offsets of hops, then of the end call

    @property
    def requests(self) -> int:
        """Hops plus the session-end callback."""
        return len(self.path) + 1


class Sessions:
    """Makes sessions from a seeded RNG: ids and +243000… numbers never repeat within a run."""

    def __init__(self, seed: int, paths: Sequence[tuple[str, ...]] = PATHS) -> None:
        self.rng = random.Random(seed)
        self.count = 0
        self.paths = tuple(paths)

    def new(self, tag: str, path: tuple[str, ...] | None = None) -> Session:
        """A fresh session; the path is drawn from ``paths`` unless given."""
        self.count += 1
        n = self.count
        sid = f"ATUid_{tag}{n:06d}{self.rng.getrandbits(32):08x}"
        phone = f"+243000{n % 1_000_000:06d}"  # +243 000… is unassigned: never a real person
        return Session(sid, phone, path or self.rng.choice(self.paths))


def hop_form(session: Session, text: str) -> dict[str, str]:
    """The form Africa's Talking posts for one USSD request."""
    return {
        "sessionId": session.sid,
        "serviceCode": SERVICE_CODE,
        "phoneNumber": session.phone,
        "networkCode": NETWORK_CODE,
        "text": text,
    }


def end_form(session: Session, last_input: str, last_response: str, millis: int) -> dict[str, str]:
    """The form of Africa's Talking's session-end notification (status Success)."""
    return {
        "sessionId": session.sid,
        "serviceCode": SERVICE_CODE,
        "phoneNumber": session.phone,
        "networkCode": NETWORK_CODE,
        "status": "Success",
        "cost": "USD 0.0000",
        "durationInMillis": str(millis),
        "hopsCount": str(len(session.path)),
        "input": last_input,
        "lastAppResponse": last_response,
        "errorMessage": "",
    }


class Connection(Protocol):
    """One keep-alive HTTP/1.1 connection to a server."""

    async def post(self, path: str, form: dict[str, str]) -> tuple[int, str]:
        """POST a urlencoded form; (status, body)."""
        ...

    async def close(self) -> None:
        """Close the connection."""
        ...


class RawConnection:
    """A minimal HTTP/1.1 client on asyncio streams: ~20x less CPU per request than httpx here."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.used = 0.0

    async def post(self, path: str, form: dict[str, str]) -> tuple[int, str]:
        """POST a urlencoded form; (status, body). Reads Content-Length or chunked bodies."""
        now = time.monotonic()
        if self.reader is not None and (self.reader.at_eof() or now - self.used > KEEP_ALIVE):
            await self.close()  # the server closes idle connections after 5 s (uvicorn)
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.used = now
        reader, writer = self.reader, self.writer
        body = urlencode(form).encode()
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip().lower()
        if "content-length" in headers:
            data = await reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding") == "chunked":
            data = b""
            while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
                data += (await reader.readexactly(size + 2))[:-2]
            await reader.readuntil(b"\r\n")
        else:
            data = await reader.read()
            headers["connection"] = "close"
        if headers.get("connection") == "close":
            await self.close()
        return status, data.decode()

    async def close(self) -> None:
        """Close the socket (reopened by the next post)."""
        writer, self.reader, self.writer = self.writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


class HttpxConnection:
    """The same through httpx (one connection per client: its pool is O(n) per request)."""

    def __init__(self, base: str) -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        self.client = httpx.AsyncClient(base_url=base, limits=limits, timeout=30.0, trust_env=False)

    async def post(self, path: str, form: dict[str, str]) -> tuple[int, str]:
        """POST a urlencoded form; (status, body)."""
        response = await self.client.post(path, data=form)
        return response.status_code, response.text

    async def close(self) -> None:
        """Close the client."""
        await self.client.aclose()


class Pool:
    """Up to ``size`` connections to one server, opened on demand and reused (keep-alive)."""

    def __init__(self, target: Target, size: int, kind: str) -> None:
        self.target, self.kind = target, kind
        self.slots = asyncio.Semaphore(size)
        self.idle: list[Connection] = []
        self.all: list[Connection] = []

    def _new(self) -> Connection:
        """Open (lazily) one more connection of the configured kind."""
        conn: Connection
        if self.kind == "httpx":
            conn = HttpxConnection(f"http://{HOST}:{self.target.port}")
        else:
            conn = RawConnection(HOST, self.target.port)
        self.all.append(conn)
        return conn

    async def post(self, path: str, form: dict[str, str]) -> tuple[int, str]:
        """POST on an idle connection; a connection that failed is closed, not reused."""
        async with self.slots:
            conn = self.idle.pop() if self.idle else self._new()
            try:
                answer = await conn.post(path, form)
            except BaseException:
                await conn.close()  # dropped; a new one is opened when needed
                raise
            self.idle.append(conn)
            return answer

    async def __aenter__(self) -> Pool:
        return self

    async def __aexit__(self, *exc: object) -> None:
        for conn in self.all:
            await conn.close()


CLIENT_ERRORS = (OSError, ValueError, asyncio.IncompleteReadError, httpx.HTTPError)


async def post(
    client: Pool,
    target: Target,
    session: Session,
    hop: int,
    rec: Recorder | None,
    due: float,
    body: dict[str, str],
) -> str | None:
    """Post one request of a session; record it; return the body, or None on any error."""
    loop = asyncio.get_running_loop()
    is_end = hop == len(session.path)
    url = target.end_path if is_end else target.hop_path
    assert url is not None
    sent = loop.time()
    try:
        status, text = await client.post(url, body)
    except CLIENT_ERRORS as exc:
        if rec is not None:
            rec.errors[type(exc).__name__] += 1
        return None
    done = loop.time()
    problem = None
    if status != 200:
        problem = f"HTTP {status}"
    elif is_end:
        problem = None if '"ok"' in text else "end callback body"
    elif not text.startswith(("CON ", "END ")):
        problem = "body not CON/END"
    elif target.checks_flow and text.startswith("END ") != (hop == len(session.path) - 1):
        problem = "END on a middle hop" if text.startswith("END ") else "CON on the last hop"
    last = hop == len(session.path) - 1
    if rec is not None:
        if problem:
            rec.errors[problem] += 1
        elif last and target.references:
            found = REFERENCE.search(text)
            if found:
                rec.references.append(found.group())
            else:
                rec.neutral += 1
        slot = END_SLOT if is_end else LAST_SLOT if last and target.last_apart else hop
        rec.add(slot, sent, done, sent - due)
    return None if problem else text


async def run_session(
    client: Pool,
    target: Target,
    session: Session,
    rec: Recorder | None,
    t0: float | None = None,
    with_end: bool = True,
    record_from: float = 0.0,
) -> bool:
    """Post a session's hops in order, each when due, then its end callback; True if no error.

    On a schedule (``t0``), only the requests due ``record_from`` seconds or more after ``t0``
    are recorded (the rest are warm-up)."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    body = ""
    steps = texts(session.path)
    limit = len(session.times) if t0 is not None else session.requests
    for hop in range(min(limit, session.requests)):
        due = loop.time()
        if t0 is not None:
            due = t0 + session.times[hop]
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
        if hop < len(session.path):
            form = hop_form(session, steps[hop])
        elif with_end and target.end_path is not None:
            millis = round((loop.time() - began) * 1000)
            form = end_form(session, session.path[-1], body[4:], millis)
        else:
            break
        timed = rec if t0 is None or session.times[hop] >= record_from else None
        answer = await post(client, target, session, hop, timed, due, form)
        if answer is None:
            return False
        body = answer
    done = limit >= session.requests
    if done and rec is not None:
        rec.sessions_done += 1
    return done


def plan(
    sessions: Sessions, tag: str, rate: float, duration: float, lanes: int, stagger: int = 0
) -> list[Session]:
    """Open-loop schedule: request i is due at i/rate, dealt round-robin to ``lanes`` sessions.

    ``stagger``: each lane first stays idle for a random 0 to ``stagger`` - 1 of its turns, so
    that sessions do not all reach the same hop together (the offered rate ramps up meanwhile).
    """
    current: list[Session | None] = [None] * lanes
    idle = [sessions.rng.randrange(stagger) if stagger > 1 else 0 for _ in range(lanes)]
    out: list[Session] = []
    for i in range(int(rate * duration)):
        lane = i % lanes
        if idle[lane]:
            idle[lane] -= 1
            continue
        session = current[lane]
        if session is None or len(session.times) == session.requests:
            session = current[lane] = sessions.new(tag)
            out.append(session)
        session.times.append(i / rate)
    return out


CLIENT_KIND = ["raw"]  # set from --client
CLIENT_NAMES = {
    "raw": "a minimal asyncio HTTP/1.1 keep-alive client",
    "httpx": f"httpx {package_version('httpx')}, one client per connection",
}


def client_for(target: Target, connections: int) -> Pool:
    """Keep-alive connections to a target, enough for the phase."""
    return Pool(target, connections, CLIENT_KIND[0])


async def open_loop(
    target: Target,
    plan_: list[Session],
    connections: int,
    rec: Recorder | None,
    record_from: float = 0.0,
) -> float:
    """Run a schedule; return the wall seconds from the first due time to the last answer.
    Requests due before ``record_from`` (seconds into the schedule) are not recorded."""
    async with client_for(target, connections) as client:
        loop = asyncio.get_running_loop()
        t0 = loop.time() + 0.2
        await asyncio.gather(
            *(run_session(client, target, s, rec, t0, record_from=record_from) for s in plan_)
        )
        return loop.time() - t0


async def closed_loop(
    target: Target, sessions: Sessions, tag: str, workers: int, seconds: float, rec: Recorder
) -> float:
    """``workers`` sessions at a time, back to back, hops only (no end call), for ``seconds``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds

    async def worker(client: Pool) -> None:
        """One simulated person after another until the deadline."""
        while loop.time() < deadline:
            await run_session(client, target, sessions.new(tag), rec, with_end=False)

    async with client_for(target, workers) as client:
        start = loop.time()
        await asyncio.gather(*(worker(client) for _ in range(workers)))
        return loop.time() - start


async def verify_paths(target: Target, sessions: Sessions) -> list[str]:
    """Walk every scripted path once; return problems (a CON/END in the wrong place)."""
    problems = []
    async with client_for(target, 4) as client:
        for path in sessions.paths:
            rec = Recorder()
            ok = await run_session(client, target, sessions.new("v", path), rec)
            if not ok or rec.errors or rec.neutral:
                problems.append(f"{'*'.join(path[1:])}: {dict(rec.errors) or 'failed'}")
    return problems


@dataclass
class Report:
    """The plain-text report, printed as the phases finish."""

    lines: list[str] = field(default_factory=list)

    def __call__(self, text: str = "") -> None:
        """Print one line now and keep it."""
        print(text, flush=True)
        self.lines.append(text)


def generator_loop(args: argparse.Namespace) -> str:
    """The load generator's event loop: uvloop when installed, unless asked otherwise."""
    if args.generator_loop == "auto":
        return "uvloop" if find_spec("uvloop") else "asyncio"
    return str(args.generator_loop)


def generate(args: argparse.Namespace, work: Coroutine[Any, Any, T]) -> T:
    """Run the load generator's coroutine on its event loop."""
    if generator_loop(args) == "uvloop":
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(work)
    return asyncio.run(work)


def load_line() -> str:
    """The 1, 5 and 15 minute load averages."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def header(say: Report, args: argparse.Namespace, admin: redis.Redis) -> None:
    """The machine, the servers and the workload."""
    server = redis_info(admin, "server")
    auto_loop = "uvloop" if find_spec("uvloop") else "asyncio"
    auto_http = "httptools" if find_spec("httptools") else "h11"
    loop_impl = auto_loop if args.loop == "auto" else args.loop
    http_impl = auto_http if args.http == "auto" else args.http
    say("USSD load benchmark: Africa's Talking sessions over loopback, hotline vs bare baseline")
    say(
        f"machine:  {platform.python_implementation()} {platform.python_version()}, "
        f"{platform.platform()}, {os.cpu_count()} CPUs, load average {load_line()} at start"
    )
    versions = ", ".join(
        f"{p} {package_version(p)}"
        for p in ("fastapi", "starlette", "uvicorn", "httpx", "redis", "hiredis")
        if find_spec(p)
    )
    say(
        f"servers:  hotline {args.hotline_app} and baseline bench.baseline_app:create_app, one "
        f"uvicorn worker each ({loop_impl} loop, {http_impl}), no access log; Redis "
        f"{server['redis_version']} db {DB} on {HOST}:6379; {versions}"
    )
    say(
        f"note:     the load generator (one process, {CLIENT_NAMES[args.client]}, "
        f"{generator_loop(args)} loop), both servers "
        f"and Redis share these {os.cpu_count()} cores, so each phase prints who used the CPU"
    )
    mean_hops = sum(len(p) for p in PATHS) / len(PATHS)
    say(
        f"sessions: {len(PATHS)} scripted paths of {min(map(len, PATHS))}-"
        f"{max(map(len, PATHS))} hops (mean {mean_hops:.2f}) mixing language choice, change "
        f"language (6), invalid (7) and back (00), all ending on END, then the end callback; "
        f"picked with seed {args.seed}; numbers +243000…"
    )
    say()


def latency_block(say: Report, rec: Recorder, wall: float, offered: float | None) -> float:
    """Per-hop and overall latency; returns the overall p99 (ms)."""
    say(f"  {'hop':>5} {'count':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for slot, label in enumerate(HOP_LABELS):
        own = rec.of_slot(slot)
        if own:
            say(
                f"  {label:>5} {len(own):7,} {percentile(own, 50):8.1f} "
                f"{percentile(own, 99):8.1f} {own[-1] / 1e6:8.1f}"
            )
    ordered = sorted(rec.latency)
    achieved = len(ordered) / wall if wall > 0 else 0.0
    rate = f"offered {offered:,.1f} req/s, " if offered is not None else ""
    say(
        f"  {'all':>5} {len(ordered):7,} {percentile(ordered, 50):8.1f} "
        f"{percentile(ordered, 99):8.1f} {ordered[-1] / 1e6 if ordered else math.nan:8.1f}"
        f"   p90 {percentile(ordered, 90):.1f} ms; {rate}achieved {achieved:,.1f} req/s"
    )
    return percentile(ordered, 99)


def errors_line(rec: Recorder) -> str:
    """Error counts by kind, or 0."""
    total = sum(rec.errors.values())
    kinds = ", ".join(f"{k} {n:,}" for k, n in rec.errors.most_common())
    return f"{total}" + (f" ({kinds})" if kinds else "") + " (must be 0)"


@dataclass(frozen=True)
class Memory:
    """Redis memory for K active sessions (bytes per session unless named otherwise)."""

    per_session: float  # MEMORY USAGE + this db's hash table overhead: what the aim is judged on
    mean_key: float  # MEMORY USAGE: key, value and entry, jemalloc size classes
    tables: float  # db 13's main and expires hash tables (MEMORY STATS), per session
    used_memory: float  # INFO used_memory delta, whole server
    value_bytes: int  # the stored value of a sample session (sealed JSON)
    clear: int  # session and note values not sealed with the app's keys (must be 0)
    keys: int  # session keys found
    others: int  # other keys in db 13 (e.g. locks left behind: must be 0)
    notes: int  # remembered languages (one per caller who chose one; kept for days)
    per_note: float  # MEMORY USAGE of a note key + its share of the hash tables


def table_overhead(admin: redis.Redis) -> int:
    """Bytes of db 13's main and expires hash tables (MEMORY STATS)."""
    stats = cast(dict[str, Any], admin.memory_stats())
    db = stats.get(f"db.{DB}") or {}
    return int(db.get("overhead.hashtable.main", 0)) + int(db.get("overhead.hashtable.expires", 0))


def used_memory(admin: redis.Redis) -> int:
    """INFO memory used_memory of the whole server."""
    return int(redis_info(admin, "memory")["used_memory"])


async def memory_phase(
    target: Target, sessions: Sessions, count: int, admin: redis.Redis
) -> Memory:
    """Start ``count`` sessions to their second screen, without ending them, and weigh Redis."""
    admin.flushdb()
    rng = random.Random(count)
    made = [sessions.new("m", ("", rng.choice("1234"), "4")) for _ in range(count)]
    queue = iter(made)

    async def worker(client: Pool) -> None:
        """Take sessions from the shared queue to their second screen."""
        for session in queue:
            for hop, text in enumerate(texts(session.path)[:2]):  # the first two hops only
                if not await post(client, target, session, hop, None, 0.0, hop_form(session, text)):
                    raise SystemExit(f"memory phase: hop {hop + 1} of {session.sid} failed")

    async with client_for(target, 32) as client:
        await client.post(target.hop_path, hop_form(sessions.new("m"), ""))  # a connection up
        admin.flushdb()
        before, tables_before = used_memory(admin), table_overhead(admin)
        await asyncio.gather(*(worker(client) for _ in range(32)))
        after, tables_after = used_memory(admin), table_overhead(admin)
    keys = list(admin.scan_iter(match="hotline:session:*", count=1000))
    notes = list(admin.scan_iter(match="hotline:note:*", count=1000))
    sizes = [int(cast(int | None, admin.memory_usage(k, samples=0)) or 0) for k in keys]
    note_sizes = [int(cast(int | None, admin.memory_usage(k, samples=0)) or 0) for k in notes]
    value = cast(bytes | None, admin.get(keys[0])) if keys else None
    everything = [*keys, *notes]
    stored: list[bytes | None] = []
    for i in range(0, len(everything), 500):
        stored += cast(list[bytes | None], admin.mget(everything[i : i + 500]))
    clear = sum(1 for v in stored if v is not None and not v.startswith(b"v1."))
    mean_key = sum(sizes) / len(sizes) if sizes else 0.0
    tables = (tables_after - tables_before) / max(1, len(keys) + len(notes))  # per key
    return Memory(
        per_session=mean_key + tables,
        mean_key=mean_key,
        tables=tables,
        used_memory=(after - before) / count,
        value_bytes=len(value or b""),
        clear=clear,
        keys=len(keys),
        others=int(cast(int, admin.dbsize())) - len(keys) - len(notes),
        notes=len(notes),
        per_note=(sum(note_sizes) / len(note_sizes) + tables) if note_sizes else 0.0,
    )


@dataclass
class Results:
    """What the summary needs."""

    p99: float = math.nan
    offered: float = 0.0
    achieved: float = 0.0
    errors: int = 0
    hotline_rps: float = 0.0
    baseline_rps: float = 0.0
    memory: Memory | None = None
    unsaturated: list[str] = field(default_factory=list)


async def run_all(
    say: Report, args: argparse.Namespace, hotline: Target, baseline: Target, admin: redis.Redis
) -> Results:
    """The phases in order: verify, warm up, offered rate, saturation, memory."""
    results = Results()
    sessions = Sessions(args.seed)
    cpu = CpuMeter(admin, {"hotline": hotline.pid, "baseline": baseline.pid})
    problems = await verify_paths(hotline, sessions) + await verify_paths(baseline, sessions)
    if problems:
        raise SystemExit("scripted paths do not behave as expected:\n" + "\n".join(problems))
    lanes = max(1, round(args.rate * args.think))
    if args.warmup > 0:
        await open_loop(hotline, plan(sessions, "w", args.rate, args.warmup, lanes), lanes, None)
    admin.flushdb()

    schedule = plan(sessions, "o", args.rate, args.duration, lanes)
    offered = sum(len(s.times) for s in schedule) / args.duration
    say(
        f"Offered rate: {offered:,.1f} req/s for {args.duration:g} s after {args.warmup:g} s "
        f"warm-up, open loop: request i is due at i/rate, dealt to {lanes} interleaved sessions "
        f"(a session's hops are {args.think:g} s apart and wait for the previous answer)"
    )
    rec = Recorder()
    before = cpu.now()
    wall = await open_loop(hotline, schedule, lanes + 16, rec)
    used: Cpu = {}
    add_cpu(used, before, cpu.now())
    results.p99 = latency_block(say, rec, wall, offered)
    results.offered, results.achieved = offered, len(rec.latency) / wall
    lag = sorted(rec.lag)
    behind = sorted(a + b for a, b in zip(rec.latency, rec.lag, strict=True))
    say(
        f"  sent behind schedule: p50 {percentile(lag, 50):.1f} ms, p99 {percentile(lag, 99):.1f}"
        f" ms, max {lag[-1] / 1e6 if lag else math.nan:.1f} ms; latency from the due time "
        f"(no coordinated omission): p99 {percentile(behind, 99):.1f} ms"
    )
    say(
        f"  sessions: {len(schedule):,} started, {rec.sessions_done:,} through the end callback "
        "(the rest were cut by the end of the run)"
    )
    say(f"  errors: {errors_line(rec)}")
    say(f"  {cpu_line(used, wall, len(rec.latency), 'hotline')}")
    results.errors += sum(rec.errors.values())
    say()

    rounds = max(1, args.rounds)
    slice_s = args.saturate_seconds / rounds
    say(
        f"Saturation: closed loop, {args.workers} sessions at a time back to back (hops only, "
        f"no think time, no end callback; same paths for both), {args.saturate_seconds:g} s per "
        f"server in {rounds} alternating rounds of {slice_s:g} s, after 1 s warm-up each"
    )
    recs = {t.name: Recorder() for t in (hotline, baseline)}
    walls = dict.fromkeys(recs, 0.0)
    cpus: dict[str, Cpu] = {name: {} for name in recs}
    for target in (hotline, baseline):
        await closed_loop(target, sessions, "s", args.workers, 1.0, Recorder())
    for _ in range(rounds):
        for target in (hotline, baseline):
            before = cpu.now()
            walls[target.name] += await closed_loop(
                target, sessions, "s", args.workers, slice_s, recs[target.name]
            )
            add_cpu(cpus[target.name], before, cpu.now())
    per_request = {}
    for target in (hotline, baseline):
        rec, wall = recs[target.name], walls[target.name]
        rps = len(rec.latency) / wall
        ordered = sorted(rec.latency)
        say(
            f"  {target.name:<8} {rps:8,.1f} req/s   p50 {percentile(ordered, 50):6.1f} ms   "
            f"p99 {percentile(ordered, 99):6.1f} ms   errors {errors_line(rec)}"
        )
        say(f"  {'':<8} {cpu_line(cpus[target.name], wall, len(ordered), target.name)}")
        per_request[target.name] = cpus[target.name][target.name] / max(1, len(ordered))
        busy = cpus[target.name][target.name] / wall
        if busy < SATURATED:
            results.unsaturated.append(target.name)
            say(
                f"  {'':<8} NOT SATURATED: the server used only {busy:.0%} of a core, so this "
                "measures the generator or the other load, not the server"
            )
        results.errors += sum(rec.errors.values())
        if target is hotline:
            results.hotline_rps = rps
        else:
            results.baseline_rps = rps
    ratio = results.hotline_rps / results.baseline_rps if results.baseline_rps else 0.0
    cpu_ratio = per_request["baseline"] / per_request["hotline"] if per_request["hotline"] else 0
    say(
        f"  ratio    {ratio:.1%} of the baseline's throughput; by server CPU per request "
        f"{cpu_ratio:.1%} (less sensitive to other load on the machine)"
    )
    say()

    if args.memory_sessions > 0:
        memory = await memory_phase(hotline, sessions, args.memory_sessions, admin)
        results.memory = memory
        say(
            f"Redis memory: {args.memory_sessions:,} sessions started to their second screen "
            "(language chosen, main menu shown) and not ended"
        )
        say(
            f"  MEMORY USAGE {memory.mean_key:,.0f} B per session key (key, sealed value of "
            f"{memory.value_bytes:,} B for a sample, entry; mean over {memory.keys:,} keys) + "
            f"{memory.tables:,.0f} B per key of db {DB}'s hash tables (MEMORY STATS) = "
            f"{memory.per_session:,.0f} B per active session"
        )
        say(
            f"  remembered languages: {memory.notes:,} notes (one per caller who chose), "
            f"{memory.per_note:,.0f} B each with their share of the hash tables; they outlive "
            f"sessions (HOTLINE_LANGUAGE_MEMORY_DAYS): 100,000 callers ≈ "
            f"{memory.per_note * 100_000 / 2**20:,.1f} MiB"
        )
        say(
            f"  INFO used_memory grew {memory.used_memory:,.0f} B per session, its caller's "
            "note included (whole server: also moves with client buffers and anything else "
            "using this Redis)"
        )
        say(f"  other keys left in db {DB} (locks): {memory.others} (must be 0)")
        say(
            f"  values in clear (not sealed with the app's keys): {memory.clear} of "
            f"{memory.keys + memory.notes:,} sessions and notes (must be 0)"
        )
        say()
    return results


def summary(say: Report, args: argparse.Namespace, results: Results, began: float) -> None:
    """Aims next to the numbers."""
    say("Summary")
    ok_rate = results.offered >= AIM_RATE and results.achieved >= 0.95 * results.offered
    say(
        f"  p99 at {results.offered:,.0f} req/s offered ({results.achieved:,.1f} achieved)  "
        f"{results.p99:7.1f} ms   aim ≤ {AIM_P99_MS:.0f} ms at {AIM_RATE:.0f} req/s: "
        f"{verdict(results.p99 <= AIM_P99_MS and ok_rate)}"
    )
    ratio = results.hotline_rps / results.baseline_rps if results.baseline_rps else 0.0
    say(
        f"  saturated throughput  {results.hotline_rps:,.1f} / {results.baseline_rps:,.1f} "
        f"req/s = {ratio:.1%} of the baseline   aim ≥ {AIM_RATIO:.0%}: "
        f"{verdict(ratio >= AIM_RATIO)}"
        + (f" (not saturated: {', '.join(results.unsaturated)})" if results.unsaturated else "")
    )
    if results.memory is not None:
        per = results.memory.per_session
        say(
            f"  Redis per active session  {per:,.0f} B (MEMORY USAGE + hash tables; used_memory "
            f"delta {results.memory.used_memory:,.0f} B)   aim ≤ {AIM_SESSION_BYTES:,} B (1 KiB): "
            f"{verdict(per <= AIM_SESSION_BYTES)}"
        )
        say(
            f"  session values in clear  {results.memory.clear} (must be 0): "
            f"{verdict(results.memory.clear == 0)}"
        )
    say(f"  errors {results.errors} (must be 0): {verdict(results.errors == 0)}")
    say(
        f"  generator CPU {self_cpu_seconds():.1f} s in all; run time "
        f"{time.perf_counter() - began:.1f} s; load average {load_line()} at the end"
    )


OVER_S = 10.0
"""Africa's Talking gives up on a USSD request after 10 s: an answer later than this is lost."""
AIM_TIP_RATE = 1500.0
AIM_TIP_P99_MS = 1000.0


@dataclass(frozen=True)
class TipRun:
    """One offered rate of tip sessions (``--tips``)."""

    offered: float
    achieved: float
    p50: float
    p99: float
    p99_due: float  # from the due time (no coordinated omission)
    over: int  # requests answered after OVER_S
    server_errors: int  # HTTP 5xx
    errors: int  # every error, 5xx included
    saved: int  # last hops that showed a reference
    neutral: int  # last hops answered with a neutral END (nothing saved, nothing acknowledged)
    missing: int  # references shown but not in the database (must be 0)
    cases: int  # cases written during the run


def references_in(database_url: str) -> set[str]:
    """Every case reference in the hotline's database."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return {
                str(row[0]) for row in connection.execute(sql_text("SELECT reference FROM cases"))
            }
    finally:
        engine.dispose()


async def cpu_between(cpu: CpuMeter, start: float, end: float) -> Cpu:
    """CPU used between two times of the running loop's clock."""
    loop = asyncio.get_running_loop()
    await asyncio.sleep(max(0.0, start - loop.time()))
    before = cpu.now()
    await asyncio.sleep(max(0.0, end - loop.time()))
    used: Cpu = {}
    add_cpu(used, before, cpu.now())
    return used


def tip_block(say: Report, rec: Recorder, wall: float, offered: float, cpu: str) -> TipRun:
    """Latency of the hops before the last, of the last (Send) and of the end callback."""
    say(f"  {'requests':<22} {'count':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'> 10 s':>7}")
    over_ns = OVER_S * 1e9
    groups = (
        (
            "hops before the last",
            [t for t, s in zip(rec.latency, rec.slot, strict=True) if s < END_SLOT],
        ),
        ("last hop (Send/Cancel)", rec.of_slot(LAST_SLOT)),
        ("end callback", rec.of_slot(END_SLOT)),
        ("all", list(rec.latency)),
    )
    for label, values in groups:
        ordered = sorted(values)
        if ordered:
            say(
                f"  {label:<22} {len(ordered):7,} {percentile(ordered, 50):8.1f} "
                f"{percentile(ordered, 99):8.1f} {ordered[-1] / 1e6:8.1f} "
                f"{sum(1 for t in ordered if t > over_ns):7,}"
            )
    ordered = sorted(rec.latency)
    behind = sorted(a + b for a, b in zip(rec.latency, rec.lag, strict=True))
    achieved = len(ordered) / wall if wall > 0 else 0.0
    server_errors = sum(n for kind, n in rec.errors.items() if kind.startswith("HTTP 5"))
    say(
        f"  offered {offered:,.1f} req/s, achieved {achieved:,.1f} req/s; latency from the due "
        f"time (no coordinated omission): p99 {percentile(behind, 99):,.1f} ms"
    )
    say(
        f"  5xx {server_errors:,}; errors {errors_line(rec)}; last hops: {len(rec.references):,} "
        f"showed a reference, {rec.neutral:,} a neutral screen (nothing saved)"
    )
    say(f"  {cpu}")
    return TipRun(
        offered=offered,
        achieved=achieved,
        p50=percentile(ordered, 50),
        p99=percentile(ordered, 99),
        p99_due=percentile(behind, 99),
        over=sum(1 for t in ordered if t > over_ns),
        server_errors=server_errors,
        errors=sum(rec.errors.values()),
        saved=len(rec.references),
        neutral=rec.neutral,
        missing=0,
        cases=0,
    )


async def run_tips(
    say: Report,
    args: argparse.Namespace,
    hotline: Target,
    cpu: CpuMeter,
    admin: redis.Redis | None,
    database_url: str,
) -> list[TipRun]:
    """Verify the tip paths, then each offered rate in turn: warm-up, timed run, database check."""
    sessions = Sessions(args.seed, tip_paths(args.no_save))
    problems = await verify_paths(hotline, sessions)
    if problems:
        raise SystemExit("tip paths do not behave as expected:\n" + "\n".join(problems))
    runs = []
    longest = max(len(path) for path in sessions.paths) + 1
    for rate in args.rates:
        lanes = max(1, round(rate * args.think))
        if admin is not None:
            admin.flushdb()
        known = references_in(database_url)
        # One schedule: warm-up, then the timed part; lanes start staggered over a session's
        # length, so that Send hops are spread as they would be, not all due together.
        schedule = plan(sessions, "t", rate, args.warmup + args.duration, lanes, longest)
        offered = sum(1 for s in schedule for t in s.times if t >= args.warmup) / args.duration
        say(
            f"Tip sessions at {offered:,.1f} req/s offered for {args.duration:g} s after "
            f"{args.warmup:g} s warm-up: open loop, {lanes} interleaved sessions started "
            f"staggered, hops {args.think:g} s apart"
        )
        rec = Recorder()
        # open_loop's schedule starts 0.2 s after it is called: the CPU of the timed part.
        start = asyncio.get_running_loop().time() + 0.2
        timed = asyncio.ensure_future(
            cpu_between(cpu, start + args.warmup, start + args.warmup + args.duration)
        )
        await open_loop(hotline, schedule, lanes + 16, rec, record_from=args.warmup)
        used = await timed
        wall = max(args.duration, rec.last_done - rec.first_send)
        run = tip_block(
            say, rec, wall, offered, cpu_line(used, args.duration, len(rec.latency), "hotline")
        )
        now = references_in(database_url)
        missing = len(set(rec.references) - now)
        say(
            f"  database: {len(now) - len(known):,} cases written; references shown but not "
            f"found: {missing} (must be 0)"
        )
        say()
        runs.append(replace(run, missing=missing, cases=len(now) - len(known)))
    return runs


def log_summary(say: Report, log: Path, top: int = 5) -> None:
    """The server log's most frequent lines (digits masked): shed work, errors, warnings."""
    kinds = Counter(
        re.sub(r"[0-9]+", "N", line)[:120]
        for line in log.read_text(errors="replace").splitlines()
        if line.strip()
    )
    say(f"hotline log: {sum(kinds.values()):,} lines" + (", most frequent:" if kinds else ""))
    for line, count in kinds.most_common(top):
        say(f"  {count:7,}  {line}")
    say()


def tip_paths(no_save: bool) -> tuple[tuple[str, ...], ...]:
    """The tip paths, ending on Send (1), or on Cancel (2) with ``--no-save``."""
    return tuple((*path[:-1], "2") for path in TIP_PATHS) if no_save else TIP_PATHS


def tip_summary(say: Report, runs: Sequence[TipRun], began: float) -> None:
    """One line per offered rate, and the aim."""
    say("Summary (tip sessions)")
    say(
        f"  {'offered':>9} {'achieved':>9} {'p50 ms':>8} {'p99 ms':>9} {'> 10 s':>7} "
        f"{'5xx':>5} {'errors':>6} {'saved':>6} {'neutral':>7} {'lost':>5}"
    )
    for run in runs:
        say(
            f"  {run.offered:9,.0f} {run.achieved:9,.1f} {run.p50:8.1f} {run.p99:9,.1f} "
            f"{run.over:7,} {run.server_errors:5,} {run.errors:6,} {run.saved:6,} "
            f"{run.neutral:7,} {run.missing:5,}"
        )
    for run in runs:
        if run.offered >= AIM_TIP_RATE:
            held = run.achieved >= 0.95 * run.offered
            say(
                f"  aim: p99 ≤ {AIM_TIP_P99_MS:,.0f} ms at {AIM_TIP_RATE:,.0f} req/s (achieved "
                f"within 5%), 0 over 10 s, 0 5xx, nothing lost: "
                + verdict(
                    held
                    and run.p99 <= AIM_TIP_P99_MS
                    and not run.over
                    and not run.errors
                    and not run.missing
                )
            )
            break
    say(
        f"  generator CPU {self_cpu_seconds():.1f} s in all; run time "
        f"{time.perf_counter() - began:.1f} s; load average {load_line()} at the end"
    )


@contextlib.contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """A fresh schema in the given PostgreSQL database, dropped on the way out: its URL."""
    schema = f"ussd_bench_{uuid.uuid4().hex[:12]}"
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(sql_text(f'CREATE SCHEMA "{schema}"'))
    joiner = "&" if "?" in url else "?"
    try:
        yield f"{normalise_url(url)}{joiner}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as connection:
            connection.execute(sql_text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


def tips_main(args: argparse.Namespace, say: Report, began: float) -> int:
    """``--tips``: the hotline alone, tip sessions at each offered rate (see bench/README.md)."""
    admin = redis.Redis.from_url(REDIS_URL) if args.sessions == "redis" else None
    if admin is not None:
        try:
            admin.ping()
        except redis.RedisError as exc:
            raise SystemExit(f"Redis is not answering on {REDIS_URL}: {exc}") from None
        admin.flushdb()  # db 13 belongs to this benchmark
    tmp = Path(tempfile.mkdtemp(prefix="ussd-tips-"))
    database = "PostgreSQL (a schema of its own)" if args.database_url else "a fresh SQLite file"
    say("USSD tip sessions: Africa's Talking sessions that file reports, over loopback")
    say(
        f"machine:  {platform.python_implementation()} {platform.python_version()}, "
        f"{platform.platform()}, {os.cpu_count()} CPUs, load average {load_line()} at start"
    )
    passed = sorted(k for k in os.environ if k.startswith(("HOTLINE_DB_", "HOTLINE_CASE_")))
    say(
        f"hotline: {args.hotline_app}, "
        f"{'one uvicorn worker' if args.processes == 1 else f'{args.processes} uvicorn workers'}"
        "; sessions "
        f"{'in Redis db 13' if admin else 'in process'}; cases in {database}"
        + (
            f"; passed through: {', '.join(f'{k}={os.environ[k]}' for k in passed)}"
            if passed
            else ""
        )
    )
    say(
        f"note:     the load generator (one process, {CLIENT_NAMES[args.client]}, "
        f"{generator_loop(args)} loop), the hotline, "
        f"Redis and the database share these {os.cpu_count()} cores"
    )
    paths = tip_paths(args.no_save)
    say(
        f"sessions: {len(paths)} tip paths of {min(map(len, paths))}-{max(map(len, paths))} hops "
        f"in the four languages, ending on "
        f"{'Cancel (nothing saved)' if args.no_save else 'Send (a case)'}, "
        f"then the end callback; seed {args.seed}; numbers +243000…"
    )
    say()
    try:
        with contextlib.ExitStack() as stack:
            database_url = (
                stack.enter_context(postgres_schema(args.database_url))
                if args.database_url
                else f"sqlite:///{tmp / 'bench.db'}"
            )
            env = environment(
                tmp,
                args.flows_dir,
                database_url=database_url,
                redis_sessions=admin is not None,
                passed=passed,
            )
            token = env["HOTLINE_CALLBACK_TOKEN"]
            (server,) = stack.enter_context(servers(tmp, env, args.hotline_app, baseline=False))
            hotline = Target(
                "hotline",
                server.port,
                f"/ussd/africastalking/{token}",
                f"/ussd/africastalking/{token}/end",
                server.process.pid,
                True,
                last_apart=True,
                references=not args.no_save,
            )
            cpu = CpuMeter(admin, {"hotline": hotline.pid}, postgres=bool(args.database_url))
            runs = generate(args, run_tips(say, args, hotline, cpu, admin, database_url))
            log_summary(say, server.log)
        tip_summary(say, runs, began)
    finally:
        if admin is not None:
            with contextlib.suppress(redis.RedisError):
                admin.flushdb()
            admin.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def environment(
    tmp: Path,
    flows_dir: Path | None = None,
    *,
    database_url: str | None = None,
    redis_sessions: bool = True,
    passed: Sequence[str] = (),
) -> dict[str, str]:
    """The hotline's environment: Redis db 13 (or in-process sessions), a fresh SQLite file (or
    ``database_url``), fresh secrets; ``passed``: HOTLINE_* variables of ours let through."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_") or k in passed}
    if flows_dir is not None:
        env["HOTLINE_FLOWS_DIR"] = str(flows_dir.resolve())
    if redis_sessions:
        env["HOTLINE_REDIS_URL"] = REDIS_URL
    env.update(
        {
            "HOTLINE_DATABASE_URL": database_url or f"sqlite:///{tmp / 'bench.db'}",
            "HOTLINE_CALLBACK_TOKEN": new_key(),
            "HOTLINE_PSEUDONYM_KEY": new_key(),
            "HOTLINE_ENCRYPTION_KEYS": new_key(),
            "HOTLINE_SECRETS_FILE": str(tmp / "s.json"),
            "HOTLINE_LOG_LEVEL": "WARNING",
            "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH")))),
        }
    )
    return env


@contextlib.contextmanager
def servers(
    tmp: Path, env: dict[str, str], app: str, baseline: bool = True
) -> Iterator[list[Server]]:
    """The hotline and (unless not wanted) the baseline, healthy; stopped on the way out
    whatever happens."""
    started: list[Server] = []
    try:
        started.append(start_server("hotline", app, env, tmp))
        if baseline:
            started.append(start_server("baseline", "bench.baseline_app:create_app", env, tmp))
        for server in started:
            wait_healthy(server)
        yield started
    finally:
        for server in started:
            server.stop()


def stop_on_signal(signum: int, frame: object) -> None:
    """SIGTERM (and an ignored SIGINT) unwinds like Ctrl-C, so the servers are stopped."""
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> int:
    """Run every phase and print the report; exit 0 whether or not the aims are met."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.ussd_load", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--rate", type=float, default=AIM_RATE, help="offered req/s (200)")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds at the rate (20)")
    parser.add_argument("--warmup", type=float, default=2.0, help="untimed seconds first (2)")
    parser.add_argument(
        "--think", type=float, default=0.5, help="seconds between a session's hops (0.5)"
    )
    parser.add_argument(
        "--saturate-seconds", type=float, default=10.0, help="closed-loop seconds per server (10)"
    )
    parser.add_argument("--workers", type=int, default=64, help="closed-loop sessions (64)")
    parser.add_argument(
        "--rounds", type=int, default=2, help="alternating saturation rounds per server (2)"
    )
    parser.add_argument(
        "--memory-sessions",
        type=int,
        default=1000,
        help="sessions weighed in Redis (1000; 0 skips)",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
    parser.add_argument(
        "--hotline-app",
        default="bot.app:create_app",
        metavar="MODULE:FACTORY",
        help="the hotline's app factory (bot.app:create_app); another one measures a candidate",
    )
    parser.add_argument(
        "--loop",
        choices=("auto", "asyncio", "uvloop"),
        default="auto",
        help="uvicorn's event loop for both servers (auto: uvloop when installed)",
    )
    parser.add_argument(
        "--http",
        choices=("auto", "h11", "httptools"),
        default="auto",
        help="uvicorn's HTTP parser for both servers (auto: httptools when installed)",
    )
    parser.add_argument(
        "--flows-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="flow files for the hotline (HOTLINE_FLOWS_DIR; default: the shipped flows/)",
    )
    parser.add_argument(
        "--generator-loop",
        choices=("auto", "asyncio", "uvloop"),
        default="auto",
        help="the load generator's event loop (auto: uvloop when installed; it shares the "
        "cores with the servers, so a cheaper loop leaves them more)",
    )
    parser.add_argument(
        "--client",
        choices=("raw", "httpx"),
        default="raw",
        help="raw: a minimal asyncio HTTP/1.1 client (default); httpx: much more CPU per request",
    )
    tips = parser.add_argument_group(
        "tip sessions (--tips: the hotline alone, sessions that file reports; bench/README.md)"
    )
    tips.add_argument("--tips", action="store_true", help="run tip sessions instead")
    tips.add_argument(
        "--rates",
        type=lambda text: [float(x) for x in text.split(",")],
        default=[800.0, 1500.0],
        metavar="R1,R2",
        help="offered req/s, one run each (800,1500)",
    )
    tips.add_argument(
        "--sessions",
        choices=("redis", "memory"),
        default="redis",
        help="sessions in Redis db 13 (as in production) or in process (the embedded default)",
    )
    tips.add_argument(
        "--database-url",
        default=None,
        metavar="URL",
        help="PostgreSQL to use (a schema of its own is created and dropped); default SQLite",
    )
    tips.add_argument(
        "--processes",
        type=int,
        default=1,
        metavar="N",
        help="hotline processes (uvicorn --workers; more than 1 needs Redis sessions)",
    )
    tips.add_argument(
        "--no-save", action="store_true", help="end each tip on Cancel: the same hops, no case"
    )
    args = parser.parse_args(argv)
    if args.rate <= 0 or args.duration <= 0 or args.think <= 0 or args.workers < 1:
        parser.error("--rate, --duration, --think and --workers must be positive")
    CLIENT_KIND[0] = args.client
    SERVER_OPTIONS[:] = ["--loop", args.loop, "--http", args.http]
    signal.signal(signal.SIGTERM, stop_on_signal)
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:  # started with & by a script
        signal.signal(signal.SIGINT, stop_on_signal)
    began = time.perf_counter()
    say = Report()
    if args.tips:
        if min(args.rates) <= 0:
            parser.error("--rates must be positive")
        if args.processes < 1 or (args.processes > 1 and args.sessions == "memory"):
            parser.error("--processes: 1, or more with Redis sessions (each process its own)")
        if args.processes > 1:
            HOTLINE_OPTIONS[:] = ["--workers", str(args.processes)]
        return tips_main(args, say, began)
    admin = redis.Redis.from_url(REDIS_URL)
    try:
        admin.ping()
    except redis.RedisError as exc:
        raise SystemExit(f"Redis is not answering on {REDIS_URL}: {exc}") from None
    header(say, args, admin)
    tmp = Path(tempfile.mkdtemp(prefix="ussd-bench-"))
    try:
        admin.flushdb()  # db 13 belongs to this benchmark
        env = environment(tmp, args.flows_dir)
        token = env["HOTLINE_CALLBACK_TOKEN"]
        with servers(tmp, env, args.hotline_app) as (hotline_server, baseline_server):
            hotline = Target(
                "hotline",
                hotline_server.port,
                f"/ussd/africastalking/{token}",
                f"/ussd/africastalking/{token}/end",
                hotline_server.process.pid,
                True,
            )
            baseline = Target(
                "baseline",
                baseline_server.port,
                "/ussd/bench",
                None,
                baseline_server.process.pid,
                False,
            )
            results = generate(args, run_all(say, args, hotline, baseline, admin))
        summary(say, args, results, began)
    finally:
        with contextlib.suppress(redis.RedisError):
            admin.flushdb()
        admin.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:
        print("interrupted: servers stopped, db 13 emptied", file=sys.stderr)
        raise SystemExit(130) from None
