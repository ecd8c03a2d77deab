"""The sign-in throttle: per address, per username from an address, and a slow-down per
username that never locks the real person out."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.auth.throttle import (
    MAX_ADDRESS_FAILURES,
    MAX_DELAY,
    MAX_FAILURES,
    PREFIX,
    SLOW_AFTER,
    LoginThrottle,
    TooManyFailures,
    delay,
)
from bot.sessions import MemorySessionStore
from tests.cases.helpers import T0

KEY = b"t" * 32
HERE = "198.51.100.7"
ELSEWHERE = "203.0.113.9"


class Naps:
    """Records how long attempts were slowed instead of sleeping."""

    def __init__(self) -> None:
        self.taken: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.taken.append(seconds)


@pytest.fixture
def naps() -> Naps:
    return Naps()


@pytest.fixture
def throttle(naps: Naps) -> LoginThrottle:
    return LoginThrottle(MemorySessionStore(), KEY, sleep=naps)


async def fail(
    throttle: LoginThrottle, username: str, address: str | None = HERE, **at: float
) -> int:
    async with throttle.attempt(username, now=T0 + timedelta(**at), address=address) as attempt:
        return await attempt.failed()


async def succeed(throttle: LoginThrottle, username: str, address: str | None = HERE) -> None:
    async with throttle.attempt(username, now=T0, address=address) as attempt:
        await attempt.succeeded()


async def test_one_address_guessing_one_username_is_refused_until_the_first_failure_ages_out(
    throttle: LoginThrottle,
) -> None:
    for n in range(MAX_FAILURES):
        assert await fail(throttle, "amani", seconds=n) == n + 1
    with pytest.raises(TooManyFailures) as refused:
        await succeed(throttle, "amani")
    assert (refused.value.kind, refused.value.retry_after) == ("pair", 15 * 60)
    assert str(refused.value) == "too many failed sign-ins; try again in 15 min"
    await succeed(throttle, "lerato")  # another username from the same address
    async with throttle.attempt(
        "amani", now=T0 + timedelta(minutes=15, milliseconds=500), address=HERE
    ) as attempt:
        assert attempt.count("pair") == MAX_FAILURES - 1


async def test_the_real_user_elsewhere_is_slowed_not_locked_out(
    throttle: LoginThrottle, naps: Naps
) -> None:
    for n in range(MAX_FAILURES):
        await fail(throttle, "amani", seconds=n)
    with pytest.raises(TooManyFailures):
        await succeed(throttle, "amani")  # the attacker's address is refused
    await succeed(throttle, "amani", ELSEWHERE)  # the operator at the office gets in
    assert naps.taken == [delay(MAX_FAILURES)]


async def test_guessing_from_many_addresses_gets_slower_and_slower(
    throttle: LoginThrottle, naps: Naps
) -> None:
    for n in range(SLOW_AFTER + 6):
        await fail(throttle, "amani", f"192.0.2.{n}")
    assert naps.taken == [1, 2, 4, 8, 8, 8]
    assert max(naps.taken) == MAX_DELAY
    await succeed(throttle, "amani", ELSEWHERE)  # slowed, and in; the slow-down ends
    await succeed(throttle, "amani", ELSEWHERE)
    assert naps.taken[6:] == [8]


def test_the_delay_doubles_from_the_threshold_up_to_its_ceiling() -> None:
    assert [delay(n) for n in range(SLOW_AFTER)] == [0.0] * SLOW_AFTER
    assert [delay(SLOW_AFTER + n) for n in range(6)] == [1, 2, 4, 8, 8, 8]


async def test_a_success_clears_the_pairs_failures(throttle: LoginThrottle) -> None:
    for _ in range(MAX_FAILURES - 1):
        await fail(throttle, "amani")
    await succeed(throttle, "amani")
    for _ in range(MAX_FAILURES - 1):
        await fail(throttle, "amani")
    await succeed(throttle, "amani")


async def test_one_address_guessing_across_usernames_is_stopped(
    throttle: LoginThrottle,
) -> None:
    for n in range(MAX_ADDRESS_FAILURES - 1):
        await fail(throttle, f"user{n}")
    await succeed(throttle, "amani")  # a success does not clear the address
    await fail(throttle, "amani")
    with pytest.raises(TooManyFailures) as refused:
        await succeed(throttle, "someone-new")
    assert refused.value.kind == "address"
    await succeed(throttle, "someone-new", ELSEWHERE)


async def test_without_an_address_attempts_share_one(throttle: LoginThrottle) -> None:
    for n in range(MAX_ADDRESS_FAILURES):
        await fail(throttle, f"user{n}", None)
    with pytest.raises(TooManyFailures) as refused:
        await succeed(throttle, "amani", None)
    assert refused.value.kind == "address"
    await succeed(throttle, "amani", HERE)


async def test_the_longest_wait_is_given_when_both_are_at_their_limit(naps: Naps) -> None:
    throttle = LoginThrottle(
        MemorySessionStore(), KEY, max_failures=2, max_address_failures=3, sleep=naps
    )
    await fail(throttle, "other", minutes=0)
    await fail(throttle, "amani", minutes=5)
    await fail(throttle, "amani", minutes=8)
    with pytest.raises(TooManyFailures) as refused:
        async with throttle.attempt("amani", now=T0 + timedelta(minutes=10), address=HERE):
            pass
    # the address (oldest failure at 0 min) waits 5 more minutes, the pair (at 5 min) 10
    assert (refused.value.kind, refused.value.retry_after) == ("pair", 10 * 60)


async def test_counters_name_no_username_or_address_in_clear(throttle: LoginThrottle) -> None:
    keys = [c.key for c in throttle.counters("amani", HERE)]
    assert len(set(keys)) == 3
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
        async with throttle.attempt("amani", now=T0, address=HERE):
            pass

    async with throttle.attempt("amani", now=T0, address=HERE) as attempt:
        waiting = asyncio.create_task(second())
        entered.set()
        await asyncio.sleep(0.05)
        assert not waiting.done(), "the second guess waits for the first to be counted"
        await attempt.failed()
    with pytest.raises(TooManyFailures):
        await waiting
