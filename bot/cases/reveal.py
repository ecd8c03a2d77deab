"""Revealing what a case keeps encrypted, with a reason, on record: its content and a contact.

The content (narrative, answers, safe time, notes) is for the case's holder and supervisors
(``check_holder``). A number the person consented to be called back on is too: the operator
on call who acknowledged a P1 must be able to call back, not only a supervisor. Every reveal
writes an audit entry with the reason, and one ``decrypt`` entry per field opened (through
``audit.decrypt_for``); the caller commits before showing anything.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from bot.cases.access import MAX_REASON, Conflict, check_actor, holds, now_or
from bot.cases.commands import NOTE_BODY, check_holder
from bot.core.privacy import Cipher, DecryptError
from bot.governance import audit
from bot.models import Case, CaseNote, Operator
from bot.team.roles import SUPERVISORS  # read any case

log = logging.getLogger(__name__)

NARRATIVE = "case.narrative"
ANSWERS = "case.answers"
SAFE_TIME = "case.safe_time"
CONTACT_PHONE = "case.contact_phone"


@dataclass(frozen=True)
class NoteText:
    """A note, decrypted for the reader."""

    id: int
    author: str | None
    created_at: datetime
    body: str | None


@dataclass(frozen=True)
class Revealed:
    """A case's encrypted content, opened for one reader."""

    narrative: str | None
    answers: dict[str, str] | None
    safe_time: str | None
    notes: list[NoteText] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    """Encrypted fields no configured key opens (named by context)."""


def check_reason(reason: str) -> str:
    """The reason given, trimmed; ValueError when blank or longer than ``MAX_REASON``."""
    reason = reason.strip()
    if not reason:
        raise ValueError("revealing needs a reason")
    if len(reason) > MAX_REASON:
        raise ValueError(f"a reason is at most {MAX_REASON} characters")
    return reason


def may_read(session: Session, case: Case, actor: Operator) -> bool:
    """May ``actor`` open the case's content: its holder, or a supervisor or admin?"""
    return actor.active and (actor.role in SUPERVISORS or holds(session, case, actor))


def contact_on_file(case: Case) -> bool:
    """Is a number kept that the person consented to be called back on?"""
    return case.consent_contact and case.contact_phone is not None


def may_reveal_contact(session: Session, case: Case, actor: Operator) -> bool:
    """May ``actor`` see the consented number: one is on file and they may read the case."""
    return contact_on_file(case) and may_read(session, case, actor)


class Reader:
    """Opens a case's encrypted fields for one actor and reason, each opening audited."""

    def __init__(self, session: Session, cipher: Cipher, case: Case, actor: str, reason: str):
        self.session, self.cipher, self.case = session, cipher, case
        self.actor, self.reason = actor, reason
        self.unreadable: list[str] = []

    def read(self, token: str | None, context: str) -> str | None:
        """The clear text of ``token`` (None when empty or when no key opens it)."""
        if token is None:
            return None
        try:
            return audit.decrypt_for(
                self.session,
                self.cipher,
                token,
                context,
                actor=self.actor,
                case_id=self.case.id,
                reason=self.reason,
            )
        except DecryptError:
            log.error("case %s: %s cannot be decrypted", self.case.id, context)
            self.unreadable.append(context)
            return None

    def content(self) -> Revealed:
        """The narrative, answers, safe time and notes."""
        narrative = self.read(self.case.narrative, NARRATIVE)
        raw_answers = self.read(self.case.answers, ANSWERS)
        answers = (
            {str(k): str(v) for k, v in dict(json.loads(raw_answers)).items()}
            if raw_answers
            else None
        )
        safe_time = self.read(self.case.safe_time, SAFE_TIME)
        rows = self.session.exec(
            select(CaseNote, Operator.username)
            .join(Operator, col(CaseNote.author_id) == col(Operator.id), isouter=True)
            .where(col(CaseNote.case_id) == self.case.id)
            .order_by(col(CaseNote.created_at), col(CaseNote.id))
        ).all()
        notes = [
            NoteText(note.id or 0, author, note.created_at, self.read(note.body, NOTE_BODY))
            for note, author in rows
        ]
        return Revealed(narrative, answers, safe_time, notes, list(self.unreadable))


def reveal_content(
    session: Session,
    cipher: Cipher,
    *,
    case: Case,
    actor: Operator,
    reason: str,
    now: datetime | None = None,
) -> Revealed:
    """The case's content opened for ``actor``, who says why (holder or supervisor).

    NotPermitted for anyone else (the refusal is audited; the caller commits it). Writes a
    ``reveal`` entry with the reason and a ``decrypt`` entry per field opened.
    """
    check_actor(actor)
    reason = check_reason(reason)
    now = now_or(now)
    assert case.id is not None
    check_holder(session, case, actor, doing="read its content", now=now)
    audit.record(
        session, actor=actor.username, action="reveal", case_id=case.id, reason=reason, at=now
    )
    return Reader(session, cipher, case, actor.username, reason).content()


def reveal_contact(
    session: Session,
    cipher: Cipher,
    *,
    case: Case,
    actor: Operator,
    reason: str,
    now: datetime | None = None,
) -> str:
    """The number the person consented to be called back on, for ``actor``, who says why.

    For the case's holder (who acknowledged it or holds it) and supervisors: NotPermitted for
    anyone else (audited). Conflict when no consented number is kept (never given, consent
    withdrawn, or deleted). Writes a ``reveal_contact`` entry with the reason.
    """
    check_actor(actor)
    reason = check_reason(reason)
    now = now_or(now)
    assert case.id is not None
    check_holder(session, case, actor, doing="see its contact number", now=now)
    if not contact_on_file(case):
        raise Conflict(f"case {case.reference} has no number the person consented to be called on")
    audit.record(
        session,
        actor=actor.username,
        action="reveal_contact",
        case_id=case.id,
        reason=reason,
        at=now,
    )
    reader = Reader(session, cipher, case, actor.username, reason)
    number = reader.read(case.contact_phone, CONTACT_PHONE)
    if number is None:
        raise Conflict(f"case {case.reference}: the number cannot be decrypted (key dropped?)")
    log.info("case %s: contact revealed to %s", case.id, actor.username)
    return number
