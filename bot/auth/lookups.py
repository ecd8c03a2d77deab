"""Case look-ups by reference from the operator API, limited per client address.

Guessing references through ``GET /api/cases/{ref}`` would tell, by 404 or not, which ones
exist. Each unknown reference counts as a miss against the client's address; past
``MAX_MISSES`` in ``WINDOW`` every look-up from that address is refused (``TooManyLookups``),
found or not, until the oldest miss leaves the window (so a refusal says nothing about the
reference). Other addresses are not affected; a look-up that finds its case costs nothing.

Counters live in the session store (Redis in production, shared by every worker) under a keyed
hash of the address (no address is stored in clear). A look-up holds its address's lock from
the check to the record, so parallel guesses cannot slip past the limit. A look-up without an
address (no client known) counts under one shared address.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.sessions.base import SessionStore

MAX_MISSES = 30
"""Unknown references looked up from one address in ``WINDOW`` (a shared office is one)."""
WINDOW = timedelta(minutes=15)
LOCK_WAIT = 3.0
"""Seconds a look-up waits for another from the same address before the store says busy."""
PREFIX = "api:lookup-misses:"
NO_ADDRESS = "-"


class TooManyLookups(Exception):
    """Too many unknown references looked up from one address; ``retry_after`` in seconds."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(
            f"too many unknown case references; try again in {math.ceil(retry_after / 60)} min"
        )


@dataclass
class Lookup:
    """One look-up under the limit: call ``missed`` when its reference names no case."""

    store: SessionStore
    key: str
    stamp: float
    window: int
    misses: list[float] = field(default_factory=list)

    async def missed(self) -> int:
        """Count this miss against the address; its misses in the window."""
        self.misses = [*self.misses, self.stamp][-(MAX_MISSES * 2) :]
        await self.store.set(self.key, {"at": self.misses}, ttl=self.window)
        return len(self.misses)


@dataclass(frozen=True)
class LookupThrottle:
    """Unknown case references per client address; ``key`` keys the hash naming the counter."""

    store: SessionStore
    key: bytes
    max_misses: int = MAX_MISSES
    window: timedelta = WINDOW

    def store_key(self, address: str | None) -> str:
        """The store key counting an address's misses (a keyed hash of it)."""
        where = (address or NO_ADDRESS).encode()
        name = hmac.new(self.key, b"case-lookup-address:" + where, hashlib.sha256)
        return PREFIX + name.hexdigest()[:32]

    @asynccontextmanager
    async def lookup(self, address: str | None, *, now: datetime) -> AsyncIterator[Lookup]:
        """Lock the address's counter and refuse (TooManyLookups) when it is at its limit.

        SessionBusy when the counter stays locked too long (another look-up is still running).
        """
        window = int(self.window.total_seconds())
        stamp = now.timestamp()
        key = self.store_key(address)
        async with self.store.lock(key, timeout=30.0, wait=LOCK_WAIT):
            state = await self.store.get(key) or {}
            recent = [float(t) for t in state.get("at", []) if float(t) > stamp - window]
            if len(recent) >= self.max_misses:
                raise TooManyLookups(max(1, math.ceil(min(recent) + window - stamp)))
            yield Lookup(self.store, key, stamp, window, recent)
