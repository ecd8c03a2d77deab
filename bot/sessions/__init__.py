"""Conversation session storage: Redis in production, in-process when no Redis is configured."""

from __future__ import annotations

from bot.core.privacy import Cipher
from bot.sessions.base import SessionBusy, SessionStore
from bot.sessions.memory import MemorySessionStore
from bot.sessions.redis import RedisSessionStore

__all__ = [
    "MemorySessionStore",
    "RedisSessionStore",
    "SessionBusy",
    "SessionStore",
    "make_store",
]


def make_store(redis_url: str | None, *, cipher: Cipher) -> SessionStore:
    """Pick the backend from configuration: a Redis URL means Redis, None or empty means memory.

    Either keeps sessions and notes sealed with ``cipher`` (the app's encryption keys).
    """
    if redis_url:
        return RedisSessionStore(redis_url, cipher=cipher)
    return MemorySessionStore(cipher=cipher)
