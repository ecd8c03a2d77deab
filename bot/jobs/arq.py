"""arq on Redis: the ``deliver`` job the app enqueues for each message it commits.

A job only says "this message was just committed, send it now". ``hotline worker``
(``bot.jobs.runner``) sweeps the outbox table whatever Redis does, so a job lost with Redis
(a restart, an outage) delays its message to the next sweep and loses nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from arq import ArqRedis
from arq.typing import StartupShutdown
from arq.worker import Worker

from bot.outbox.worker import OutboxWorker


async def deliver(ctx: dict[str, Any], message_id: int) -> int:
    """arq job: claim and deliver one message (nothing happens if another worker has it)."""
    worker: OutboxWorker = ctx["outbox"]
    return await worker.run_due(only=message_id)


def arq_worker(
    redis: ArqRedis,
    *,
    ctx: dict[str, Any],
    on_startup: StartupShutdown | None = None,
    burst: bool = False,
) -> Worker:
    """An arq worker running ``deliver`` jobs on ``redis`` with ``ctx["outbox"]``.

    Signals are left to the caller; ``on_startup`` runs once Redis has answered. Several
    workers may run: every message is claimed in the database, so nothing goes out twice.
    """
    return Worker(
        functions=[deliver],
        redis_pool=redis,
        ctx=ctx,
        on_startup=on_startup,
        burst=burst,
        handle_signals=False,
        job_timeout=timedelta(seconds=120),
        keep_result=0,
        max_tries=3,
    )
