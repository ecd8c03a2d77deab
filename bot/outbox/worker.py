"""Deliver the outbox: inside ``hotline serve`` without Redis, as arq jobs on Redis with it.

Either way the same code claims due messages (compare-and-set, see ``bot.outbox.queue``), sends them
off the event loop and records the outcome. On Redis a request enqueues ``deliver`` for a new
message at once, and a ``sweep`` every few seconds picks up retries and anything missed.

Messages go out by their channel: ``sms`` through the SMS sender (Africa's Talking), and
``telegram`` through the Bot API (``make_senders``); a channel with no sender fails for good
rather than going out the wrong way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any, ParamSpec, Protocol, TypeVar, runtime_checkable

from arq import ArqRedis, create_pool, cron
from arq.connections import RedisSettings
from arq.worker import Worker
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.core.db import make_engine
from bot.core.privacy import Cipher
from bot.core.settings import Settings, resolve_secrets
from bot.models import OutboundMessage
from bot.outbox import queue
from bot.outbox.senders.base import LogSender, Sender, SendResult

log = logging.getLogger(__name__)

SWEEP_SECONDS = 5
P = ParamSpec("P")
T = TypeVar("T")


async def finish_in_thread(func: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run blocking work in a thread; if the caller is cancelled, let the work finish first.

    A thread cannot be stopped: cancelling the awaiting task would leave it running with a
    connection checked out while shutdown disposes the engine (the connection is then
    garbage-collected unclosed), or with a message sent but its outcome not yet recorded.
    """
    work = asyncio.ensure_future(asyncio.to_thread(func, *args, **kwargs))
    try:
        return await asyncio.shield(work)
    except asyncio.CancelledError:
        await asyncio.wait({work})  # bounded: a claim, or one send with the SDK's timeouts
        with contextlib.suppress(asyncio.CancelledError):
            work.exception()  # retrieved here: the cancelled caller no longer wants it
        raise


def make_sender(settings: Settings) -> Sender:
    """Africa's Talking when a key is configured, else the demo sender that sends nothing."""
    if settings.at_api_key is not None and settings.at_api_key.get_secret_value():
        from bot.outbox.senders.africastalking import AfricasTalkingSender

        return AfricasTalkingSender(
            settings.at_username, settings.at_api_key.get_secret_value(), settings.at_sender_id
        )
    log.warning("no HOTLINE_AT_API_KEY: outbound SMS are logged, not sent (demo sender)")
    return LogSender()


def make_senders(settings: Settings) -> dict[str, Sender]:
    """Senders for channels other than SMS: Telegram through the Bot API when a token is set,
    else the demo sender that sends nothing."""
    token = settings.telegram_token.get_secret_value().strip() if settings.telegram_token else ""
    if token:
        from bot.i18n.catalog import Catalogs
        from bot.outbox.senders.telegram import TelegramSender

        catalogs = Catalogs.load(settings.locales_dir)
        return {"telegram": TelegramSender(token, settings.telegram_api_base, tr=catalogs.gettext)}
    return {"telegram": LogSender()}


@runtime_checkable
class PerMessage(Protocol):
    """A sender that shapes each message by its outbox row (Telegram alert buttons)."""

    def for_message(self, *, key: str, purpose: str, lang: str) -> Sender:
        """The sender for one row."""
        ...


class NoSender:
    """For a channel nobody configured: fail for good, never send it another way."""

    def __init__(self, channel: str) -> None:
        self.name = f"none:{channel}"
        self.channel = channel

    def send(self, to: str, message: str) -> SendResult:
        """Refuse."""
        return SendResult(ok=False, error=f"no sender for channel {self.channel}", permanent=True)


