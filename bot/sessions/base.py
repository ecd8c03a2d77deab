"""Session store interface shared by the in-process and Redis backends."""

from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from bot.core.privacy import Cipher, DecryptError, new_key

logger = logging.getLogger(__name__)

STATE_CONTEXT = "session.state"
"""Associated data of a sealed session (with its key): a value opens only where it was put."""
NOTE_CONTEXT = "session.note"
"""Associated data of a sealed note (with its key)."""
KEEP_TTL = -1
"""The TTL of a staged note write that keeps the expiry the note has (and writes nothing when
the note has gone): a note's life runs from when it was chosen, not from each use."""


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


def check_note(value: str) -> None:
    """Notes are short text (a language code): anything else is a programming error."""
    if not isinstance(value, str):
        raise TypeError(f"a note is a str, got {type(value).__name__}")


class Sealer:
    """What a store keeps is sealed: sessions and notes are encrypted with the app's keys
    (AES-256-GCM, ``bot.core.privacy.Cipher``: the newest key seals, every key opens, so a
    ``hotline keys rotate`` leaves sessions readable), bound to their kind and key, so nothing
    a person typed, chose or was shown sits in clear in Redis or in memory, and a value copied
    to another key, or altered, is refused (read as missing: the conversation starts again).

    Without a cipher (a store used in one process only, e.g. in tests or the simulator) a
    random key of its own seals; the in-process store seals all the same.
    """

    def __init__(self, cipher: Cipher | None = None) -> None:
        self.cipher = cipher if cipher is not None else Cipher((new_key(),))

    def seal(self, context: str, key: str, text: str) -> str:
        """Encrypt ``text`` (JSON or a note) to be stored under ``key``."""
        return self.cipher.encrypt(text, f"{context}:{key}")

    def open(self, context: str, key: str, token: str | bytes) -> str | None:
        """Decrypt what is stored under ``key``; None (and a warning) when no key opens it or
        it was altered or moved. The key is a pseudonym or a hash, so it is safe to log."""
        try:
            text = token.decode() if isinstance(token, bytes) else token
            return self.cipher.decrypt(text, f"{context}:{key}")
        except (DecryptError, UnicodeDecodeError, ValueError) as exc:
            logger.warning("stored %s under %r refused (%s); read as missing", context, key, exc)
            return None

    def seal_state(self, key: str, raw: str) -> str:
        """A session's JSON, sealed for ``key``."""
        return self.seal(STATE_CONTEXT, key, raw)

    def open_state(self, key: str, token: str | bytes) -> dict[str, Any] | None:
        """A stored session as a fresh dict, or None when refused."""
        raw = self.open(STATE_CONTEXT, key, token)
        if raw is None:
            return None
        try:
            return decode_state(raw)
        except ValueError:
            logger.warning("stored session under %r is not a JSON object; read as missing", key)
            return None

    def seal_note(self, key: str, value: str) -> str:
        """A note, sealed for ``key``."""
        return self.seal(NOTE_CONTEXT, key, value)

    def open_note(self, key: str, token: str | bytes) -> str | None:
        """A stored note, or None when refused."""
        return self.open(NOTE_CONTEXT, key, token)


@dataclass
class Held:
    """One session held under its lock: what was stored when the lock was taken, and the writes
    to make when it is let go.

    Writes are staged and happen together with the unlock, and only when the body of ``hold``
    finished without an exception, so one request costs the backend two round trips.
    """

    value: dict[str, Any] | None
    """The session stored under the key when the lock was taken (a copy), or None."""
    notes: dict[str, str | None] = field(default_factory=dict)
    """The notes asked for with ``recall=``, by key (None when there is none)."""
    write: tuple[str | None, int] | None = None
    """Staged session write: (JSON, ttl), or (None, 0) to delete; None leaves it as it is."""
    remembered: dict[str, tuple[str, int]] = field(default_factory=dict)
    """Staged notes: key -> (value, ttl), ttl ``KEEP_TTL`` to keep the note's expiry."""

    def save(self, value: dict[str, Any], ttl: int) -> None:
        """Store ``value`` for ``ttl`` seconds on release (encoded now: non-JSON raises here)."""
        check_ttl(ttl)
        self.write = (encode_state(value), ttl)

    def delete(self) -> None:
        """Forget the session on release."""
        self.write = (None, 0)

    def remember(self, key: str, value: str, ttl: int) -> None:
        """Keep a note (see ``SessionStore.remember``) on release."""
        check_ttl(ttl)
        check_note(value)
        self.remembered[key] = (value, ttl)

    def rewrite(self, key: str, value: str) -> None:
        """Replace a note's value on release, keeping when it expires (nothing if it has gone)."""
        check_note(value)
        self.remembered[key] = (value, KEEP_TTL)


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
    async def recall(self, key: str) -> str | None:
        """The note kept under ``key`` (e.g. a contact's language), or None if none or expired.

        Notes live apart from sessions and seen-ids, for much longer (days): their keys must
        be derived from pseudonyms, never from an address in clear.
        """

    @abstractmethod
    async def remember(self, key: str, value: str, ttl: int) -> None:
        """Keep a short text note under ``key`` for ``ttl`` seconds, replacing any earlier."""

    @abstractmethod
    async def rewrite(self, key: str, value: str) -> None:
        """Replace the value of the note under ``key``, keeping its expiry; nothing if none."""

    def hold(
        self,
        key: str,
        *,
        recall: Sequence[str] = (),
        timeout: float = 10.0,
        wait: float = 5.0,
    ) -> AbstractAsyncContextManager[Held]:
        """Lock a session, read it (and the notes in ``recall``), and write what the body staged
        on ``Held`` as the lock is let go; nothing is written when the body raises.

        Same lock as ``lock`` (SessionBusy after ``wait``, expiry after ``timeout``); a backend
        may do the lock and the reads in one round trip, and the writes and the unlock in one.
        """
        check_lock_args(timeout, wait)
        return self._hold(key, tuple(recall), timeout, wait)

    def _hold(
        self, key: str, recall: tuple[str, ...], timeout: float, wait: float
    ) -> AbstractAsyncContextManager[Held]:
        """What ``hold`` returns: by default ``_composed``; a backend may do better."""
        return self._composed(key, recall, timeout, wait)

    @asynccontextmanager
    async def _composed(
        self, key: str, recall: tuple[str, ...], timeout: float, wait: float
    ) -> AsyncIterator[Held]:
        """The plain composition of lock, get, recall, set/delete and remember."""
        async with self.lock(key, timeout=timeout, wait=wait):
            held = Held(await self.get(key), {note: await self.recall(note) for note in recall})
            yield held
            if held.write is not None:
                raw, ttl = held.write
                if raw is None:
                    await self.delete(key)
                else:
                    await self.set(key, decode_state(raw), ttl)
            for note, (value, ttl) in held.remembered.items():
                if ttl == KEEP_TTL:
                    await self.rewrite(note, value)
                else:
                    await self.remember(note, value, ttl)

    @abstractmethod
    async def ping(self) -> bool:
        """Return True when the backend is usable, for health checks."""

    @abstractmethod
    async def close(self) -> None:
        """Release the backend's resources at shutdown."""
