"""CPU per USSD request, hotline against the bare baseline, measured in one process.

Run ``python -m bench.ussd_cpu``. Both apps (``bot.app:create_app`` and
``bench.baseline_app:create_app``) are driven in this process through ASGI, without an HTTP
server, on the same scripted Africa's Talking sessions as ``bench.ussd_load``; CPU time
(``time.process_time``) is read around alternating rounds of each, so another process's load
moves both alike and the ratio stays readable on a shared machine. Redis db 12 (``--db``) is
used, emptied before and after; ``--sessions memory`` gives the hotline in-process sessions.
``--tips`` walks the tip paths to Send (a case per session, SQLite); ``--profile`` adds
cProfile's top functions of the hotline's rounds. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import ctypes
import gc
import importlib
import operator
import os
import pstats
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlencode

import redis

from bench.ussd_load import PATHS, TIP_PATHS, Session, Sessions, end_form, hop_form, texts
from bot.core.privacy import new_key

DB = 12


def redis_url(db: int) -> str:
    """The Redis database both apps use (emptied before and after)."""
    return f"redis://127.0.0.1:6379/{db}"


App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def setup_environment(tmp: Path, *, redis_sessions: bool, db: int) -> str:
    """HOTLINE_* for a fresh hotline (SQLite file, fresh secrets); returns the callback token."""
    for name in [k for k in os.environ if k.startswith("HOTLINE_")]:
        del os.environ[name]
    token = new_key()
    os.environ.update(
        {
            "HOTLINE_DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
            "HOTLINE_CALLBACK_TOKEN": token,
            "HOTLINE_PSEUDONYM_KEY": new_key(),
            "HOTLINE_ENCRYPTION_KEYS": new_key(),
            "HOTLINE_SECRETS_FILE": str(tmp / "s.json"),
            "HOTLINE_LOG_LEVEL": "WARNING",
        }
    )
    if redis_sessions:
        os.environ["HOTLINE_REDIS_URL"] = redis_url(db)
    return token


async def call(app: App, path: str, body: bytes) -> tuple[int, bytes]:
    """One POST of a urlencoded form through the app's ASGI interface: status and body."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.Event().wait()  # a disconnect never comes while the app answers
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


@dataclass
class Walk:
    """A session and the bodies of its hops."""

    session: Session
    hops: list[bytes]


class Target:
    """An app and its two USSD routes."""

    def __init__(self, name: str, app: App, hop: str, end: str | None, maker: Sessions) -> None:
        self.name = name
        self.maker = maker  # one per app for the whole run: no number is used twice
        self.app = app
        self.hop = hop
        self.end = end
        self.errors = 0
        self.made = 0

    def forms(self, session: Session) -> Walk:
        """A session's request bodies, encoded before anything is timed (the client's work)."""
        hops = [urlencode(hop_form(session, text)).encode() for text in texts(session.path)]
        return Walk(session, hops)

    async def session(self, walk: Walk) -> int:
        """Walk one scripted session (and its end callback): the requests made."""
        made = 0
        shown = ""
        session = walk.session
        for form in walk.hops:
            status, body = await call(self.app, self.hop, form)
            made += 1
            self.made += 1
            shown = body.decode()
            if status != 200 or not shown.startswith(("CON ", "END ")):
                self.errors += 1
        if self.end is not None:
            last = session.path[-1]
            form = urlencode(end_form(session, last, shown, 1000)).encode()
            status, _ = await call(self.app, self.end, form)
            made += 1
            self.made += 1
            if status != 200:
                self.errors += 1
        return made

    async def lane(self, walks: Sequence[Walk]) -> int:
        """Sessions one after the other (lanes run side by side, as callers do)."""
        made = 0
        for walk in walks:
            made += await self.session(walk)
        return made


async def rounds(
    targets: Sequence[Target],
    *,
    count: int,
    sessions: int,
    lanes: int,
    profile: cProfile.Profile | None,
) -> dict[str, list[float]]:
    """``count`` alternating rounds of ``sessions`` sessions per target: CPU µs per request."""
    per: dict[str, list[float]] = {t.name: [] for t in targets}
    for number in range(count):
        order = list(targets) if number % 2 == 0 else list(reversed(targets))
        for target in order:
            batch = [target.forms(target.maker.new(target.name[0])) for _ in range(sessions)]
            profiling = profile is not None and target.name == "hotline"
            if profiling:
                assert profile is not None
                profile.enable()
            began = time.process_time()
            made = sum(await asyncio.gather(*(target.lane(batch[k::lanes]) for k in range(lanes))))
            used = time.process_time() - began
            if profiling:
                assert profile is not None
                profile.disable()
            per[target.name].append(used / made * 1e6)
    return per


