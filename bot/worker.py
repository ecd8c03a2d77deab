"""Deliver the outbox: inside ``hotline serve`` without Redis, as arq jobs on Redis with it.

Either way the same code claims due messages (compare-and-set, see ``bot.outbox``), sends them
off the event loop and records the outcome. On Redis a request enqueues ``deliver`` for a new
message at once, and a ``sweep`` every few seconds picks up retries and anything missed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Protocol

from arq import ArqRedis, create_pool, cron
from arq.connections import RedisSettings
from arq.worker import Worker
from sqlalchemy.engine import Engine

from bot import outbox
from bot.db import make_engine
from bot.privacy import Cipher
from bot.senders.base import LogSender, Sender
from bot.settings import Settings, resolve_secrets

log = logging.getLogger(__name__)

SWEEP_SECONDS = 5


def make_sender(settings: Settings) -> Sender:
    """Africa's Talking when a key is configured, else the demo sender that sends nothing."""
    if settings.at_api_key is not None and settings.at_api_key.get_secret_value():
        from bot.senders.africastalking import AfricasTalkingSender

        return AfricasTalkingSender(
            settings.at_username, settings.at_api_key.get_secret_value(), settings.at_sender_id
        )
    log.warning("no HOTLINE_AT_API_KEY: outbound SMS are logged, not sent (demo sender)")
    return LogSender()


class OutboxWorker:
    """Claims and delivers due messages; several may run against one database."""

    def __init__(
        self,
        engine: Engine,
        cipher: Cipher,
        sender: Sender,
        *,
        policy: outbox.RetryPolicy = outbox.RetryPolicy(),
        poll: float = 2.0,
    ) -> None:
        self.engine = engine
        self.cipher = cipher
        self.sender = sender
        self.policy = policy
        self.poll = poll
        self._wake = asyncio.Event()

    async def deliver(self, message_id: int) -> str:
        """Send one message this worker has claimed."""
        return await asyncio.to_thread(
            outbox.deliver, self.engine, self.cipher, self.sender, message_id, policy=self.policy
        )

    async def run_due(self, *, only: int | None = None) -> int:
        """Claim what is due (or just ``only``) and deliver it; returns how many were tried."""
        ids = await asyncio.to_thread(outbox.claim, self.engine, policy=self.policy, only=only)
        for message_id in ids:
            await self.deliver(message_id)
        return len(ids)

    def wake(self) -> None:
        """Something new is waiting: deliver it now rather than at the next poll."""
        self._wake.set()

    async def run_forever(self) -> None:
        """The in-process loop (embedded default): deliver, then wait for a wake-up or the poll."""
        while True:
            try:
                while await self.run_due():
                    pass
            except Exception:  # noqa: BLE001 - keep delivering after a database hiccup
                log.exception("outbox worker round failed; retrying")
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll)
            except TimeoutError:
                pass
            self._wake.clear()


class Notifier(Protocol):
    """Tells the workers that messages were committed."""

    async def notify(self, message_ids: Sequence[int]) -> None:
        """Called after the transaction that wrote the messages has committed."""
        ...


class WakeNotifier:
    """In-process: wake the loop running inside this server."""

    def __init__(self, worker: OutboxWorker) -> None:
        self.worker = worker

    async def notify(self, message_ids: Sequence[int]) -> None:
        """Wake the in-process worker."""
        if message_ids:
            self.worker.wake()


class ArqNotifier:
    """On Redis: one ``deliver`` job per message (arq drops a second job with the same id)."""

    def __init__(self, pool: ArqRedis) -> None:
        self.pool = pool

    @classmethod
    async def connect(cls, redis_url: str) -> ArqNotifier:
        """Open the arq pool."""
        return cls(await create_pool(RedisSettings.from_dsn(redis_url)))

    async def notify(self, message_ids: Sequence[int]) -> None:
        """Enqueue a delivery job per message; a failure only delays it to the next sweep."""
        for message_id in message_ids:
            try:
                await self.pool.enqueue_job("deliver", message_id, _job_id=f"outbox:{message_id}")
            except Exception:  # noqa: BLE001 - the sweep delivers it anyway
                log.warning("could not enqueue outbox %s; the sweep will deliver it", message_id)

    async def close(self) -> None:
        """Close the pool."""
        await self.pool.aclose()


async def _startup(ctx: dict[str, Any]) -> None:
    settings = resolve_secrets(Settings())
    engine = make_engine(settings.database_url)
    ctx["engine"] = engine
    ctx["outbox"] = OutboxWorker(
        engine, Cipher.from_list(settings.encryption_key_list), make_sender(settings)
    )


async def _shutdown(ctx: dict[str, Any]) -> None:
    engine = ctx.get("engine")
    if engine is not None:
        engine.dispose()


async def deliver(ctx: dict[str, Any], message_id: int) -> int:
    """arq job: claim and deliver one message (nothing happens if another worker has it)."""
    worker: OutboxWorker = ctx["outbox"]
    return await worker.run_due(only=message_id)


async def sweep(ctx: dict[str, Any]) -> int:
    """arq cron job: deliver everything due (retries, and messages whose job was missed)."""
    worker: OutboxWorker = ctx["outbox"]
    total = 0
    while done := await worker.run_due():
        total += done
    return total


def arq_worker(redis_url: str, *, burst: bool = False, ctx: dict[str, Any] | None = None) -> Worker:
    """An arq worker running ``deliver`` and the ``sweep`` every few seconds."""
    custom = ctx is not None
    return Worker(
        functions=[deliver],  # type: ignore[list-item]
        cron_jobs=[cron(sweep, second=set(range(0, 60, SWEEP_SECONDS)), run_at_startup=True)],  # type: ignore[arg-type]
        redis_settings=RedisSettings.from_dsn(redis_url),
        on_startup=None if custom else _startup,
        on_shutdown=None if custom else _shutdown,
        ctx=ctx,
        burst=burst,
        handle_signals=not burst,
        job_timeout=timedelta(seconds=120),
        keep_result=0,
        max_tries=3,
    )
