"""The signed-in team member's own settings: linking their Telegram account for alerts.

=======================================  ============  ======================================
route                                    who           what
=======================================  ============  ======================================
``POST /api/me/telegram-link``           operator+     a one-time code for ``/link CODE`` (15 min)
``DELETE /api/me/telegram-link``         operator+     unlink Telegram (alerts stop going there)
=======================================  ============  ======================================
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from bot.api.auth import Staff
from bot.api.request import DbSession, Now
from bot.deps import SettingsDep
from bot.team import telegram_link

router = APIRouter(prefix="/api/me", tags=["me"])


class LinkCodeOut(BaseModel):
    """A code to send the bot as ``/link CODE``; shown once, kept only hashed."""

    code: str
    expires_at: datetime
    command: str


class UnlinkOut(BaseModel):
    """Whether an account was linked before."""

    unlinked: bool


@router.post("/telegram-link", status_code=201)
def new_link_code(me: Staff, db: DbSession, settings: SettingsDep, now: Now) -> LinkCodeOut:
    """A fresh one-time code (any earlier unused code of mine stops working)."""
    secret = settings.pseudonym_key.get_secret_value() if settings.pseudonym_key else ""
    made = telegram_link.new_code(db, telegram_link.link_key(secret), operator=me, now=now)
    db.commit()
    return LinkCodeOut(code=made.code, expires_at=made.expires_at, command=f"/link {made.code}")


@router.delete("/telegram-link")
def unlink(me: Staff, db: DbSession, now: Now) -> UnlinkOut:
    """Forget my Telegram account: alerts go by SMS only."""
    linked = telegram_link.unlink(db, operator=me, now=now)
    db.commit()
    return UnlinkOut(unlinked=linked)
