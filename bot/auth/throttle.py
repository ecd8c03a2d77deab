"""The sign-in throttle: failures counted per client address, per (username, address), and per
username — the last one slows guessing down instead of locking the real person out.

- **Per address** (``MAX_ADDRESS_FAILURES`` in ``WINDOW``): one machine spraying many
  usernames is refused (``TooManyFailures``, kind ``address``).
- **Per username from one address** (``MAX_FAILURES`` in ``WINDOW``): guessing one person's
  password from one place is refused (kind ``pair``), even with the right password, until the
  oldest failure leaves the window. The same person signing in from elsewhere is not.
- **Per username, from anywhere**: past ``SLOW_AFTER`` failures in the window, each attempt
  for that username waits ``delay`` (doubling, at most ``MAX_DELAY``) before its password is
  checked. Guessing from many addresses gets slow; the real operator still gets in.

A success clears the username's and the pair's failures, never the address's (one good
account must not reset a spray). An attempt without an address (no client known) counts
under one shared address.

Counters live in the session store (Redis in production, shared by every worker) under a keyed
hash of what they count: any text a person typed is safe as a key, and no username or address
is stored in clear. Each attempt holds the address's and the pair's locks from the check to the
record, so parallel guesses cannot slip past those limits; the username counter only slows
down, and is read and written without its lock (a race there under-counts a little, no more).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from bot.sessions.base import SessionStore

MAX_FAILURES = 5
"""Failed sign-ins per username from one address in ``WINDOW``."""
MAX_ADDRESS_FAILURES = 20
"""Failed sign-ins per client address in ``WINDOW`` (a shared office connects from one)."""
SLOW_AFTER = 5
"""Failures of a username (from anywhere) in ``WINDOW`` before its attempts are slowed."""
MAX_DELAY = 8.0
"""Seconds, at most, an attempt on a much-guessed username waits."""
WINDOW = timedelta(minutes=15)
LOCK_WAIT = 3.0
"""Seconds an attempt waits for another on the same counters before the store says busy."""
PREFIX = "api:login-failures:"
"""Store key prefix (kept from the API's first throttle so counts survive an upgrade)."""
KEEP = 64
"""Failure times kept per counter (the limits and the longest delay are reached well before)."""
NO_ADDRESS = "-"
"""The address counted when the client's is not known."""

Kind = Literal["username", "address", "pair"]
_PURPOSE: dict[Kind, bytes] = {
    "username": b"login:",
    "address": b"login-address:",
    "pair": b"login-pair:",
}


class TooManyFailures(Exception):
    """Too many failed sign-ins from an address, or for a username from it; ``retry_after``
    in seconds."""

    def __init__(self, kind: Kind, retry_after: int) -> None:
        self.kind = kind
        self.retry_after = retry_after
        super().__init__(
            f"too many failed sign-ins; try again in {math.ceil(retry_after / 60)} min"
        )


def delay(failures: int, *, slow_after: int = SLOW_AFTER, most: float = MAX_DELAY) -> float:
    """Seconds an attempt waits when its username has ``failures`` in the window."""
    if failures < slow_after:
        return 0.0
    return float(min(most, 2 ** (failures - slow_after)))


@dataclass(frozen=True)
class Counter:
    """One thing whose failures are counted: its kind, store key and limit (None: slows only)."""

    kind: Kind
    key: str
    limit: int | None


@dataclass
class Attempt:
    """One sign-in attempt under the throttle: record how it ended with ``failed``/``succeeded``."""

    store: SessionStore
    counters: Sequence[Counter]
    stamp: float
    window: int
    failures: dict[str, list[float]] = field(default_factory=dict)
    waited: float = 0.0
    """Seconds this attempt was slowed down by."""

    async def failed(self) -> int:
        """Count this failure against each counter; the username's failures in the window."""
        for counter in self.counters:
            stamps = [*self.failures.get(counter.key, []), self.stamp][-KEEP:]
            self.failures[counter.key] = stamps
            await self.store.set(counter.key, {"at": stamps}, ttl=self.window)
        return self.count("username")

    async def succeeded(self) -> None:
        """Forget the username's and the pair's failures (the address keeps its count)."""
        for counter in self.counters:
            if counter.kind != "address" and self.failures.get(counter.key):
                await self.store.delete(counter.key)
                self.failures[counter.key] = []

    def count(self, kind: Kind) -> int:
        """Failures of the counter of ``kind`` in the window, this attempt's included once
        recorded (0 when the attempt has no such counter)."""
        return sum(len(self.failures.get(c.key, [])) for c in self.counters if c.kind == kind)


@dataclass(frozen=True)
class LoginThrottle:
    """Failed sign-ins per address, per username from an address, and per username.

    ``key`` keys the hashes that name the counters (``bot.auth.tokens.token_key`` does);
    ``sleep`` is how an attempt is slowed down (tests record it instead).
    """

    store: SessionStore
    key: bytes
    max_failures: int = MAX_FAILURES
    max_address_failures: int = MAX_ADDRESS_FAILURES
    slow_after: int = SLOW_AFTER
    max_delay: float = MAX_DELAY
    window: timedelta = WINDOW
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    def store_key(self, kind: Kind, value: str) -> str:
        """The store key counting ``value``'s failures (a keyed hash: any typed text is safe)."""
        name = hmac.new(self.key, _PURPOSE[kind] + value.encode(), hashlib.sha256)
        return PREFIX + name.hexdigest()[:32]

    def counters(self, username: str, address: str | None = None) -> list[Counter]:
        """What an attempt for ``username`` from ``address`` is counted against."""
        where = address or NO_ADDRESS
        return [
            Counter("address", self.store_key("address", where), self.max_address_failures),
            Counter("pair", self.store_key("pair", f"{where}\n{username}"), self.max_failures),
            Counter("username", self.store_key("username", username), None),
        ]

    @asynccontextmanager
    async def attempt(
        self, username: str, *, now: datetime, address: str | None = None
    ) -> AsyncIterator[Attempt]:
        """Lock the attempt's address and pair counters, refuse it (TooManyFailures) when one is
        at its limit, and slow it down when its username has been guessed at too often.

        SessionBusy when a counter stays locked too long (another attempt is still running).
        """
        window = int(self.window.total_seconds())
        stamp = now.timestamp()
        counters = self.counters(username, address)
        attempt = Attempt(self.store, counters, stamp, window)
        locked = sorted((c for c in counters if c.limit is not None), key=lambda c: c.key)
        async with AsyncExitStack() as stack:
            for counter in locked:  # a fixed order: two attempts never wait on each other
                await stack.enter_async_context(
                    self.store.lock(counter.key, timeout=30.0, wait=LOCK_WAIT)
                )
            refused: list[TooManyFailures] = []
            for counter in counters:
                state = await self.store.get(counter.key) or {}
                recent = [float(t) for t in state.get("at", []) if float(t) > stamp - window]
                attempt.failures[counter.key] = recent
                if counter.limit is not None and len(recent) >= counter.limit:
                    wait = max(1, math.ceil(min(recent) + window - stamp))
                    refused.append(TooManyFailures(counter.kind, wait))
            if refused:
                raise max(refused, key=lambda r: r.retry_after)
            slowed = delay(
                attempt.count("username"), slow_after=self.slow_after, most=self.max_delay
            )
            if slowed:
                attempt.waited = slowed
                await self.sleep(slowed)
            yield attempt
