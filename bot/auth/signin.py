"""Signing in with a username and password, under the throttle (``bot.auth.throttle``).

Failures are logged with the username when it exists (never the password, never an unknown
name, which may be anything a person typed). An outdated hash is upgraded on a good sign-in.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.auth.passwords import needs_rehash, rehash, verify_password
from bot.auth.throttle import LoginThrottle, TooManyFailures
from bot.models import Operator

log = logging.getLogger(__name__)


class WrongCredentials(Exception):
    """No active operator has this username and password (which of them is not said)."""

    def __init__(self) -> None:
        super().__init__("wrong username or password")


def normal_username(username: str) -> str:
    """A username as stored and compared: trimmed, lowercase."""
    return username.strip().lower()


def check_credentials(engine: Engine, username: str, password: str) -> Operator | None:
    """The active operator with these credentials (rehashing an outdated hash), else None.

    The operator comes back detached from its session. Always runs argon2 once, whether or not
    the username exists.
    """
    with Session(engine) as session:
        operator = session.exec(select(Operator).where(col(Operator.username) == username)).first()
        stored = operator.password_hash if operator is not None else None
        if not verify_password(stored, password) or operator is None or not operator.active:
            return None
        if stored and needs_rehash(stored):
            operator.password_hash = rehash(password)
            session.add(operator)
            session.commit()
            session.refresh(operator)
        session.expunge(operator)
        return operator


def is_known(engine: Engine, username: str) -> bool:
    """Does an operator (active or not) have this username?"""
    with Session(engine) as session:
        found = session.exec(select(Operator.id).where(col(Operator.username) == username))
        return found.first() is not None


async def sign_in(
    engine: Engine,
    throttle: LoginThrottle,
    username: str,
    password: str,
    *,
    now: datetime,
    address: str | None = None,
) -> Operator:
    """The operator these credentials belong to.

    WrongCredentials (counted against the username, and the address when given);
    TooManyFailures while either is at its limit, even with the right password; SessionBusy
    when the throttle's store stays locked. Password checks run in a thread.
    """
    username = normal_username(username)
    try:
        async with throttle.attempt(username, now=now, address=address) as attempt:
            operator = await asyncio.to_thread(check_credentials, engine, username, password)
            if operator is None:
                failures = await attempt.failed()
                known = await asyncio.to_thread(is_known, engine, username)
                log.warning(
                    "login failed for %s (%d of %d in %d min)",
                    username if known else "an unknown username",
                    failures,
                    throttle.max_failures,
                    int(throttle.window.total_seconds()) // 60,
                )
                raise WrongCredentials()
            await attempt.succeeded()
    except TooManyFailures as refused:
        log.warning(
            "login refused: too many failures for a%s (%d s left)",
            " username" if refused.kind == "username" else "n address",
            refused.retry_after,
        )
        raise
    log.info("%s (%s) signed in", operator.username, operator.role)
    return operator
