"""Shift announcements as a loop every minute (``bot.team.announce``): inside ``hotline serve``
and in ``hotline worker``. Each announcement is keyed by its cause, so several loops may run and
a missed tick is caught by the next one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.engine import Engine

from bot.core.clock import utcnow
from bot.core.concurrency import finish_in_thread
from bot.core.privacy import Cipher
from bot.core.settings import Settings
from bot.i18n.translate import Translate
from bot.outbox.notify import Notifier
from bot.team.announce import announce

log = logging.getLogger(__name__)

ANNOUNCE_SECONDS = 60


async def announce_once(
    engine: Engine, cipher: Cipher, tr: Translate, notifier: Notifier, *, notice: timedelta
) -> list[int]:
    """One pass: the shifts that started or are about to start without a primary."""
    queued = await finish_in_thread(announce, engine, cipher, tr, now=utcnow(), notice=notice)
    if queued:
        await notifier.notify(queued)
    return queued


async def announce_forever(
    engine: Engine,
    cipher: Cipher,
    tr: Translate,
    notifier: Callable[[], Notifier],
    *,
    interval: float = ANNOUNCE_SECONDS,
    notice: timedelta | None = None,
) -> None:
    """The loop; survives database hiccups (``notice``: from the settings when not given)."""
    if notice is None:
        notice = timedelta(minutes=Settings().shift_notice_minutes)
    while True:
        try:
            await announce_once(engine, cipher, tr, notifier(), notice=notice)
        except Exception:  # try again at the next tick
            log.exception("shift announcements failed; retrying in %s s", interval)
        await asyncio.sleep(interval)
