"""Session store interface shared by the in-process and Redis backends."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from contextlib import AbstractAsyncContextManager
from typing import Any


class SessionBusy(Exception):
    """Raised when a session lock is not acquired within `wait`, so the caller can answer busy."""


def check_ttl(ttl: int) -> None:
    """Reject non-positive TTLs up front so both backends fail the same way."""
    if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl <= 0:
        raise ValueError(f"ttl must be a positive int of seconds, got {ttl!r}")


def check_lock_args(timeout: float, wait: float) -> None:
    """Reject lock timings that would make a lock never expire or wait a negative time."""
    if timeout <= 0:
        raise ValueError(f"lock timeout must be > 0 seconds, got {timeout!r}")
    if wait < 0:
        raise ValueError(f"lock wait must be >= 0 seconds, got {wait!r}")


def encode_state(value: dict[str, Any]) -> str:
    """Serialise a session dict to strict JSON so non-JSON values fail identically everywhere."""
    if not isinstance(value, dict):
        raise TypeError(f"session value must be a dict, got {type(value).__name__}")
    # ensure_ascii keeps lone surrogates encodable as UTF-8; allow_nan=False keeps it real JSON.
    return json.dumps(value, ensure_ascii=True, allow_nan=False, separators=(",", ":"))


def decode_state(raw: str | bytes) -> dict[str, Any]:
    """Parse a stored session back into a fresh dict the caller may mutate freely."""
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError(f"stored session is not a JSON object: {type(value).__name__}")
    return value


class SessionStore(ABC):
    """Small async key/value store for conversation state, de-duplication and per-session locks."""

    @abstractmethod
    async def get(self, key: str) -> dict[str, Any] | None:
        """Return a copy of the session stored under `key`, or None if missing or expired."""

    @abstractmethod
    async def set(self, key: str, value: dict[str, Any], ttl: int) -> None:
        """Store a JSON-serialisable session for `ttl` seconds, replacing any previous value."""

    @abstractmethod
    async def delete(self, key: str) -> None:
        """Forget the session under `key`; deleting a missing key is not an error."""

    @abstractmethod
    async def add_once(self, key: str, ttl: int) -> bool:
        """True the first time `key` is seen within `ttl` seconds, to drop provider retries."""

    @abstractmethod
    async def forget(self, key: str) -> None:
        """Undo `add_once`: the work for `key` failed, so its retry must be let through."""

    @abstractmethod
    def lock(
        self, key: str, *, timeout: float = 10.0, wait: float = 5.0
    ) -> AbstractAsyncContextManager[None]:
        """Serialise one session's requests; SessionBusy after `wait`, expiry after `timeout`."""

    @abstractmethod
    async def ping(self) -> bool:
        """Return True when the backend is usable, for health checks."""

    @abstractmethod
    async def close(self) -> None:
        """Release the backend's resources at shutdown."""