def build(args: argparse.Namespace, tmp: Path, names: Sequence[str]) -> list[Target]:
    """The apps asked for, on a fresh environment (secrets, SQLite file, a Redis db)."""
    from bench.baseline_app import create_app as baseline_app

    module, _, factory = args.hotline_app.partition(":")
    create_app = getattr(importlib.import_module(module), factory)
    paths = TIP_PATHS if args.tips else PATHS
    if args.log != "off":  # as `hotline serve` logs: INFO, one access line per request
        from bot.core.logconfig import configure

        configure("INFO", args.log, stream=open(os.devnull, "w"))  # noqa: SIM115 - for the run
    token = setup_environment(tmp, redis_sessions=args.sessions == "redis", db=args.db)
    targets = []
    if "hotline" in names:
        hop = f"/ussd/africastalking/{token}"
        end = hop + "/end" if args.end else None
        targets.append(Target("hotline", create_app(), hop, end, Sessions(args.seed, paths)))
    if "baseline" in names:
        app = baseline_app(redis_url(args.db))
        targets.append(Target("baseline", app, f"/ussd/{token}", None, Sessions(args.seed, paths)))
    return targets


def run(args: argparse.Namespace, names: Sequence[str]) -> dict[str, list[float]] | None:
    """Build the apps, warm them, run the timed rounds (under callgrind: inside
    ``operator.call``, the one function whose instructions are collected)."""
    loop = new_loop(args.loop)
    admin = redis.Redis.from_url(redis_url(args.db))
    admin.flushdb()
    try:
        with tempfile.TemporaryDirectory(prefix="ussd-cpu-") as tmp:
            targets = build(args, Path(tmp), names)
            stack = AsyncExitStack()
            for target in targets:
                app = cast(Any, target.app)
                loop.run_until_complete(stack.enter_async_context(app.router.lifespan_context(app)))
            try:
                warm = rounds(
                    targets, count=2, sessions=args.warmup, lanes=args.lanes, profile=None
                )
                loop.run_until_complete(warm)
                gc.collect()
                if args.in_callgrind:
                    timed = rounds(
                        targets,
                        count=1,
                        sessions=args.sessions_per_round,
                        lanes=args.lanes,
                        profile=None,
                    )
                    shim = os.environ.get(SHIM_ENV)
                    if shim:  # started without instrumentation: it runs until here at speed
                        ctypes.CDLL(shim).start_instrumentation()
                    operator.call(loop.run_until_complete, timed)
                    made, errors = sum(t.made for t in targets), sum(t.errors for t in targets)
                    print(f"requests {made} errors {errors}")
                    return None
                profile = cProfile.Profile(time.process_time) if args.profile else None
                per = loop.run_until_complete(
                    rounds(
                        targets,
                        count=args.rounds,
                        sessions=args.sessions_per_round,
                        lanes=args.lanes,
                        profile=profile,
                    )
                )
            finally:
                loop.run_until_complete(stack.aclose())
    finally:
        admin.flushdb()
        loop.close()
    report(args, targets, per)
    if profile is not None:
        stats = pstats.Stats(profile, stream=sys.stdout)
        if args.profile_file:
            stats.dump_stats(args.profile_file)
        print("\nhotline, cProfile (its rounds only), by own time:")
        stats.sort_stats("tottime").print_stats(args.top)
        print("hotline, cProfile, by cumulative time:")
        stats.sort_stats("cumulative").print_stats(args.top)
    if any(t.errors for t in targets):
        print("ERRORS: a request got a non-200 answer or neither CON nor END")
    return per


def new_loop(kind: str) -> asyncio.AbstractEventLoop:
    """uvloop (as ``hotline serve`` runs) or asyncio's own loop."""
    if kind == "uvloop":
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


SHIM_ENV = "BENCH_CALLGRIND_SHIM"
SHIM = """
#include <valgrind/callgrind.h>
void start_instrumentation(void) { CALLGRIND_START_INSTRUMENTATION; }
"""
"""Callgrind's client request, for Python through ctypes: start-up and warm-up then run without
instrumentation (several times faster), and only the timed requests are collected."""


def build_shim(tmp: Path) -> str | None:
    """The shim compiled with the C compiler and valgrind's header, or None (slower runs)."""
    source = tmp / "shim.c"
    source.write_text(SHIM)
    library = tmp / "shim.so"
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        return None
    done = subprocess.run(  # noqa: S603 - the system's C compiler on our own source
        [compiler, "-shared", "-fPIC", "-O1", "-o", str(library), str(source)],
        capture_output=True,
        check=False,
    )
    return str(library) if done.returncode == 0 else None


