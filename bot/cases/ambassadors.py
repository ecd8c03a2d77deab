"""Migrant ambassadors: single-use invites, registration, and what an ambassador may look up.

An admin issues invite codes (``hotline ambassadors invite``) and hands each to one trained
ambassador, who opens ``t.me/<bot>?start=CODE``. A code is shown once: only its HMAC under the
pseudonym key is stored, so nobody can read codes back from the database. Redeeming is a
compare-and-set on ``used_at``: of two people redeeming the same code at once, one wins.
An ambassador is known by the pseudonym of their Telegram user, never the Telegram id.

An ambassador sees their own reports by reference, date and a neutral status (the words a
person following a report sees), never what was reported.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import update
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.cases.lookup import NEUTRAL
from bot.cases.status import Status
from bot.core.clock import utcnow
from bot.engine.areas import AreaTree
from bot.i18n import ui
from bot.models import Case
from bot.models.ambassador import Ambassador, Invite

log = logging.getLogger(__name__)

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
"""Invite code characters: capitals and digits without look-alikes (no I, L, O, 0, 1)."""
CODE_LENGTH = 10
DEFAULT_DAYS = 14
MAX_COUNT = 100
REPORTS_SHOWN = 20
KIND = "ambassador_report"
_SEPARATORS = re.compile(r"[\s_-]+")


class Redeemed(StrEnum):
    """What redeeming a code did."""

    REGISTERED = "registered"
    ALREADY = "already"
    """The person is an active ambassador already; the code was left unused."""
    REFUSED = "refused"
    """Unknown, used or expired; nothing stored."""


@dataclass(frozen=True)
class IssuedInvite:
    """A new invite: the code (shown once, never stored), its area and expiry."""

    code: str
    area: str | None
    expires_at: datetime


@dataclass(frozen=True)
class Report:
    """One of an ambassador's reports as they may see it."""

    reference: str
    created_at: datetime
    status: str
    """A neutral status msgid (``lookup.NEUTRAL``) with a ``{reference}`` placeholder."""


@dataclass(frozen=True)
class AmbassadorRow:
    """An ambassador as the team lists them: no Telegram id, a short pseudonym prefix."""

    contact_prefix: str
    area: str | None
    registered_at: datetime
    active: bool


