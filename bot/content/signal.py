"""A publish reaches every process: announced through Redis, or seen by polling a counter.

``announce`` is called once a publish (or rollback) has committed: it wakes this process's
listener at once and, with Redis (``HOTLINE_REDIS_URL``), publishes on a pub/sub channel every
app process listens on. ``follow`` is each app process's listener: on a message (with Redis; and
every 30 s, in case one was missed while disconnected) or every ``content_poll_seconds`` (without
Redis) it asks the snapshot to refresh, which reads the ``content_signal`` counter (one cheap
query) and loads the published set only when the counter moved on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading

import redis
import redis.asyncio

from bot.content.snapshot import Snapshot

log = logging.getLogger(__name__)

CHANNEL = "hotline:content"
"""The Redis pub/sub channel a publish is announced on."""

CHECK_SECONDS = 30.0
"""With Redis: seconds between two looks at the counter even when nothing was announced."""

RETRY_SECONDS = 2.0
"""Seconds before listening again after Redis or the database failed."""

_woken: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
_woken_lock = threading.Lock()


def announce(redis_url: str | None, generation: int) -> None:
    """Tell every app process content was published (after the publish committed).

    Blocking (a Redis ``PUBLISH``), callable from any thread; a Redis that does not answer is
    logged and otherwise ignored: processes see the publish at their next look at the counter.
    """
    with _woken_lock:
        listeners = list(_woken)
    for loop, event in listeners:
        with contextlib.suppress(RuntimeError):  # a loop that has closed
            loop.call_soon_threadsafe(event.set)
    if not redis_url:
        return
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=2.0, socket_timeout=2.0)
    try:
        client.publish(CHANNEL, str(generation))
    except (redis.RedisError, OSError) as exc:
        log.warning(
            "publish %d not announced through Redis (%s): seen at the next look",
            generation,
            type(exc).__name__,
        )
    finally:
        client.close()


async def follow(snapshot: Snapshot, *, redis_url: str | None, poll_seconds: float) -> None:
    """Keep the snapshot on the published content, for as long as the process runs."""
    event = asyncio.Event()
    entry = (asyncio.get_running_loop(), event)
    with _woken_lock:
        _woken.add(entry)
    try:
        if redis_url:
            await _listen(snapshot, redis_url)  # this process's announcement comes back too
        else:
            await _poll(snapshot, event, poll_seconds)
    finally:
        with _woken_lock:
            _woken.discard(entry)


async def first_look(snapshot: Snapshot) -> None:
    """Serve what was published before this process started (the files' content if the
    database does not answer: the listener looks again)."""
    await _refresh(snapshot)


async def _refresh(snapshot: Snapshot) -> None:
    """Refresh, a failure logged (the database away): the next look tries again."""
    try:
        await snapshot.refresh()
    except Exception as exc:  # the listener must outlive a database outage
        log.warning("could not look for a publish (%s); trying again", type(exc).__name__)


async def _poll(snapshot: Snapshot, event: asyncio.Event, seconds: float) -> None:
    while True:
        await _refresh(snapshot)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)
        event.clear()


async def _listen(snapshot: Snapshot, url: str) -> None:
    client = redis.asyncio.Redis.from_url(url, socket_connect_timeout=2.0, health_check_interval=30)
    try:
        while True:
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    while True:
                        await _refresh(snapshot)  # also what was published while not listening
                        await pubsub.get_message(
                            ignore_subscribe_messages=True, timeout=CHECK_SECONDS
                        )
            except (redis.RedisError, OSError) as exc:
                log.warning(
                    "content signal: Redis failed (%s); listening again", type(exc).__name__
                )
                await asyncio.sleep(RETRY_SECONDS)
    finally:
        await client.aclose()