def callgrind(args: argparse.Namespace) -> None:
    """Each app in a child under callgrind: instructions per request of the timed requests."""
    results: dict[str, float] = {}
    for name in args.apps.split(","):
        with tempfile.TemporaryDirectory(prefix="ussd-cg-") as tmp:
            out = Path(tmp) / "callgrind.out"
            shim = build_shim(Path(tmp))
            env = dict(os.environ)
            if shim is not None:
                env[SHIM_ENV] = shim
            command = [
                "valgrind",
                "--tool=callgrind",
                *(["--instr-atstart=no"] if shim is not None else []),
                "--collect-atstart=no",
                "--toggle-collect=_operator_call",
                f"--callgrind-out-file={out}",
                sys.executable,
                "-m",
                "bench.ussd_cpu",
                "--in-callgrind",
                "--only",
                name,
                *child_options(args),
            ]
            done = subprocess.run(  # noqa: S603 - our own argv
                command, capture_output=True, text=True, check=False, env=env
            )
            found = re.search(r"^requests (\d+) errors (\d+)$", done.stdout, re.MULTILINE)
            totals = (
                re.search(r"^totals: (\d+)", out.read_text(), re.MULTILINE)
                if out.exists()
                else None
            )
            if found is None or totals is None:
                print(done.stdout[-2000:], done.stderr[-2000:])
                raise SystemExit(f"callgrind run of {name} failed")
            made, errors = int(found[1]), int(found[2])
            results[name] = int(totals[1]) / made
            print(
                f"  {name:<9} {results[name] / 1e6:6.3f} M instructions/request "
                f"({made} requests, errors {errors})"
            )
    if len(results) == 2:
        ratio = results["baseline"] / results["hotline"]
        print(f"  baseline/hotline instructions: {ratio:.1%}")


def child_options(args: argparse.Namespace) -> list[str]:
    """The options a callgrind child is run with (those that shape the work)."""
    options = [
        "--sessions-per-round",
        str(args.sessions_per_round),
        "--warmup",
        str(args.warmup),
        "--lanes",
        str(args.lanes),
        "--sessions",
        args.sessions,
        "--seed",
        str(args.seed),
        "--db",
        str(args.db),
        "--loop",
        args.loop,
        "--hotline-app",
        args.hotline_app,
        "--log",
        args.log,
    ]
    return [*options, *(["--tips"] if args.tips else []), *(["--end"] if args.end else [])]


def report(
    args: argparse.Namespace, targets: Sequence[Target], per: dict[str, list[float]]
) -> None:
    """The table: CPU µs per request per round, median, and the ratio."""
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    mix = "tip sessions to Send (a case each)" if args.tips else "ussd_load's 8 session paths"
    print(f"USSD CPU per request, in process (ASGI, no HTTP server); {mix}")
    print(
        f"hotline sessions: {args.sessions}; {args.rounds} rounds x {args.sessions_per_round} "
        f"sessions per app, alternating, {args.lanes} side by side; load average {load}"
    )
    for target in targets:
        values = per[target.name]
        line = ", ".join(f"{v:.0f}" for v in values)
        print(
            f"  {target.name:<9} median {statistics.median(values):7.1f} µs/request  "
            f"(rounds: {line}; errors {target.errors})"
        )
    hot = statistics.median(per["hotline"])
    base = statistics.median(per["baseline"])
    pairs = [b / h for h, b in zip(per["hotline"], per["baseline"], strict=True)]
    print(
        f"  baseline/hotline CPU: {base / hot:.1%} (per round: "
        + ", ".join(f"{p:.0%}" for p in pairs)
        + ")"
    )


def main(argv: list[str] | None = None) -> int:
    """Parse options and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8, help="alternating rounds per app")
    parser.add_argument("--sessions-per-round", type=int, default=150)
    parser.add_argument("--warmup", type=int, default=40, help="sessions per app, twice, untimed")
    parser.add_argument("--lanes", type=int, default=16, help="sessions running side by side")
    parser.add_argument(
        "--end", action="store_true", help="the hotline also gets the session-end callbacks"
    )
    parser.add_argument("--sessions", choices=("redis", "memory"), default="redis")
    parser.add_argument("--tips", action="store_true", help="tip paths to Send: a case each")
    parser.add_argument("--profile", action="store_true", help="cProfile the hotline's rounds")
    parser.add_argument("--profile-file", help="also write --profile's stats to this file")
    parser.add_argument("--top", type=int, default=30, help="functions listed by --profile")
    parser.add_argument(
        "--log",
        choices=("off", "json", "text"),
        default="off",
        help="log as `hotline serve` does (INFO, to /dev/null); off: as bench.ussd_load",
    )
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--db", type=int, default=DB, help="Redis database (emptied)")
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    parser.add_argument(
        "--callgrind", action="store_true", help="instructions per request under valgrind (slow)"
    )
    parser.add_argument(
        "--apps", default="hotline,baseline", help="--callgrind: the apps to count, in order"
    )
    parser.add_argument(
        "--hotline-app",
        default="bot.app:create_app",
        help="module:factory of the hotline (to measure a candidate change)",
    )
    parser.add_argument("--only", choices=("hotline", "baseline"), help=argparse.SUPPRESS)
    parser.add_argument("--in-callgrind", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    random.seed(args.seed)
    if args.callgrind:
        print(
            f"USSD instructions per request under callgrind: {args.sessions_per_round} sessions "
            f"per app after {2 * args.warmup} untimed; load average "
            + " ".join(f"{x:.2f}" for x in os.getloadavg())
        )
        callgrind(args)
        return 0
    names = (args.only,) if args.only else ("hotline", "baseline")
    run(args, names)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
