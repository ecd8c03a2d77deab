"""``hotline worker`` on Redis: the arq worker with outbox deliveries, escalations and the purge."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from arq import cron
from arq.connections import RedisSettings
from arq.worker import Worker

from bot.core.db import make_engine
from bot.core.privacy import Cipher
from bot.core.settings import Settings, resolve_secrets
from bot.jobs.escalation import escalate_job
from bot.jobs.purge import purge_job
from bot.outbox.senders import make_sender, make_senders
from bot.outbox.worker import OutboxWorker

SWEEP_SECONDS = 5


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
