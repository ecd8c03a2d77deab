"""Wrong sign-ins as a weapon: does a storm of them starve USSD or blow up memory?

Run ``python -m bench.login_storm [--attackers 60] [--duration 15]``. For each mode it starts a
fresh server process (clean RSS; the load client stays in this one, so they do not share a
GIL) that runs the hotline with uvicorn in-process on loopback (SQLite and in-process sessions
in a temporary folder, real argon2id: 64 MiB, 3 passes), then, from here:

1. **quiet**: USSD requests (a new session each, the first screen) at ``--ussd-rate`` for
   ``--duration`` seconds; their latency and the process's RSS.
2. **storm**: the same USSD traffic while ``--attackers`` clients send wrong passwords as fast
   as they are answered, each from its own address (``X-Forwarded-For``, trusted here: a
   distributed attack, which the per-address limit does not stop), on usernames that exist and
   do not; USSD latency, peak RSS, and the sign-in answers by status.
3. after the storm, the real operator signs in from an address of their own.

Modes: ``gated`` is the hotline as shipped (``bot.auth.hashing.GATE``); ``ungated`` stands for
the code before issue 11 (argon2 on as many threads as the storm fills, nothing refused).
The figures are printed; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
CALLBACK = "bench-callback-token-" + "c" * 20
PASSWORD = "the real operator's passphrase"  # noqa: S105 - a bench's throwaway operator


def rss_mib(pid: int, field: str = "VmRSS") -> float:
    """A process's resident memory now (``VmHWM``: its peak), MiB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def make_app(folder: Path, mode: str) -> Any:
    """The hotline on a temporary SQLite file, one operator with a real argon2id hash."""
    from sqlmodel import Session

    from bot.app import create_app
    from bot.auth import hashing
    from bot.auth.passwords import hash_password
    from bot.core.privacy import new_key
    from bot.core.settings import Settings
    from bot.models import Operator

    if mode == "ungated":  # before issue 11: every attempt hashes at once, nothing refused
        hashing.GATE.concurrency = 256  # read when its threads start, at the first hash
        hashing.GATE.limit = 100_000
    settings = Settings(
        database_url=f"sqlite:///{folder / 'hotline.db'}",
        redis_url=None,
        callback_token=CALLBACK,
        pseudonym_key="bench-pseudonym-key-" + "p" * 20,
        encryption_keys=new_key(),
        telegram_webhook_secret="bench-webhook-secret-" + "w" * 20,
        secrets_file=folder / "secrets.json",
    )
    app = create_app(settings)
    with Session(app.state.engine) as session:
        session.add(
            Operator(
                username="amani",
                display_name="Amani",
                role="operator",
                password_hash=hash_password(PASSWORD),
            )
        )
        session.commit()
    return app


def serve(mode: str, port: int) -> None:
    """The server process: the hotline under uvicorn, trusting X-Forwarded-For (the bench
    plays many addresses); its log lines are dropped (a storm's are counted in the tests)."""
    import logging

    import uvicorn

    logging.disable(logging.CRITICAL)
    with tempfile.TemporaryDirectory(prefix="hotline-storm-") as tmp:
        app = make_app(Path(tmp), mode)
        config = uvicorn.Config(
            app,
            host=HOST,
            port=port,
            log_level="critical",
            access_log=False,
            proxy_headers=True,
            forwarded_allow_ips="*",
        )
        uvicorn.Server(config).run()


