"""Case look-ups by reference per client address: guessing references from one place stops."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from bot.auth import passwords
from bot.auth.lookups import MAX_MISSES, WINDOW, LookupThrottle, TooManyLookups
from bot.sessions import MemorySessionStore
from tests.api import FAST_HASHER, Clock, headers, make_app, new_case, seed_team
from tests.cases.helpers import T0

KEY = b"k" * 32
HERE = "198.51.100.7"  # documentation addresses (RFC 5737)
THERE = "203.0.113.9"


async def miss(throttle: LookupThrottle, address: str | None = HERE, **at: float) -> int:
    async with throttle.lookup(address, now=T0 + timedelta(**at)) as lookup:
        return await lookup.missed()


async def look(throttle: LookupThrottle, address: str | None = HERE, **at: float) -> None:
    async with throttle.lookup(address, now=T0 + timedelta(**at)):
        pass


async def test_misses_from_one_address_are_refused_past_the_limit() -> None:
    throttle = LookupThrottle(MemorySessionStore(), KEY, max_misses=3)
    assert [await miss(throttle, seconds=n) for n in range(3)] == [1, 2, 3]
    with pytest.raises(TooManyLookups) as refused:
        await look(throttle, seconds=10)  # even a reference that exists: no oracle
    assert refused.value.retry_after == int(WINDOW.total_seconds()) - 10
    await look(throttle, THERE, seconds=10)  # another address is not affected
    await look(throttle, None, seconds=10)
    # Once the oldest miss leaves the window, one more look-up is allowed.
    await look(throttle, seconds=WINDOW.total_seconds() + 1)


async def test_found_look_ups_cost_nothing() -> None:
    throttle = LookupThrottle(MemorySessionStore(), KEY, max_misses=2)
    for n in range(50):
        await look(throttle, seconds=n)
    assert await miss(throttle, seconds=60) == 1


async def test_parallel_guesses_do_not_slip_past_the_limit() -> None:
    throttle = LookupThrottle(MemorySessionStore(), KEY, max_misses=5)

    async def guess() -> bool:
        try:
            await miss(throttle)
        except TooManyLookups:
            return False
        return True

    results = await asyncio.gather(*(guess() for _ in range(20)))
    assert results.count(True) == 5


def test_the_counter_names_no_address() -> None:
    store_key = LookupThrottle(MemorySessionStore(), KEY).store_key(HERE)
    assert HERE not in store_key and "198" not in store_key
    assert store_key != LookupThrottle(MemorySessionStore(), KEY).store_key(THERE)


# --- through the API ---------------------------------------------------------------------------


@pytest.fixture
def api(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[FastAPI, TestClient, Clock]]:
    monkeypatch.setattr(passwords, "HASHER", FAST_HASHER)
    app, clock = make_app(database_url, tmp_path)
    with TestClient(app, client=(HERE, 50000)) as client:
        seed_team(app.state.engine)
        yield app, client, clock


def test_guessing_references_from_one_address_gets_429(
    api: tuple[FastAPI, TestClient, Clock], caplog: pytest.LogCaptureFixture
) -> None:
    app, client, clock = api
    engine: Engine = app.state.engine
    real = new_case(engine)
    auth = headers(app, engine, "joseph")  # a supervisor: may read any case
    params = {"reason": "triage"}
    guesses = [f"ZZZZ-{n:02d}" for n in range(MAX_MISSES + 5)]
    codes = [
        client.get(f"/api/cases/{ref}", params=params, headers=auth).status_code for ref in guesses
    ]
    assert codes == [404] * MAX_MISSES + [429] * 5
    refused = client.get(f"/api/cases/{real}", params=params, headers=auth)
    assert refused.status_code == 429, "a real reference too: a refusal tells nothing"
    assert 0 < int(refused.headers["Retry-After"]) <= WINDOW.total_seconds()
    assert "too many misses" in caplog.text and HERE not in caplog.text
    # The same operator from another address is not affected.
    elsewhere = TestClient(app, client=(THERE, 50000))
    assert elsewhere.get(f"/api/cases/{real}", params=params, headers=auth).status_code == 200
    assert elsewhere.get("/api/cases/ZZZZ-99", params=params, headers=auth).status_code == 404
    # Once the window has passed, the first address may look again.
    clock.advance(seconds=WINDOW.total_seconds() + 1)
    assert client.get(f"/api/cases/{real}", params=params, headers=auth).status_code == 200


def test_look_ups_that_find_their_case_are_not_limited(
    api: tuple[FastAPI, TestClient, Clock],
) -> None:
    app, client, _ = api
    engine: Engine = app.state.engine
    real = new_case(engine)
    auth = headers(app, engine, "joseph")
    for _ in range(MAX_MISSES + 5):
        response = client.get(f"/api/cases/{real}", params={"reason": "work"}, headers=auth)
        assert response.status_code == 200, response.text