class OutboxWorker:
    """Claims and delivers due messages; several may run against one database.

    ``sender`` delivers SMS; ``senders`` the other channels by name (``make_senders``).
    """

    def __init__(
        self,
        engine: Engine,
        cipher: Cipher,
        sender: Sender,
        *,
        senders: Mapping[str, Sender] | None = None,
        policy: queue.RetryPolicy | None = None,
        poll: float = 2.0,
    ) -> None:
        self.engine = engine
        self.cipher = cipher
        self.sender = sender
        self.senders: dict[str, Sender] = dict(senders or {})
        """Senders of the channels other than SMS, by name."""
        self.policy = policy or queue.RetryPolicy()
        self.poll = poll
        self._wake = asyncio.Event()

    def sender_for(self, message_id: int) -> Sender:
        """The sender for a message's channel (blocking: reads its row)."""
        with Session(self.engine) as session:
            message = session.get(OutboundMessage, message_id)
            if message is None:
                return self.sender  # nothing to send: queue.deliver skips it
            channel, key, purpose, lang = (
                message.channel,
                message.key,
                message.purpose,
                message.lang,
            )
        sender = self.sender if channel == "sms" else self.senders.get(channel) or NoSender(channel)
        if isinstance(sender, PerMessage):
            return sender.for_message(key=key, purpose=purpose, lang=lang)
        return sender

    def _deliver(self, message_id: int) -> str:
        sender = self.sender_for(message_id)
        return queue.deliver(self.engine, self.cipher, sender, message_id, policy=self.policy)

    async def deliver(self, message_id: int) -> str:
        """Send one message this worker has claimed, by its channel's sender."""
        return await finish_in_thread(self._deliver, message_id)

    async def run_due(self, *, only: int | None = None) -> int:
        """Claim what is due (or just ``only``) and deliver it; returns how many were tried."""
        ids = await finish_in_thread(queue.claim, self.engine, policy=self.policy, only=only)
        for message_id in ids:
            await self.deliver(message_id)
        return len(ids)

    def wake(self) -> None:
        """Something new is waiting: deliver it now rather than at the next poll."""
        self._wake.set()

    async def run_forever(self) -> None:
        """The in-process loop (embedded default): deliver, then wait for a wake-up or the poll."""
        while True:
            self._wake.clear()  # before the round: a wake-up during it starts another at once
            try:
                while await self.run_due():
                    pass
            except Exception:  # keep delivering after a database hiccup
                log.exception("outbox worker round failed; retrying")
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancellation
            # that lands as the wake-up fires, and this loop then outlives the app's shutdown.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll):
                    await self._wake.wait()


class Notifier(Protocol):
    """Tells the workers that messages were committed."""

    async def notify(self, message_ids: Sequence[int]) -> None:
        """Called after the transaction that wrote the messages has committed."""
        ...


class NullNotifier:
    """Until the arq pool is open: the next sweep delivers what was committed."""

    async def notify(self, message_ids: Sequence[int]) -> None:
        """Nothing to do."""


class WakeNotifier:
    """In-process: wake the loop running inside this server."""

    def __init__(self, worker: OutboxWorker) -> None:
        self.worker = worker

    async def notify(self, message_ids: Sequence[int]) -> None:
        """Wake the in-process worker."""
        if message_ids:
            self.worker.wake()


class ArqNotifier:
    """On Redis: one ``deliver`` job per message (arq drops a second job with the same id).

    Connects on first use and again after a failure, so a Redis outage delays deliveries to
    the next sweep instead of stopping the app.
    """

    def __init__(self, redis_url: str) -> None:
        self.settings = RedisSettings.from_dsn(redis_url)
        self.settings.conn_retries = 0
        self.pool: ArqRedis | None = None

    async def _pool(self) -> ArqRedis | None:
        if self.pool is None:
            try:
                self.pool = await create_pool(self.settings)
            except Exception:  # Redis down: the sweep delivers later
                log.warning("cannot reach Redis for the job queue; deliveries wait for a sweep")
        return self.pool

    async def notify(self, message_ids: Sequence[int]) -> None:
        """Enqueue a delivery job per message; a failure only delays it to the next sweep."""
        for message_id in message_ids:
            pool = await self._pool()
            if pool is None:
                return
            try:
                await pool.enqueue_job("deliver", message_id, _job_id=f"outbox:{message_id}")
            except Exception:  # the sweep delivers it anyway
                log.warning("could not enqueue outbox %s; the sweep will deliver it", message_id)
                with contextlib.suppress(Exception):
                    await pool.aclose()
                self.pool = None

    async def close(self) -> None:
        """Close the pool."""
        if self.pool is not None:
            await self.pool.aclose()


async def _startup(ctx: dict[str, Any]) -> None:
    settings = resolve_secrets(Settings())
    engine = make_engine(settings.database_url)
    ctx["engine"] = engine
    ctx["outbox"] = OutboxWorker(
        engine,
        Cipher.from_list(settings.encryption_key_list),
        make_sender(settings),
        senders=make_senders(settings),
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
    """An arq worker: ``deliver`` jobs, the outbox ``sweep`` every few seconds, the escalation
    ladder every 30 seconds and the retention purge nightly (several workers may run: every
    step is claimed in the database, so nothing happens twice)."""
    from bot.governance.retention import purge_job
    from bot.jobs.escalation import escalate_job

    custom = ctx is not None
    return Worker(
        functions=[deliver],
        cron_jobs=[
            cron(sweep, second=set(range(0, 60, SWEEP_SECONDS)), run_at_startup=True),
            cron(escalate_job, second={0, 30}),
            cron(purge_job, hour={2}, minute={30}, second={0}),
        ],
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