def wait_up(base: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(base + "/healthz", timeout=2.0).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError("the hotline did not come up")


async def ussd_traffic(base: str, rate: float, seconds: float) -> list[float]:
    """One new USSD session's first screen every 1/rate s; each request's latency (ms)."""
    latencies: list[float] = []
    errors = 0
    async with httpx.AsyncClient(base_url=base, timeout=30.0) as client:

        async def one(n: int) -> None:
            nonlocal errors
            form = {
                "sessionId": f"ATUid_storm{n:07d}",
                "serviceCode": "*384*12#",
                "phoneNumber": f"+243000{n % 1_000_000:06d}",  # unassigned range
                "networkCode": "63001",
                "text": "",
            }
            began = time.perf_counter()
            response = await client.post(f"/ussd/africastalking/{CALLBACK}", data=form)
            latencies.append((time.perf_counter() - began) * 1000)
            if not response.text.startswith("CON "):
                errors += 1

        tasks = []
        start = time.perf_counter()
        n = 0
        while time.perf_counter() - start < seconds:
            tasks.append(asyncio.create_task(one(n)))
            n += 1
            await asyncio.sleep(max(0.0, start + n / rate - time.perf_counter()))
        await asyncio.gather(*tasks)
    if errors:
        print(f"    USSD answers that were not a screen: {errors}")
    return latencies


async def storm(
    base: str, attackers: int, seconds: float, path: str = "/api/login"
) -> Counter[int]:
    """``attackers`` clients, each from its own address, sending wrong passwords (to ``path``:
    another path measures what the same flood of requests costs without any sign-in)."""
    answers: Counter[int] = Counter()
    stop = time.perf_counter() + seconds

    async def attacker(k: int) -> None:
        address = f"198.18.{k // 250}.{k % 250 + 1}"  # the benchmarking range (RFC 2544)
        async with httpx.AsyncClient(base_url=base, timeout=60.0) as client:
            n = 0
            while time.perf_counter() < stop:
                n += 1
                username = "amani" if n % 3 == 0 else f"nobody{k}x{n}"
                response = await client.post(
                    path,
                    json={"username": username, "password": f"wrong guess {k}-{n}"},
                    headers={"X-Forwarded-For": address},
                )
                answers[response.status_code] += 1

    await asyncio.gather(*(attacker(k) for k in range(attackers)))
    return answers


def line(name: str, latencies: list[float], pid: int) -> str:
    return (
        f"  {name:<6} USSD {len(latencies):5d} req  p50 {percentile(latencies, 50):7.1f} ms  "
        f"p99 {percentile(latencies, 99):7.1f} ms  max {max(latencies, default=0):7.1f} ms  "
        f"server RSS {rss_mib(pid):6.0f} MiB (peak so far {rss_mib(pid, 'VmHWM'):6.0f} MiB)"
    )


async def measure(args: argparse.Namespace) -> None:
    port = free_port()
    command = [sys.executable, "-m", "bench.login_storm", "--serve", str(port)]
    command += ["--mode", args.mode]
    server = subprocess.Popen(command, cwd=ROOT)  # noqa: S603 - our own module
    base = f"http://{HOST}:{port}"
    try:
        wait_up(base)
        await ussd_traffic(base, args.ussd_rate, 2.0)  # warm up
        quiet = await ussd_traffic(base, args.ussd_rate, args.duration)
        print(line("quiet", quiet, server.pid))
        began = time.perf_counter()
        stormy, answers = await asyncio.gather(
            ussd_traffic(base, args.ussd_rate, args.duration),
            storm(base, args.attackers, args.duration, args.flood_path),
        )
        took = time.perf_counter() - began
        print(line("storm", stormy, server.pid))
        total = sum(answers.values())
        by_status = ", ".join(f"{code}: {count}" for code, count in sorted(answers.items()))
        print(f"         sign-ins {total} in {took:.1f} s ({total / took:.0f}/s): {by_status}")
        async with httpx.AsyncClient(base_url=base, timeout=60.0) as client:
            began = time.perf_counter()
            real = await client.post(
                "/api/login",
                json={"username": "amani", "password": PASSWORD},
                headers={"X-Forwarded-For": "203.0.113.9"},
            )
            print(
                f"         the real operator from their office: {real.status_code} "
                f"in {(time.perf_counter() - began) * 1000:.0f} ms"
            )
    finally:
        server.terminate()
        server.wait(10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attackers", type=int, default=60)
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per phase")
    parser.add_argument("--ussd-rate", type=float, default=50.0, help="USSD requests per second")
    parser.add_argument("--mode", choices=["gated", "ungated", "both"], default="both")
    parser.add_argument(
        "--flood-path",
        default="/api/login",
        help="where the attackers post (e.g. /nowhere: the same flood without a sign-in)",
    )
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.mode, args.serve)
        return 0
    load = os.getloadavg()
    print(
        f"login storm: {args.attackers} attackers, USSD at {args.ussd_rate:g}/s, "
        f"{args.duration:g} s per phase, attackers post to {args.flood_path}, "
        f"{os.cpu_count()} cores, "
        f"load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    modes = ["ungated", "gated"] if args.mode == "both" else [args.mode]
    for mode in modes:
        print(f"{mode}:" + (" (before issue 11)" if mode == "ungated" else " (as shipped)"))
        sys.stdout.flush()
        asyncio.run(measure(argparse.Namespace(**{**vars(args), "mode": mode})))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