def new_code() -> str:
    """A random invite code: 10 characters of ``ALPHABET`` (about 49 bits)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str | None:
    """An invite code as typed or linked (any case, spaces or dashes), or None if it is not one."""
    code = _SEPARATORS.sub("", text).upper()
    if len(code) != CODE_LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code


def code_hash(key: str, code: str) -> str:
    """What is stored of a code: its HMAC-SHA256 under the pseudonym key."""
    if not key:
        raise ValueError("no pseudonym key")
    return hmac.new(key.encode(), f"invite:{code}".encode(), hashlib.sha256).hexdigest()


def issue(
    engine: Engine,
    key: str,
    *,
    tree: AreaTree | None = None,
    area: str | None = None,
    count: int = 1,
    days: int = DEFAULT_DAYS,
    created_by: str = "cli",
    now: datetime | None = None,
) -> list[IssuedInvite]:
    """Create ``count`` single-use invites valid ``days`` days; ``area`` must be a known area
    code when given (checked against ``tree``). Returns the codes: they cannot be read later."""
    if not 1 <= count <= MAX_COUNT:
        raise ValueError(f"count must be 1 to {MAX_COUNT}")
    if not 1 <= days <= 365:
        raise ValueError("days must be 1 to 365")
    if area is not None:
        area = area.strip().lower()
        if tree is None or tree.find(area) is None:
            raise ValueError(f"unknown area code {area!r} (see flows/data/areas.yaml)")
    now = now or utcnow()
    expires = now + timedelta(days=days)
    issued: list[IssuedInvite] = []
    with Session(engine) as session:
        for _ in range(count):
            code = new_code()
            session.add(
                Invite(
                    code_hash=code_hash(key, code),
                    area=area,
                    created_by=created_by[:64],
                    created_at=now,
                    expires_at=expires,
                )
            )
            issued.append(IssuedInvite(code, area, expires))
        session.commit()
    log.info("%d ambassador invite(s) issued by %s", count, created_by[:64])
    return issued


def redeem(
    engine: Engine, key: str, text: str, contact: str, *, now: datetime | None = None
) -> Redeemed:
    """Register ``contact`` (a pseudonym) with an invite code; the code then cannot be used again.

    An unknown, used or expired code is refused and nothing is stored. An active ambassador
    keeps their registration and the code stays unused; an inactive one is registered again.
    """
    code = normalise_code(text)
    if code is None:
        return Redeemed.REFUSED
    now = now or utcnow()
    digest = code_hash(key, code)
    with Session(engine) as session:
        existing = session.exec(select(Ambassador).where(Ambassador.contact == contact)).first()
        if existing is not None and existing.active:
            return Redeemed.ALREADY
        invite = session.exec(select(Invite).where(Invite.code_hash == digest)).first()
        if invite is None or invite.used_at is not None or _aware(invite.expires_at) <= now:
            log.info("ambassador invite refused (%s)", "unknown" if invite is None else "spent")
            return Redeemed.REFUSED
        claimed: CursorResult[tuple[()]] = session.execute(  # type: ignore[assignment]
            update(Invite)
            .where(col(Invite.id) == invite.id, col(Invite.used_at).is_(None))
            .values(used_at=now)
        )
        if claimed.rowcount != 1:  # someone else redeemed it meanwhile
            session.rollback()
            log.info("ambassador invite refused (redeemed meanwhile)")
            return Redeemed.REFUSED
        area, invite_id = invite.area, invite.id
        if existing is not None:
            existing.active, existing.area, existing.invite_id = True, area, invite_id
            existing.registered_at = now
            session.add(existing)
        else:
            session.add(
                Ambassador(contact=contact, area=area, invite_id=invite_id, registered_at=now)
            )
        try:
            session.commit()
        except IntegrityError:  # the same person registered meanwhile: the code stays unused
            session.rollback()
            return Redeemed.ALREADY
    log.info("ambassador registered with invite %s", invite_id)
    return Redeemed.REGISTERED


def _aware(moment: datetime) -> datetime:
    """A stored timestamp as aware UTC (SQLite hands some back naive)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=utcnow().tzinfo)


def ambassador(engine: Engine, contact: str) -> Ambassador | None:
    """The active ambassador with this pseudonym, or None."""
    with Session(engine) as session:
        found = session.exec(
            select(Ambassador).where(Ambassador.contact == contact, col(Ambassador.active))
        ).first()
        if found is not None:
            session.expunge(found)
        return found


def is_ambassador(engine: Engine, contact: str) -> bool:
    """True when this pseudonym is an active ambassador."""
    return ambassador(engine, contact) is not None


def reports(engine: Engine, contact: str, *, limit: int = REPORTS_SHOWN) -> list[Report]:
    """The contact's ambassador reports, newest first: reference, date and neutral status."""
    with Session(engine) as session:
        rows = session.exec(
            select(Case.reference, Case.created_at, Case.status)
            .where(Case.contact == contact, Case.kind == KIND)
            .order_by(col(Case.created_at).desc(), col(Case.id).desc())
            .limit(limit)
        ).all()
    return [
        Report(reference, _aware(created), _neutral(status)) for reference, created, status in rows
    ]


def _neutral(value: str) -> str:
    try:
        return NEUTRAL[Status(value)]
    except (KeyError, ValueError):
        return ui.STATUS_RECEIVED


def list_ambassadors(engine: Engine) -> list[AmbassadorRow]:
    """Every ambassador, oldest first, by pseudonym prefix."""
    with Session(engine) as session:
        found = session.exec(select(Ambassador).order_by(col(Ambassador.registered_at))).all()
        return [
            AmbassadorRow(a.contact[:11], a.area, _aware(a.registered_at), a.active) for a in found
        ]
