"""Linking an operator's Telegram account: one-time codes, kept only as a keyed hash.

An operator asks their account for a code (``POST /api/me/telegram-link``) and sends
``/link CODE`` to the bot. A code is 8 characters from an alphabet without look-alikes
(``KQ7M-4CXT``; typed in any case, with or without the dash), valid ``CODE_TTL``, and works
once: it is spent by a compare-and-set on ``used_at``, so two chats racing with one code cannot
both win. The database keeps HMAC(pseudonym key, code), never the code.

Once linked, the operator row holds the pseudonym of the Telegram user (``telegram_contact``,
to recognise their taps and commands) and the chat id encrypted (``telegram_chat``, context
``operator.telegram_chat``, to send alerts): never a Telegram id in clear. A Telegram account
is linked to one operator at most: linking it again moves it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, update
from sqlmodel import Session, col, select

from bot.cases.reference import LETTERS
from bot.core.privacy import Cipher, DecryptError
from bot.governance import audit
from bot.models import Operator, OperatorLink

log = logging.getLogger(__name__)

CODE_TTL = timedelta(minutes=15)
CODE_LENGTH = 8
ALPHABET = LETTERS
"""Letters and digits without look-alikes (no 0/O, 1/I/L, 2/Z, 5/S, 8/B)."""
CHAT_CONTEXT = "operator.telegram_chat"
_NOT_CODE = re.compile(r"[^A-Z0-9]")


def link_key(secret: str) -> bytes:
    """The key codes are hashed under: HMAC(pseudonym key, "operator-link"), for this use only."""
    if not secret.strip():
        raise RuntimeError("no HOTLINE_PSEUDONYM_KEY to derive the link code key from")
    return hmac.new(secret.encode(), b"operator-link", hashlib.sha256).digest()


def normalise(typed: str) -> str | None:
    """A code as typed (``kq7m 4cxt``, ``KQ7M4CXT``), or None when it cannot be one."""
    compact = _NOT_CODE.sub("", typed.upper())
    if len(compact) != CODE_LENGTH or any(c not in ALPHABET for c in compact):
        return None
    return compact


def code_hash(key: bytes, code: str) -> str:
    """What the database keeps of a (normalised) code."""
    return hmac.new(key, b"code:" + code.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class NewCode:
    """A code to show the operator once, and when it stops working."""

    code: str
    expires_at: datetime


def new_code(session: Session, key: bytes, *, operator: Operator, now: datetime) -> NewCode:
    """A fresh code for ``operator`` (earlier unused codes of theirs stop working); the caller
    commits."""
    assert operator.id is not None
    session.execute(
        delete(OperatorLink).where(
            col(OperatorLink.operator_id) == operator.id, col(OperatorLink.used_at).is_(None)
        )
    )
    compact = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    expires_at = now + CODE_TTL
    session.add(
        OperatorLink(
            operator_id=operator.id,
            code_hash=code_hash(key, compact),
            created_at=now,
            expires_at=expires_at,
        )
    )
    audit.record(session, actor=operator.username, action="telegram_code", at=now)
    return NewCode(code=f"{compact[:4]}-{compact[4:]}", expires_at=expires_at)


def redeem(
    session: Session,
    key: bytes,
    cipher: Cipher,
    *,
    typed: str,
    contact: str,
    chat_id: int,
    now: datetime,
) -> Operator | None:
    """Link the Telegram user ``contact`` (a pseudonym) in chat ``chat_id`` to the operator
    whose code this is; None (nothing stored) for a wrong, used or expired code, or an
    operator no longer active. The caller commits."""
    code = normalise(typed)
    if code is None:
        return None
    link = session.exec(
        select(OperatorLink).where(col(OperatorLink.code_hash) == code_hash(key, code))
    ).first()
    if link is None or link.used_at is not None or link.expires_at <= now:
        return None
    operator = session.get(Operator, link.operator_id)
    if operator is None or not operator.active:
        return None
    spent = cast(
        "CursorResult[Any]",
        session.execute(
            update(OperatorLink)
            .where(col(OperatorLink.id) == link.id, col(OperatorLink.used_at).is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        ),
    )
    if spent.rowcount != 1:  # another chat used it a moment ago
        return None
    for other in session.exec(
        select(Operator).where(
            col(Operator.telegram_contact) == contact, col(Operator.id) != operator.id
        )
    ).all():
        other.telegram_contact = None
        other.telegram_chat = None
        session.add(other)
        audit.record(
            session,
            actor=operator.username,
            action="telegram_unlink",
            reason=f"{other.username}: account linked to {operator.username}",
            at=now,
        )
    operator.telegram_contact = contact
    operator.telegram_chat = cipher.encrypt(str(chat_id), CHAT_CONTEXT)
    session.add(operator)
    audit.record(session, actor=operator.username, action="telegram_link", at=now)
    log.info("operator %s linked a Telegram account", operator.username)
    return operator


def unlink(session: Session, *, operator: Operator, now: datetime) -> bool:
    """Forget the operator's Telegram account (and unused codes); False when none was linked.
    The caller commits."""
    assert operator.id is not None
    session.execute(
        delete(OperatorLink).where(
            col(OperatorLink.operator_id) == operator.id, col(OperatorLink.used_at).is_(None)
        )
    )
    linked = operator.telegram_contact is not None or operator.telegram_chat is not None
    operator.telegram_contact = None
    operator.telegram_chat = None
    session.add(operator)
    if linked:
        audit.record(session, actor=operator.username, action="telegram_unlink", at=now)
        log.info("operator %s unlinked their Telegram account", operator.username)
    return linked


def linked_operator(session: Session, contact: str) -> Operator | None:
    """The active operator linked to the Telegram user ``contact`` (a pseudonym), or None."""
    operator = session.exec(
        select(Operator).where(col(Operator.telegram_contact) == contact)
    ).first()
    return operator if operator is not None and operator.active else None


def chat_of(cipher: Cipher, operator: Operator) -> str | None:
    """The operator's Telegram chat id (decrypted, for sending only), or None."""
    if operator.telegram_chat is None:
        return None
    try:
        return cipher.decrypt(operator.telegram_chat, CHAT_CONTEXT)
    except DecryptError:
        log.error("operator %s Telegram chat cannot be decrypted", operator.username)
        return None
