"""The sign-in throttle: failed attempts counted per username and per client address.

At most ``MAX_FAILURES`` failures per username in ``WINDOW``; then every attempt for that
username is refused, even with the right password, until the oldest failure leaves the window.
A client address (given by the team web, which knows it) has a higher limit of its own,
``MAX_ADDRESS_FAILURES``, against one machine guessing across many usernames. A success clears
the username's failures, never the address's (one good account must not reset a spray).

Counters live in the session store (Redis in production, shared by every worker) under a keyed
hash of what they count: any text a person typed is safe as a key, and no username or address
is stored in clear. Each attempt holds the counters' locks from the check to the record, so
parallel guesses cannot slip past the limit.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from bot.sessions.base import SessionStore

MAX_FAILURES = 5
"""Failed sign-ins per username in ``WINDOW``."""
MAX_ADDRESS_FAILURES = 20
"""Failed sign-ins per client address in ``WINDOW`` (a shared office connects from one)."""
WINDOW = timedelta(minutes=15)
PREFIX = "api:login-failures:"
"""Store key prefix (kept from the API's first throttle so counts survive an upgrade)."""

Kind = Literal["username", "address"]
_PURPOSE: dict[Kind, bytes] = {"username": b"login:", "address": b"login-address:"}


class TooManyFailures(Exception):
    """Too many failed sign-ins for a username or an address; ``retry_after`` in seconds."""

    def __init__(self, kind: Kind, retry_after: int) -> None:
        self.kind = kind
        self.retry_after = retry_after
        super().__init__(
            f"too many failed sign-ins; try again in {math.ceil(retry_after / 60)} min"
        )


@dataclass(frozen=True)
class Counter:
    """One thing whose failures are counted: its kind, store key and limit."""

    kind: Kind
    key: str
    limit: int


@dataclass
class Attempt:
    """One sign-in attempt under the throttle: record how it ended with ``failed``/``succeeded``."""

    store: SessionStore
    counters: Sequence[Counter]
    stamp: float
    window: int
    failures: dict[str, list[float]] = field(default_factory=dict)

    async def failed(self) -> int:
        """Count this failure against each counter; the username's failures in the window."""
        for counter in self.counters:
            stamps = [*self.failures.get(counter.key, []), self.stamp]
            self.failures[counter.key] = stamps
            await self.store.set(counter.key, {"at": stamps}, ttl=self.window)
        return self.count("username")

    async def succeeded(self) -> None:
        """Forget the username's failures (the address keeps its count)."""
        for counter in self.counters:
            if counter.kind == "username" and self.failures.get(counter.key):
                await self.store.delete(counter.key)
                self.failures[counter.key] = []

    def count(self, kind: Kind) -> int:
        """Failures of the counter of ``kind`` in the window, this attempt's included once
        recorded (0 when the attempt has no such counter)."""
        return sum(len(self.failures.get(c.key, [])) for c in self.counters if c.kind == kind)


@dataclass(frozen=True)
class LoginThrottle:
    """Failed sign-ins per username and per client address, in the session store.

    ``key`` keys the hashes that name the counters (``bot.auth.tokens.token_key`` does).
    """

    store: SessionStore
    key: bytes
    max_failures: int = MAX_FAILURES
    max_address_failures: int = MAX_ADDRESS_FAILURES
    window: timedelta = WINDOW

    def store_key(self, kind: Kind, value: str) -> str:
        """The store key counting ``value``'s failures (a keyed hash: any typed text is safe)."""
        name = hmac.new(self.key, _PURPOSE[kind] + value.encode(), hashlib.sha256)
        return PREFIX + name.hexdigest()[:32]

    def counters(self, username: str, address: str | None = None) -> list[Counter]:
        """What an attempt for ``username`` (from ``address``, when known) is counted against."""
        found = [Counter("username", self.store_key("username", username), self.max_failures)]
        if address:
            found.append(
                Counter("address", self.store_key("address", address), self.max_address_failures)
            )
        return found

    @asynccontextmanager
    async def attempt(
        self, username: str, *, now: datetime, address: str | None = None
    ) -> AsyncIterator[Attempt]:
        """Lock the attempt's counters and refuse it (TooManyFailures) when one is at its limit.

        SessionBusy when a counter stays locked too long (another attempt is still running).
        """
        window = int(self.window.total_seconds())
        stamp = now.timestamp()
        counters = sorted(self.counters(username, address), key=lambda c: c.key)
        attempt = Attempt(self.store, counters, stamp, window)
        async with AsyncExitStack() as stack:
            for counter in counters:  # a fixed order: two attempts never wait on each other
                await stack.enter_async_context(
                    self.store.lock(counter.key, timeout=30.0, wait=10.0)
                )
            refused: list[TooManyFailures] = []
            for counter in counters:
                state = await self.store.get(counter.key) or {}
                recent = [float(t) for t in state.get("at", []) if float(t) > stamp - window]
                attempt.failures[counter.key] = recent
                if len(recent) >= counter.limit:
                    wait = max(1, math.ceil(min(recent) + window - stamp))
                    refused.append(TooManyFailures(counter.kind, wait))
            if refused:
                raise max(refused, key=lambda r: r.retry_after)
            yield attempt
