"""The escalation ladder as a job: an arq cron job every 30 s, or a loop in ``hotline serve``.

Without Redis it runs as a loop inside ``hotline serve``; with Redis as an arq cron job in
``hotline worker``. Deadlines are rows, so a missed tick is caught by the next one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine

from bot.cases.escalation import sweep
from bot.core.clock import utcnow
from bot.core.concurrency import finish_in_thread
from bot.core.privacy import Cipher
from bot.core.settings import Settings
from bot.i18n.catalog import Catalogs
from bot.i18n.translate import Translate
from bot.outbox.notify import Notifier

log = logging.getLogger(__name__)

ESCALATE_SECONDS = 30


async def escalate_once(
    engine: Engine, cipher: Cipher, tr: Translate, notifier: Notifier
) -> list[int]:
    """One sweep of missed deadlines; the alerts it queues are handed to the outbox workers."""
    queued = await finish_in_thread(sweep, engine, cipher, tr, now=utcnow())
    if queued:
        await notifier.notify(queued)
    return queued


async def escalate_forever(
    engine: Engine,
    cipher: Cipher,
    tr: Translate,
    notifier: Callable[[], Notifier],
    *,
    interval: float = ESCALATE_SECONDS,
) -> None:
    """The in-process loop (no Redis); survives database hiccups."""
    while True:
        try:
            await escalate_once(engine, cipher, tr, notifier())
        except Exception:  # try again at the next tick
            log.exception("escalation sweep failed; retrying in %s s", interval)
        await asyncio.sleep(interval)


async def escalate_job(ctx: dict[str, Any]) -> int:
    """arq cron job: sweep, then deliver the alerts from this worker straight away."""
    outbox_worker = ctx["outbox"]
    if "catalogs" not in ctx:
        ctx["catalogs"] = Catalogs.load(Settings().locales_dir)
    catalogs: Catalogs = ctx["catalogs"]
    queued = await finish_in_thread(
        sweep, outbox_worker.engine, outbox_worker.cipher, catalogs.gettext, now=utcnow()
    )
    for message_id in queued:
        await outbox_worker.run_due(only=message_id)
    return len(queued)
