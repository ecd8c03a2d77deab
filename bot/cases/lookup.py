"""What a person sees when they follow a report by its reference: a neutral status, no details.

Look-ups are limited per contact (``LookupLimit``): guessing references from one number finds
nothing past the limit, because nothing is checked.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.cases.status import Status
from bot.core.clock import utcnow
from bot.i18n import ui
from bot.i18n.translate import Translate
from bot.models import Case
from bot.sessions import SessionStore

log = logging.getLogger(__name__)

NEUTRAL = {
    Status.NEW: ui.STATUS_RECEIVED,
    Status.TRIAGED: ui.STATUS_LOOKED_AT,
    Status.ACTIVE: ui.STATUS_LOOKED_AT,
    Status.REFERRED: ui.STATUS_PARTNER,
    Status.FOLLOW_UP: ui.STATUS_PARTNER,
    Status.CLOSED: ui.STATUS_CLOSED,
}
"""Each case status in words that reveal nothing about what was reported or who is involved."""


def status_text(engine: Engine, tr: Translate, reference: str, lang: str) -> str:
    """The neutral status of the case with this reference, in the person's language (blocking)."""
    with Session(engine) as session:
        status = session.exec(select(Case.status).where(Case.reference == reference)).first()
    message = NEUTRAL.get(Status(status), ui.STATUS_RECEIVED) if status else ui.STATUS_UNKNOWN
    log.info("status looked up: %s", "found" if status else "not found")
    return tr(lang, message).format(reference=reference)


HOUR = 3600


class LookupLimit:
    """At most ``per_hour`` look-ups per contact in each clock hour (0: no limit).

    Counted in the session store, so every app process shares the count on Redis: the hour's
    look-ups are slots taken once each (``add_once``), under a key derived from the contact's
    pseudonym (never the pseudonym itself).
    """

    def __init__(
        self, store: SessionStore, per_hour: int, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.store = store
        self.per_hour = per_hour
        self.clock = clock

    def key(self, contact: str) -> str:
        """The store key prefix of a contact's look-ups in the current hour."""
        digest = hashlib.sha256(f"lookup:{contact}".encode()).hexdigest()[:32]
        return f"lookup:{digest}:{int(self.clock().timestamp()) // HOUR}"

    async def allow(self, contact: str) -> bool:
        """Take one of the hour's look-ups for this contact; False when none is left."""
        if self.per_hour <= 0:
            return True
        prefix = self.key(contact)
        for slot in range(self.per_hour):
            if await self.store.add_once(f"{prefix}:{slot}", HOUR):
                return True
        return False
