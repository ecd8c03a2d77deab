"""The sign-in throttle: per username and per client address, in the session store."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.auth.throttle import (
    MAX_ADDRESS_FAILURES,
    MAX_FAILURES,
    PREFIX,
    LoginThrottle,
    TooManyFailures,
)
from bot.sessions import MemorySessionStore
from tests.cases.helpers import T0

KEY = b"t" * 32


@pytest.fixture
def throttle() -> LoginThrottle:
    return LoginThrottle(MemorySessionStore(), KEY)


async def fail(
    throttle: LoginThrottle, username: str, address: str | None = None, **at: float
) -> int:
    async with throttle.attempt(username, now=T0 + timedelta(**at), address=address) as attempt:
        return await attempt.failed()


async def succeed(throttle: LoginThrottle, username: str, address: str | None = None) -> None:
    async with throttle.attempt(username, now=T0, address=address) as attempt:
        await attempt.succeeded()


async def test_the_sixth_attempt_is_refused_until_the_first_failure_ages_out(
    throttle: LoginThrottle,
) -> None:
    for n in range(MAX_FAILURES):
        assert await fail(throttle, "amani", seconds=n) == n + 1
    with pytest.raises(TooManyFailures) as refused:
        await succeed(throttle, "amani")
    assert (refused.value.kind, refused.value.retry_after) == ("username", 15 * 60)
    assert str(refused.value) == "too many failed sign-ins; try again in 15 min"
    await succeed(throttle, "lerato")  # the limit is per username
    async with throttle.attempt(
        "amani", now=T0 + timedelta(minutes=15, milliseconds=500)
    ) as attempt:
        assert attempt.count("username") == MAX_FAILURES - 1


async def test_a_success_clears_the_usernames_failures(throttle: LoginThrottle) -> None:
    for _ in range(MAX_FAILURES - 1):
        await fail(throttle, "amani")
    await succeed(throttle, "amani")
    for _ in range(MAX_FAILURES - 1):
        await fail(throttle, "amani")
    await succeed(throttle, "amani")


async def test_one_address_guessing_across_usernames_is_stopped(
    throttle: LoginThrottle,
) -> None:
    address = "198.51.100.7"
    for n in range(MAX_ADDRESS_FAILURES - 1):
        await fail(throttle, f"user{n}", address)
    await succeed(throttle, "amani", address)  # a success does not clear the address
    await fail(throttle, "amani", address)
    with pytest.raises(TooManyFailures) as refused:
        await succeed(throttle, "someone-new", address)
    assert refused.value.kind == "address"
    await succeed(throttle, "someone-new", "203.0.113.9")
    await succeed(throttle, "someone-new")  # no address given: counted per username only


async def test_the_longest_wait_is_given_when_both_are_at_their_limit() -> None:
    throttle = LoginThrottle(MemorySessionStore(), KEY, max_failures=2, max_address_failures=2)
    address = "198.51.100.7"
    await fail(throttle, "other", address, minutes=0)
    await fail(throttle, "amani", address, minutes=5)
    await fail(throttle, "amani", minutes=8)
    with pytest.raises(TooManyFailures) as refused:
        async with throttle.attempt("amani", now=T0 + timedelta(minutes=10), address=address):
            pass
    # the address waits 5 more minutes, the username (oldest failure at 5 min) 10
    assert (refused.value.kind, refused.value.retry_after) == ("username", 10 * 60)


async def test_counters_name_no_username_or_address_in_clear(throttle: LoginThrottle) -> None:
    keys = [c.key for c in throttle.counters("amani", "198.51.100.7")]
    assert len(set(keys)) == 2
    for key in keys:
        assert key.startswith(PREFIX)
        assert "amani" not in key and "198.51" not in key
    other = LoginThrottle(throttle.store, b"o" * 32)
    assert other.store_key("username", "amani") != throttle.store_key("username", "amani")


async def test_parallel_guesses_wait_for_each_other() -> None:
    throttle = LoginThrottle(MemorySessionStore(), KEY, max_failures=1)
    entered = asyncio.Event()

    async def second() -> None:
        await entered.wait()
        async with throttle.attempt("amani", now=T0):
            pass

    async with throttle.attempt("amani", now=T0) as attempt:
        waiting = asyncio.create_task(second())
        entered.set()
        await asyncio.sleep(0.05)
        assert not waiting.done(), "the second guess waits for the first to be counted"
        await attempt.failed()
    with pytest.raises(TooManyFailures):
        await waiting
