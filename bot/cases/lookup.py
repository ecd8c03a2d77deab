"""What a person sees when they follow a report by its reference: a neutral status, no details."""

from __future__ import annotations

import logging

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.cases.status import Status
from bot.i18n import ui
from bot.i18n.translate import Translate
from bot.models import Case

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
