"""Signing in with a username and password, under the throttle (``bot.auth.throttle``) and the
hashing gate (``bot.auth.hashing``).

Failures are logged with the username when it exists (never the password, never an unknown
name, which may be anything a person typed, never the address). An outdated hash is upgraded
on a good sign-in. Database reads run on the default threads; argon2 only on the gate's.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.auth.hashing import GATE, HashGate
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


@dataclass(frozen=True)
class Account:
    """What a password check needs of an operator: no session, no row."""

    id: int
    password_hash: str | None
    active: bool


def find_account(engine: Engine, username: str) -> Account | None:
    """The operator (active or not) with this username, as an ``Account``; else None."""
    with Session(engine) as session:
        operator = session.exec(select(Operator).where(col(Operator.username) == username)).first()
        if operator is None or operator.id is None:
            return None
        return Account(operator.id, operator.password_hash, operator.active)


def load_operator(engine: Engine, operator_id: int, new_hash: str | None = None) -> Operator:
    """The operator, detached; its hash replaced first when ``new_hash`` is given."""
    with Session(engine) as session:
        operator = session.get(Operator, operator_id)
        assert operator is not None
        if new_hash is not None:
            operator.password_hash = new_hash
            session.add(operator)
            session.commit()
            session.refresh(operator)
        session.expunge(operator)
        return operator


def check_credentials(engine: Engine, username: str, password: str) -> Operator | None:
    """The active operator with these credentials (rehashing an outdated hash), else None.

    Blocking, all in the caller's thread (the CLI); ``sign_in`` is the server's way. Always
    runs argon2 once, whether or not the username exists.
    """
    account = find_account(engine, username)
    stored = account.password_hash if account is not None else None
    if not verify_password(stored, password) or account is None or not account.active:
        return None
    new_hash = rehash(password) if stored and needs_rehash(stored) else None
    return load_operator(engine, account.id, new_hash)


async def verify(
    engine: Engine, username: str, password: str, *, gate: HashGate = GATE
) -> Operator | None:
    """``check_credentials`` without blocking the loop: argon2 on the gate (HashingBusy when it
    is full), database work on the default threads."""
    account = await asyncio.to_thread(find_account, engine, username)
    stored = account.password_hash if account is not None else None
    matched = await gate.run(verify_password, stored, password)  # argon2 even for no account
    if not matched or account is None or not account.active:
        return None
    new_hash = await gate.run(rehash, password) if stored and needs_rehash(stored) else None
    return await asyncio.to_thread(load_operator, engine, account.id, new_hash)


def is_known(engine: Engine, username: str) -> bool:
    """Does an operator (active or not) have this username?"""
    return find_account(engine, username) is not None


async def sign_in(
    engine: Engine,
    throttle: LoginThrottle,
    username: str,
    password: str,
    *,
    now: datetime,
    address: str | None = None,
    gate: HashGate = GATE,
) -> Operator:
    """The operator these credentials belong to.

    WrongCredentials (counted against the address, the username from it, and the username);
    TooManyFailures while the address, or the username from it, is at its limit, even with
    the right password; HashingBusy when too many passwords are being checked at once;
    SessionBusy when the throttle's store stays locked.
    """
    username = normal_username(username)
    gate.check()  # a storm is refused before it costs the store or the database anything
    try:
        async with throttle.attempt(username, now=now, address=address) as attempt:
            operator = await verify(engine, username, password, gate=gate)
            if operator is None:
                failures = await attempt.failed()
                known = await asyncio.to_thread(is_known, engine, username)
                log.warning(
                    "login failed for %s (%d in %d min%s)",
                    username if known else "an unknown username",
                    failures,
                    int(throttle.window.total_seconds()) // 60,
                    f"; slowed {attempt.waited:g} s" if attempt.waited else "",
                )
                raise WrongCredentials()
            await attempt.succeeded()
    except TooManyFailures as refused:
        log.warning(
            "login refused: too many failures %s (%d s left)",
            "from one address" if refused.kind == "address" else "for a username from one address",
            refused.retry_after,
        )
        raise
    log.info("%s (%s) signed in", operator.username, operator.role)
    return operator
