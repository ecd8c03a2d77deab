"""A publish reaches a process's listener: through Redis, by polling the counter, or at once
in the process that published; a listener outlives a database or Redis that fails."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal as subprocess_signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx2
import pytest

from bot.content import signal
from bot.content.files import Content
from bot.content.snapshot import Snapshot
from bot.core.db import make_engine
from bot.core.privacy import new_key
from tests.channels.ussd.test_routes import form
from tests.conftest import CALLBACK_TOKEN, PSEUDONYM_KEY, reachable_redis
from tests.content.stored import (
    NEW,
    NEW_WORDING,
    OLD_WORDING,
    FakeVersions,
    main_version,
    write_version,
)


@asynccontextmanager
async def listening(snapshot: Snapshot, **how: object) -> AsyncIterator[None]:
    """The process's listener, running while the block runs."""
    task = asyncio.create_task(signal.follow(snapshot, **how))  # type: ignore[arg-type]
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def within(seconds: float, done: Callable[[], bool]) -> float:
    """Wait until ``done()``; the seconds it took (fails after ``seconds``)."""
    start = time.monotonic()
    while not done():
        assert time.monotonic() - start < seconds, "not seen in time"
        await asyncio.sleep(0.01)
    return time.monotonic() - start


WAIT = 20.0
"""Seconds a test waits for what takes milliseconds (bench/publish_reach.py measures how many):
no test fails for a machine that is only busy."""


def serves_v2(snapshot: Snapshot) -> Callable[[], bool]:
    def check() -> bool:
        main = snapshot.current().registry.get("main")
        return main is not None and main.version == "main-v2"

    return check


@pytest.fixture
def source() -> FakeVersions:
    return FakeVersions()


@pytest.fixture
def snapshot(shipped_content: Content, source: FakeVersions) -> Snapshot:
    return Snapshot(shipped_content, source)


async def test_without_redis_a_publish_is_seen_at_the_next_poll(
    snapshot: Snapshot, source: FakeVersions
) -> None:
    async with listening(snapshot, redis_url=None, poll_seconds=0.2):
        await within(WAIT, lambda: snapshot.generation == 0)
        source.publish(main_version(2))
        await within(WAIT, serves_v2(snapshot))


async def test_the_process_that_published_serves_it_at_once(
    snapshot: Snapshot, source: FakeVersions
) -> None:
    async with listening(snapshot, redis_url=None, poll_seconds=60):
        await within(WAIT, lambda: snapshot.generation == 0)
        source.publish(main_version(2))
        await asyncio.to_thread(signal.announce, None, source.counter)
        await within(WAIT, serves_v2(snapshot))  # not at the next poll, a minute away


@pytest.mark.redis
async def test_with_redis_a_publish_is_announced_to_every_listener(
    shipped_content: Content, source: FakeVersions
) -> None:
    url = reachable_redis()
    one, two = Snapshot(shipped_content, source), Snapshot(shipped_content, source)
    async with (
        listening(one, redis_url=url, poll_seconds=60),
        listening(two, redis_url=url, poll_seconds=60),
    ):
        await within(WAIT, lambda: one.generation == 0 and two.generation == 0)
        source.publish(main_version(2))  # subscribed before their first look: they hear it
        await asyncio.to_thread(signal.announce, url, source.counter)
        await within(WAIT, serves_v2(one))
        await within(WAIT, serves_v2(two))
    assert one.current().registry.get("main", "main-v2") is not None


def test_a_redis_that_does_not_answer_is_logged_and_the_publish_stands(
    caplog: pytest.LogCaptureFixture,
) -> None:
    signal.announce("redis://127.0.0.1:1/0", 7)  # nothing listens there
    assert "publish 7 not announced through Redis" in caplog.text


async def test_a_listener_outlives_a_database_that_fails(
    snapshot: Snapshot, source: FakeVersions, caplog: pytest.LogCaptureFixture
) -> None:
    failing = {"left": 2}
    counter = source.generation

    def generation() -> int:
        if failing["left"]:
            failing["left"] -= 1
            raise ConnectionError("database unavailable")
        return counter()

    source.generation = generation  # type: ignore[method-assign]
    async with listening(snapshot, redis_url=None, poll_seconds=0.05):
        source.publish(main_version(2))
        await within(WAIT, serves_v2(snapshot))
    assert "could not look for a publish (ConnectionError)" in caplog.text
    assert NEW not in caplog.text  # no wording, no personal data: the error's kind only


class Server:
    """``hotline serve`` in a process of its own, talked to over HTTP like Africa's Talking."""

    def __init__(self, tmp_path: Path, name: str, env: dict[str, str]) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.log = (tmp_path / f"{name}.log").open("wb")
        self.process = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
            [sys.executable, "-m", "bot.cli", "serve", "--port", str(self.port)],
            env={**os.environ, **env, "HOTLINE_SECRETS_FILE": str(tmp_path / "s.json")},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.client = httpx2.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=10)

    def wait_up(self, deadline: float) -> None:
        while True:
            assert self.process.poll() is None, "hotline serve stopped"
            try:
                self.client.get("/healthz")
                return
            except httpx2.TransportError:
                assert time.monotonic() < deadline, "hotline serve not up"
                time.sleep(0.05)

    def first_option(self, session: str, text: str) -> str:
        response = self.client.post(
            f"/ussd/africastalking/{CALLBACK_TOKEN}", data=form(session, text)
        )
        assert response.status_code == 200, response.text
        return next(r for r in response.text.split("\n") if r.startswith("1 ")).removeprefix("1 ")

    def stop(self) -> None:
        self.client.close()
        if self.process.poll() is None:
            self.process.send_signal(subprocess_signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


@pytest.mark.redis
def test_two_processes_serve_a_publish_and_finish_what_they_began(
    tmp_path: Path, sqlite_url: str
) -> None:
    """Two ``hotline serve`` processes on one database: one told through Redis, the other
    polling; each serves the new wording to new conversations (bench/publish_reach.py measures
    how soon), and finishes the conversation it had begun on the old."""
    redis_url = reachable_redis()
    shared = {
        "HOTLINE_DATABASE_URL": sqlite_url,
        "HOTLINE_CALLBACK_TOKEN": CALLBACK_TOKEN,
        "HOTLINE_PSEUDONYM_KEY": PSEUDONYM_KEY,
        "HOTLINE_ENCRYPTION_KEYS": new_key(),
    }
    servers = [
        Server(tmp_path, "told", {**shared, "HOTLINE_REDIS_URL": redis_url}),
        Server(tmp_path, "polling", shared),
    ]
    engine = make_engine(sqlite_url)
    try:
        deadline = time.monotonic() + 120  # two cold starts on a busy machine
        for server in servers:
            server.wait_up(deadline)
        before = {s.port: f"ATUid_{uuid.uuid4().hex}" for s in servers}
        for server in servers:
            assert server.first_option(before[server.port], "1") == OLD_WORDING["en"]
        published = time.monotonic()
        signal.announce(redis_url, write_version(engine, main_version(2)))
        for server in servers:
            while server.first_option(f"ATUid_{uuid.uuid4().hex}", "1") != NEW_WORDING["en"]:
                assert time.monotonic() - published < WAIT, "the publish did not reach a process"
                time.sleep(0.02)
            session = before[server.port]
            server.first_option(session, "1*6")
            assert server.first_option(session, "1*6*4") == OLD_WORDING["st"]
    finally:
        engine.dispose()
        for server in servers:
            server.stop()
    logs = "".join((tmp_path / f"{n}.log").read_text() for n in ("told", "polling"))
    assert len(re.findall(r"content generation \d+: .*main v2", logs)) == 2
