"""One Redis connection per loop for every request: commands of a turn leave together, answers
come back to their own callers in order, a lost connection fails its callers and is replaced."""

from __future__ import annotations

import asyncio
import threading
from typing import Any
from uuid import uuid4

import pytest
from redis.asyncio import Redis
from redis.asyncio.connection import parse_url
from redis.exceptions import ConnectionError, NoScriptError, ResponseError

from bot.sessions.pipe import Pipe, _hello, _Link, pack, supports
from tests.conftest import REDIS_URL
from tests.sessions.conftest import open_redis_store


@pytest.fixture
async def pipe() -> Any:
    async with open_redis_store():  # fails (CI) or skips (laptop) without Redis
        pass
    opened = Pipe(REDIS_URL)
    yield opened
    await opened.close()


async def test_commands_of_one_turn_leave_in_one_write(
    pipe: Pipe, monkeypatch: pytest.MonkeyPatch
) -> None:
    await pipe.call(pack(["PING"]))  # connected
    writes: list[int] = []
    real = _Link._flush

    def counted(self: _Link) -> None:
        writes.append(len(self.outgoing))
        real(self)

    monkeypatch.setattr(_Link, "_flush", counted)
    answers = await asyncio.gather(*(pipe.call(pack(["ECHO", f"v{i}"])) for i in range(50)))
    assert answers == [f"v{i}".encode() for i in range(50)]
    assert writes == [50]


async def test_a_caller_that_gave_up_leaves_the_others_their_own_answers(pipe: Pipe) -> None:
    key = f"test:{uuid4().hex}"
    calls = [asyncio.ensure_future(pipe.call(pack(["ECHO", f"v{i}"]))) for i in range(30)]
    await asyncio.sleep(0)  # queued, not yet answered
    for call in calls[::3]:
        call.cancel()
    for i, call in enumerate(calls):
        if i % 3:
            assert await call == f"v{i}".encode()
    assert await pipe.call(pack(["SET", key, "after", "EX", 10])) == b"OK"
    assert await pipe.call(pack(["GET", key])) == b"after"


async def test_errors_reach_only_their_caller(pipe: Pipe) -> None:
    with pytest.raises(NoScriptError):
        await pipe.call(pack(["EVALSHA", "0" * 40, 0]))
    with pytest.raises(ResponseError):
        await pipe.call(pack(["NOSUCHCOMMAND"]))
    assert await pipe.call(pack(["PING"])) == b"PONG"


async def test_a_lost_connection_fails_its_callers_and_the_next_call_connects_again(
    pipe: Pipe,
) -> None:
    first = await pipe.call(pack(["CLIENT", "ID"]))
    waiting = asyncio.ensure_future(pipe.call(pack(["BLPOP", f"test:{uuid4().hex}", 5])))
    await asyncio.sleep(0.1)
    admin = Redis.from_url(REDIS_URL)
    try:
        assert await admin.client_kill_filter(_id=first) == 1  # as a restart would
    finally:
        await admin.aclose()
    with pytest.raises(ConnectionError):
        await waiting
    second = await pipe.call(pack(["CLIENT", "ID"]))
    assert second != first


async def test_an_unreachable_redis_is_a_connection_error() -> None:
    unreachable = Pipe("redis://127.0.0.1:1/0")
    with pytest.raises(ConnectionError):
        await unreachable.call(pack(["PING"]))


async def test_the_urls_database_is_selected(pipe: Pipe) -> None:
    key = f"test:{uuid4().hex}"
    await pipe.call(pack(["SET", key, "here", "EX", 10]))
    admin = Redis.from_url(REDIS_URL)  # the same URL, so the same database
    try:
        assert await admin.get(key) == b"here"
    finally:
        await admin.aclose()


def test_a_new_connection_authenticates_and_selects_as_the_url_says() -> None:
    assert _hello(dict(parse_url("redis://ops:s3cret@redis:6379/3"))) == [
        pack(["AUTH", "ops", "s3cret"]),
        pack(["SELECT", 3]),
    ]
    assert _hello(dict(parse_url("redis://:s3cret@redis/0"))) == [pack(["AUTH", "s3cret"])]
    assert supports("unix:///run/redis.sock") and not supports("rediss://redis:6380/0")


async def test_each_event_loop_has_a_connection_of_its_own(pipe: Pipe) -> None:
    assert await pipe.call(pack(["PING"])) == b"PONG"
    other: list[Any] = []

    async def once() -> Any:
        try:
            return await pipe.call(pack(["ECHO", "other loop"]))
        finally:
            await pipe.close()  # that loop's connection; this one's stays

    def elsewhere() -> None:
        other.append(asyncio.run(once()))

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join(10)
    assert other == [b"other loop"]
    assert await pipe.call(pack(["PING"])) == b"PONG"


async def test_an_answer_out_of_protocol_fails_the_waiting_callers() -> None:
    link = _Link(asyncio.get_running_loop())
    waiting = link.send(pack(["PING"]))
    link.data_received(b"?not redis\r\n")
    with pytest.raises(ConnectionError):
        await waiting
    with pytest.raises(ConnectionError):
        link.send(pack(["PING"]))


async def test_callers_arriving_while_it_connects_share_one_attempt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Redis away behind a silent network: every caller fails after one attempt's wait, not
    each after the one before it."""
    attempts: list[float] = []

    async def silent(self: Pipe, loop: asyncio.AbstractEventLoop) -> _Link:
        attempts.append(loop.time())
        await asyncio.sleep(0.2)  # as a connect that times out
        raise ConnectionError("Timeout connecting to Redis")

    monkeypatch.setattr(Pipe, "_open", silent)
    away = Pipe("redis://192.0.2.1:6379/0")  # TEST-NET-1: never answers
    loop = asyncio.get_running_loop()
    began = loop.time()
    outcomes = await asyncio.gather(
        *(away.call(pack(["PING"])) for _ in range(20)), return_exceptions=True
    )
    assert all(isinstance(outcome, ConnectionError) for outcome in outcomes)
    assert len(attempts) == 1
    assert loop.time() - began < 1.0
    with pytest.raises(ConnectionError):
        await away.call(pack(["PING"]))  # a later call tries again
    assert len(attempts) == 2
