"""In-process session store: the embedded default that needs no services."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from bot.core.privacy import Cipher
from bot.sessions.base import (
    KEEP_TTL,
    Held,
    Sealer,
    SessionBusy,
    SessionStore,
    check_lock_args,
    check_note,
    check_ttl,
    encode_state,
)

logger = logging.getLogger(__name__)


@dataclass(eq=False)
class _KeyLock:
    """State of one session lock: current owner token, its expiry and how many tasks use it."""

    owner: object | None = None
    expires_at: float = 0.0
    users: int = 0
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def wake_waiters(self) -> None:
        """Wake every waiter once and arm a fresh event for the next release."""
        self.released.set()
        self.released = asyncio.Event()


class MemorySessionStore(SessionStore):
    """Dict-backed store with lazy expiry, periodic sweeping and expiring per-key asyncio locks.

    Sessions and notes are kept sealed (``Sealer``) exactly as the Redis store keeps them.
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        *,
        sweep_every: int = 1000,
        cipher: Cipher | None = None,
    ) -> None:
        """Use `clock` for data TTLs (injectable in tests); sweep every `sweep_every` writes;
        seal with ``cipher`` (the app's keys), or with a random key of this store's own."""
        if sweep_every <= 0:
            raise ValueError(f"sweep_every must be > 0, got {sweep_every!r}")
        self._sealer = Sealer(cipher)
        self._clock = clock
        self._sweep_every = sweep_every
        self._writes = 0
        self._sessions: dict[str, tuple[float, str]] = {}
        self._seen: dict[str, float] = {}
        self._notes: dict[str, tuple[float, str]] = {}
        self._locks: dict[str, _KeyLock] = {}

    async def get(self, key: str) -> dict[str, Any] | None:
        """Return a fresh copy of the live session under `key`, dropping it if expired."""
        entry = self._sessions.get(key)
        if entry is None:
            return None
        expires_at, raw = entry
        if expires_at <= self._clock():
            del self._sessions[key]
            return None
        return self._sealer.open_state(key, raw)

    async def set(self, key: str, value: dict[str, Any], ttl: int) -> None:
        """Store a JSON copy of `value` for `ttl` seconds; non-JSON values raise before storing."""
        check_ttl(ttl)
        raw = encode_state(value)
        self._sessions[key] = (self._clock() + ttl, self._sealer.seal_state(key, raw))
        self._wrote()

    async def delete(self, key: str) -> None:
        """Forget the session under `key` if present."""
        self._sessions.pop(key, None)

    async def add_once(self, key: str, ttl: int) -> bool:
        """Record `key` for `ttl` seconds; True only if it was not already recorded and live."""
        check_ttl(ttl)
        now = self._clock()
        expires_at = self._seen.get(key)
        if expires_at is not None and expires_at > now:
            return False
        self._seen[key] = now + ttl
        self._wrote()
        return True

    async def forget(self, key: str) -> None:
        """Drop a recorded `key` so the next `add_once` for it is True again."""
        self._seen.pop(key, None)

    async def recall(self, key: str) -> str | None:
        """The live note under `key`, dropping it if expired."""
        entry = self._notes.get(key)
        if entry is None:
            return None
        expires_at, value = entry
        if expires_at <= self._clock():
            del self._notes[key]
            return None
        return self._sealer.open_note(key, value)

    async def remember(self, key: str, value: str, ttl: int) -> None:
        """Keep `value` under `key` for `ttl` seconds."""
        check_ttl(ttl)
        check_note(value)
        self._notes[key] = (self._clock() + ttl, self._sealer.seal_note(key, value))
        self._wrote()

    async def rewrite(self, key: str, value: str) -> None:
        """Replace the live note under `key`, keeping its expiry; nothing if none."""
        check_note(value)
        entry = self._notes.get(key)
        if entry is not None and entry[0] > self._clock():
            self._notes[key] = (entry[0], self._sealer.seal_note(key, value))

    def lock(
        self, key: str, *, timeout: float = 10.0, wait: float = 5.0
    ) -> AbstractAsyncContextManager[None]:
        """Hold the per-session lock; SessionBusy after `wait` s, auto-expiry after `timeout` s."""
        check_lock_args(timeout, wait)
        return self._locked(key, timeout, wait)

    @asynccontextmanager
    async def _hold(
        self, key: str, recall: tuple[str, ...], timeout: float, wait: float
    ) -> AsyncIterator[Held]:
        """Lock, read, and write the staged JSON (sealed, no second encoding) before unlocking."""
        async with self._locked(key, timeout, wait):
            held = Held(await self.get(key), {note: await self.recall(note) for note in recall})
            yield held
            if held.write is not None:
                raw, ttl = held.write
                if raw is None:
                    self._sessions.pop(key, None)
                else:
                    self._sessions[key] = (self._clock() + ttl, self._sealer.seal_state(key, raw))
                    self._wrote()
            for note, (value, ttl) in held.remembered.items():
                if ttl == KEEP_TTL:
                    await self.rewrite(note, value)
                else:
                    await self.remember(note, value, ttl)

    async def ping(self) -> bool:
        """Always usable: nothing external to reach."""
        return True

    async def close(self) -> None:
        """Drop all stored sessions, seen-ids and notes; the process is going away."""
        self._sessions.clear()
        self._seen.clear()
        self._notes.clear()

    def live_keys(self) -> list[str]:
        """Keys of the sessions not expired (the sessions-active gauge counts them)."""
        now = self._clock()
        return [key for key, (expires_at, _) in self._sessions.items() if expires_at > now]

    def sweep(self) -> int:
        """Remove expired sessions, seen-ids and notes so abandoned ones do not pile up."""
        now = self._clock()
        dead_sessions = [k for k, (exp, _) in self._sessions.items() if exp <= now]
        for k in dead_sessions:
            del self._sessions[k]
        dead_seen = [k for k, exp in self._seen.items() if exp <= now]
        for k in dead_seen:
            del self._seen[k]
        dead_notes = [k for k, (exp, _) in self._notes.items() if exp <= now]
        for k in dead_notes:
            del self._notes[k]
        return len(dead_sessions) + len(dead_seen) + len(dead_notes)

    def _wrote(self) -> None:
        """Count a write and sweep every `sweep_every` writes to bound memory."""
        self._writes += 1
        if self._writes >= self._sweep_every:
            self._writes = 0
            self.sweep()

    @asynccontextmanager
    async def _locked(self, key: str, timeout: float, wait: float) -> AsyncIterator[None]:
        """Acquire, yield and release one session lock, discarding its state once unused."""
        state = self._locks.get(key)
        if state is None:
            state = self._locks[key] = _KeyLock()
        state.users += 1
        try:
            token = await self._acquire(state, key, timeout, wait)
            try:
                yield
            finally:
                self._release(state, key, token)
        finally:
            state.users -= 1
            if state.users == 0 and self._locks.get(key) is state:
                del self._locks[key]

    async def _acquire(self, state: _KeyLock, key: str, timeout: float, wait: float) -> object:
        """Wait until the lock is free or expired (real loop time), or raise SessionBusy."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while True:
            now = loop.time()
            if state.owner is None or state.expires_at <= now:
                token = object()
                state.owner = token
                state.expires_at = now + timeout
                return token
            if now >= deadline:
                raise SessionBusy(key)
            released = state.released
            try:
                async with asyncio.timeout(min(deadline, state.expires_at) - now):
                    await released.wait()
            except TimeoutError:
                pass

    def _release(self, state: _KeyLock, key: str, token: object) -> None:
        """Release only if still ours and unexpired; otherwise warn like the Redis backend."""
        now = asyncio.get_running_loop().time()
        if state.owner is token and state.expires_at > now:
            state.owner = None
            state.wake_waiters()
            return
        if state.owner is token:
            state.owner = None  # expired but nobody took it: free it for waiters
            state.wake_waiters()
        logger.warning("session lock %r expired before release", key)
