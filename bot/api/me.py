"""The signed-in team member's own settings: linking their Telegram account for alerts.

=======================================  ============  ======================================
route                                    who           what
=======================================  ============  ======================================
``POST /api/me/telegram-link``           operator+     a one-time code for ``/link CODE`` (15 min)
``DELETE /api/me/telegram-link``         operator+     unlink Telegram (alerts stop going there)
``POST /api/me/password``                operator+     ``{current, new}``: a new password
=======================================  ============  ======================================

A password change checks the current password under the sign-in throttle (a stolen token does
not buy unlimited guesses), holds the new one to ``bot.auth.passwords``'s rules (422), ends
every earlier token, and answers a fresh token.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from bot.api.auth import Staff, TokenOut, checked_sign_in, new_token
from bot.api.request import DbSession, Now
from bot.auth.account import set_own_password
from bot.auth.hashing import GATE, HashingBusy
from bot.auth.passwords import MAX_PASSWORD, WeakPassword, check_password_rules, hash_password
from bot.auth.signin import load_operator
from bot.auth.tokens import token_key
from bot.deps import EngineDep, SettingsDep, StoreDep
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


class PasswordChange(BaseModel):
    """My current password and the new one."""

    model_config = ConfigDict(extra="forbid")

    current: str = Field(min_length=1, max_length=MAX_PASSWORD)
    new: str = Field(min_length=1, max_length=MAX_PASSWORD)


@router.post("/password")
async def change_password(
    request: Request,
    body: PasswordChange,
    me: Staff,
    settings: SettingsDep,
    engine: EngineDep,
    store: StoreDep,
    now: Now,
) -> TokenOut:
    """Change my password: every earlier token ends; the answer is a fresh one."""
    try:
        check_password_rules(body.new)
    except WeakPassword as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    key = token_key(settings)
    operator = await checked_sign_in(request, engine, store, key, me.username, body.current, now)
    assert operator.id is not None
    try:
        new_hash = await GATE.run(hash_password, body.new)
    except HashingBusy as exc:
        raise HTTPException(
            status_code=503, detail=str(exc), headers={"Retry-After": str(exc.retry_after)}
        ) from None
    await asyncio.to_thread(set_own_password, engine, operator.id, new_hash)
    changed = await asyncio.to_thread(load_operator, engine, operator.id)
    return new_token(settings, changed, now)
