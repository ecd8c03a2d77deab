"""The team web's sign-in sessions: started at sign-in, checked on each request, ended at
sign-out — and together with every API token when the operator's session epoch moves on.

The browser holds a random session id (256 bits) in a cookie; the database only its SHA-256,
so a copy of the table opens nothing. A session ends when it is idle for ``idle``, ``absolute``
after sign-in whatever the activity, at sign-out (its row is deleted), and when the operator
is deactivated, changes their password or signs out of the API (``bot.auth.tokens.end_sessions``
moves the epoch the row was made under). The role is read from the operator, never kept here.
An ended session's row is deleted when it is next presented, and an operator's ended rows at
their next sign-in; ``purge`` deletes every ended row at once. An ended row opens nothing.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, select

from bot.models import Operator, WebSession

log = logging.getLogger(__name__)

TOUCH_EVERY = timedelta(minutes=1)
"""A request records the session's activity at most this often (one write a minute, not one
per request); the idle timeout is thus exact to within a minute."""
MAX_ID = 128
"""Characters of a session id worth looking up (ours are 43)."""


class SessionEnded(Exception):
    """No session, or one that has ended; the message says why, in words fit for the person."""


@dataclass(frozen=True)
class Timeouts:
    """How long a session lasts: idle, and at most from sign-in."""

    idle: timedelta
    absolute: timedelta


def hash_id(session_id: str) -> str:
    """What is stored of a session id: its SHA-256 (the id is random, a plain hash suffices)."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def start(session: Session, operator: Operator, *, now: datetime, timeouts: Timeouts) -> str:
    """A new session for ``operator`` (the caller commits); its id, for the cookie only.

    The operator's sessions that have already ended are deleted on the way.
    """
    assert operator.id is not None
    session.execute(
        delete(WebSession).where(
            col(WebSession.operator_id) == operator.id, col(WebSession.expires_at) <= now
        )
    )
    session_id = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            id_hash=hash_id(session_id),
            operator_id=operator.id,
            epoch=operator.session_epoch or 0,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timeouts.absolute,
        )
    )
    return session_id


def check(session: Session, session_id: str, *, now: datetime, timeouts: Timeouts) -> Operator:
    """The active operator whose live session this is, or SessionEnded; records activity (the
    caller commits)."""
    if not session_id or len(session_id) > MAX_ID:
        raise SessionEnded("sign in first")
    row = session.exec(
        select(WebSession).where(col(WebSession.id_hash) == hash_id(session_id))
    ).first()
    if row is None:
        raise SessionEnded("sign in first")
    operator = session.get(Operator, row.operator_id)
    ended = (
        "your session expired; sign in again"
        if now >= row.expires_at or now - row.last_seen_at >= timeouts.idle
        else "your account is not active"
        if operator is None or not operator.active
        else "you were signed out; sign in again"
        if row.epoch != (operator.session_epoch or 0)
        else None
    )
    if ended is not None or operator is None:
        session.delete(row)
        raise SessionEnded(ended or "sign in first")
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        session.add(row)
    return operator


def end(session: Session, session_id: str) -> bool:
    """End this session (sign-out; the caller commits); was there one?"""
    found = session.exec(
        select(WebSession).where(col(WebSession.id_hash) == hash_id(session_id))
    ).first()
    if found is None:
        return False
    session.delete(found)
    return True


def purge(session: Session, *, now: datetime, timeouts: Timeouts) -> int:
    """Delete every session that has ended by time (the caller commits); how many."""
    ended = session.exec(
        select(WebSession.id).where(
            (col(WebSession.expires_at) <= now)
            | (col(WebSession.last_seen_at) <= now - timeouts.idle)
        )
    ).all()
    if ended:
        session.execute(delete(WebSession).where(col(WebSession.id).in_(ended)))
    return len(ended)
