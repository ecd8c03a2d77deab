"""Deliver the outbox: inside ``hotline serve`` without Redis, else in ``hotline worker``.

Either way the same code claims due messages (compare-and-set, see ``bot.outbox.queue``), sends them
off the event loop and records the outcome. The table is the source of truth: this loop sweeps it
every few seconds whatever Redis does (``bot.jobs.runner``), and on Redis a request also enqueues
a ``deliver`` job for a new message so that it goes out at once.

Messages go out by their channel: ``sms`` through the SMS sender (Africa's Talking), and
``telegram`` through the Bot API (``make_senders``); a channel with no sender fails for good
rather than going out the wrong way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.core.concurrency import finish_in_thread
from bot.core.metrics import CHANNELS, DELIVERIES, label
from bot.core.privacy import Cipher
from bot.models import OutboundMessage
from bot.outbox import queue
from bot.outbox.senders.base import Sender, SendResult

log = logging.getLogger(__name__)

OUTCOMES = frozenset(
    {"sent", "delivered", "sending", "pending", "failed", "unknown", "skipped", "missing"}
)
"""What a delivery attempt can leave a message as (``queue.deliver``), for its metric."""


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
        return self._sender_and_row(message_id)[0]

    def _sender_and_row(self, message_id: int) -> tuple[Sender, str, str]:
        """The sender for a message's channel, the channel and the purpose."""
        with Session(self.engine) as session:
            message = session.get(OutboundMessage, message_id)
            if message is None:
                return self.sender, "none", "none"  # nothing to send: queue.deliver skips it
            channel, key, purpose, lang = (
                message.channel,
                message.key,
                message.purpose,
                message.lang,
            )
        sender = self.sender if channel == "sms" else self.senders.get(channel) or NoSender(channel)
        if isinstance(sender, PerMessage):
            sender = sender.for_message(key=key, purpose=purpose, lang=lang)
        return sender, channel, purpose

    def _deliver(self, attempt: queue.Claim) -> str:
        started = time.perf_counter()
        sender, channel, purpose = self._sender_and_row(attempt.id)
        status = queue.deliver(self.engine, self.cipher, sender, attempt, policy=self.policy)
        DELIVERIES.labels(label(channel, CHANNELS), label(status, OUTCOMES)).inc()
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        log.info(  # one line per attempt: row id, channel, purpose and outcome; no recipient
            "outbox %s attempt %d (%s %s): %s in %.1f ms",
            attempt.id,
            attempt.attempt,
            channel,
            purpose,
            status,
            duration_ms,
            extra={
                "fields": {
                    "outbox_id": attempt.id,
                    "attempt": attempt.attempt,
                    "channel": channel,
                    "purpose": purpose,
                    "outcome": status,
                    "duration_ms": duration_ms,
                }
            },
        )
        return status

    async def deliver(self, attempt: queue.Claim) -> str:
        """Send one attempt this worker has claimed, by its channel's sender."""
        return await finish_in_thread(self._deliver, attempt)

    async def run_due(self, *, only: int | None = None) -> int:
        """Claim what is due (or just ``only``) and deliver it; returns how many were tried.

        A round over everything first marks ``unknown`` what a stopped worker left inside a
        provider call (``queue.settle_unknown``): those messages are not sent again.
        """
        if only is None:
            await finish_in_thread(queue.settle_unknown, self.engine)
        attempts = await finish_in_thread(queue.claim, self.engine, policy=self.policy, only=only)
        for attempt in attempts:
            await self.deliver(attempt)
        return len(attempts)

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
