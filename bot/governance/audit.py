"""The audit log: who read or changed what, and why; the one way to read encrypted case data.

``decrypt_for`` is how code reads a narrative, answers, a note or a number: it writes an
``AuditEntry`` (action ``decrypt``) in the caller's session next to the decryption, so the read
and its record commit together. The entry names the column (the encryption context), never
what it held; nothing decrypted is logged.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, func, select

from bot.cases.access import check_actor
from bot.core.clock import utcnow
from bot.core.privacy import Cipher
from bot.models import AuditEntry, Case, Operator

ACTOR_MAX = 64
ACTION_MAX = 32
REASON_MAX = 300
SYSTEM = "system"
"""The actor for jobs (purge, key rotation) rather than a person."""
PER_PAGE = 50
_NUMBER = re.compile(r"\+?\d[\d ().-]{5,}\d")
"""Digits with spaces, dots, dashes or brackets between: a phone number when 8 or more."""
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    case_id: int | None = None,
    reason: str | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Add an audit entry to the caller's transaction (committed with it).

    ``actor`` is an operator's username or ``system``; ``action`` a short verb
    (``view_case``, ``decrypt``, ``status``, ``purge``, ``rotate_keys``...). A reason longer
    than the column is shortened rather than losing the entry.
    """
    actor = actor.strip()
    action = action.strip()
    if not actor or len(actor) > ACTOR_MAX:
        raise ValueError(f"an audit actor is 1-{ACTOR_MAX} characters")
    if not action or len(action) > ACTION_MAX:
        raise ValueError(f"an audit action is 1-{ACTION_MAX} characters")
    entry = AuditEntry(
        at=at or utcnow(),
        actor=actor,
        action=action,
        case_id=case_id,
        reason=_clip(reason, REASON_MAX) if reason is not None else None,
    )
    session.add(entry)
    return entry


def decrypt_for(
    session: Session,
    cipher: Cipher,
    token: str,
    context: str,
    *,
    actor: str,
    case_id: int | None,
    reason: str,
) -> str:
    """Decrypt ``token`` for ``actor`` and record that they did, with the context and why.

    The entry is added (and flushed) before decrypting, so an attempt is on record even when
    the token does not open (``DecryptError`` propagates). The caller commits the session; a
    view that rolls back loses its entry, so commit before showing what was read.
    """
    if not reason.strip():
        raise ValueError("reading encrypted case data needs a reason")
    record(
        session,
        actor=actor,
        action="decrypt",
        case_id=case_id,
        reason=f"{context}: {reason.strip()}",
    )
    session.flush()
    return cipher.decrypt(token, context)


def trail(
    session: Session,
    *,
    actor: Operator,
    case: Case | None = None,
    limit: int = 500,
    now: datetime | None = None,
) -> list[AuditEntry]:
    """Audit entries, newest first (of one case, or all); reading them is itself recorded."""
    check_actor(actor)
    query = select(AuditEntry)
    if case is not None:
        query = query.where(col(AuditEntry.case_id) == case.id)
    entries = list(
        session.exec(
            query.order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc()).limit(limit)
        ).all()
    )
    record(
        session,
        actor=actor.username,
        action="view_audit",
        case_id=case.id if case is not None else None,
        at=now if now is not None else utcnow(),
    )
    return entries


def mask_numbers(text: str) -> str:
    """``text`` with anything that looks like a phone number replaced by ``•••`` (a reason is
    typed by a person, who might paste one)."""

    def masked(match: re.Match[str]) -> str:
        found = match.group()
        if _DATE.fullmatch(found) or sum(c.isdigit() for c in found) < 8:
            return found
        return "•••"

    return _NUMBER.sub(masked, text)


@dataclass(frozen=True)
class Shown:
    """An audit entry as the trail shows it: the case by reference, numbers masked."""

    at: datetime
    actor: str
    action: str
    case: str | None
    reason: str | None


@dataclass(frozen=True)
class Page:
    """One page of the trail, newest first, with where it sits among the others."""

    entries: tuple[Shown, ...]
    page: int
    pages: int
    total: int


def actions(session: Session) -> list[str]:
    """Every action on record, sorted (for a filter's choices)."""
    return sorted(session.exec(select(AuditEntry.action).distinct()).all())


def search(
    session: Session,
    *,
    actor: Operator,
    case: Case | None = None,
    operator: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
    now: datetime | None = None,
) -> Page:
    """A page of the trail, newest first: of one case, by one operator (who acted), of one
    action, from ``since`` up to (not including) ``until``. Reading it is recorded; a page
    past the last shows the last. No entry holds decrypted content; numbers are masked."""
    check_actor(actor)
    query = select(AuditEntry)
    count = select(func.count()).select_from(AuditEntry)
    conditions = []
    if case is not None:
        conditions.append(col(AuditEntry.case_id) == case.id)
    if operator:
        conditions.append(col(AuditEntry.actor) == operator.strip().lower())
    if action:
        conditions.append(col(AuditEntry.action) == action.strip())
    if since is not None:
        conditions.append(col(AuditEntry.at) >= since)
    if until is not None:
        conditions.append(col(AuditEntry.at) < until)
    if conditions:
        query = query.where(*conditions)
        count = count.where(*conditions)
    total = session.exec(count).one()
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    entries = session.exec(
        query.order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    ids = {e.case_id for e in entries if e.case_id is not None}
    references = (
        dict(session.exec(select(Case.id, Case.reference).where(col(Case.id).in_(ids))).all())
        if ids
        else {}
    )
    shown = tuple(
        Shown(
            at=e.at,
            actor=e.actor,
            action=e.action,
            case=references.get(e.case_id) if e.case_id is not None else None,
            reason=mask_numbers(e.reason) if e.reason is not None else None,
        )
        for e in entries
    )
    record(
        session,
        actor=actor.username,
        action="view_audit",
        case_id=case.id if case is not None else None,
        at=now if now is not None else utcnow(),
    )
    return Page(entries=shown, page=page, pages=pages, total=total)
