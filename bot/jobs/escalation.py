"""The escalation ladder as a loop every 30 s: inside ``hotline serve`` without Redis, else in
``hotline worker`` (whether Redis answers or not). Deadlines are rows, so a missed tick is
caught by the next one, and each step is claimed in the database, so several may run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from sqlalchemy.engine import Engine

from bot.cases.escalation import sweep
from bot.core.clock import utcnow
from bot.core.concurrency import finish_in_thread
from bot.core.metrics import JOBS
from bot.core.privacy import Cipher
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
            queued = await escalate_once(engine, cipher, tr, notifier())
        except Exception:  # try again at the next tick
            JOBS.labels("escalation", "error").inc()
            log.exception("escalation sweep failed; retrying in %s s", interval)
        else:
            JOBS.labels("escalation", "ok").inc()
            log.log(
                logging.INFO if queued else logging.DEBUG,
                "escalation sweep: %d alert(s) queued",
                len(queued),
                extra={"fields": {"job": "escalation", "alerts": len(queued)}},
            )
        await asyncio.sleep(interval)
