"""Shifts announced: each person on a shift is told when it starts, naming their role; a shift
that will start without an active primary is told to its supervisor beforehand.

- When a shift starts, its primary, backup and supervisor each get one message (by Telegram
  when they linked it, else by SMS to their on-call phone): their role and when it ends. A
  shift already running for more than ``LATE`` is not announced any more (a worker that was
  down does not send stale news).
- ``notice`` (``HOTLINE_SHIFT_NOTICE_MINUTES``, an hour) before a shift whose primary is not an
  active member of the team starts, its supervisor is told once (else nobody: logged); and
  ``notice`` before a stretch that no shift covers (a gap in the rota), the supervisor on call
  now is told once.

Each message has an outbox key of its cause (``shift:{shift}:{operator}``,
``shift-gap:{shift}``, ``rota-gap:{start}``), written in the transaction that decides it: run
by several workers, or every minute, each goes once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.core.privacy import Cipher, DecryptError
from bot.i18n import ui
from bot.i18n.translate import Translate
from bot.models import Operator, OutboundMessage, Shift
from bot.outbox import queue
from bot.team.oncall import on_call
from bot.team.rota import as_utc
from bot.team.telegram_link import chat_of
from bot.team.week import gaps

log = logging.getLogger(__name__)

LATE = timedelta(hours=1)
"""A shift running longer than this without its announcement is not announced any more."""
NOTICE = timedelta(hours=1)
ROLES = (
    ("primary", ui.SHIFT_PRIMARY),
    ("backup", ui.SHIFT_BACKUP),
    ("supervisor", ui.SHIFT_SUPERVISOR),
)
PHONE_CONTEXT = "operator.phone"


def when(at: datetime) -> str:
    """A time as the messages show it: ``06/12 20:00 UTC`` (the rota is kept in UTC)."""
    return f"{as_utc(at):%d/%m %H:%M} UTC"


def announce(
    engine: Engine,
    cipher: Cipher,
    tr: Translate,
    *,
    now: datetime,
    notice: timedelta = NOTICE,
) -> list[int]:
    """Queue every announcement due at ``now``; returns the outbox ids to deliver."""
    queued: list[int] = []
    with Session(engine) as session:
        started = session.exec(
            select(Shift.id).where(
                col(Shift.starts_at) <= now,
                col(Shift.starts_at) > now - LATE,
                col(Shift.ends_at) > now,
            )
        ).all()
        coming = session.exec(
            select(Shift.id).where(col(Shift.starts_at) > now, col(Shift.starts_at) <= now + notice)
        ).all()
    for shift_id in [i for i in started if i is not None]:
        queued.extend(_once(engine, _starts, cipher, tr, shift_id))
    for shift_id in [i for i in coming if i is not None]:
        queued.extend(_once(engine, _no_primary, cipher, tr, shift_id))
    with Session(engine) as session:
        gap = _next_gap(session, now, notice)
    if gap is not None:
        queued.extend(_once(engine, _gap, cipher, tr, int(gap.timestamp()), now))
    return queued


def _next_gap(session: Session, now: datetime, notice: timedelta) -> datetime | None:
    """When, within ``notice`` from now, no shift covers the rota (the start of the first such
    gap; a shift whose primary is inactive is ``_no_primary``'s); None when covered all along,
    or when nothing covers now either (nobody is on call to tell)."""
    shifts = session.exec(
        select(Shift).where(col(Shift.starts_at) < now + notice, col(Shift.ends_at) > now)
    ).all()
    covered = [(as_utc(s.starts_at), as_utc(s.ends_at)) for s in shifts]
    found = gaps(covered, now, now + notice)
    return found[0].starts_at if found and found[0].starts_at > now else None


Decision = Callable[..., list[int]]


def _once(engine: Engine, decide: Decision, *args: object) -> list[int]:
    """Run one decision in its own transaction; a twin that committed first wins."""
    with Session(engine) as session:
        try:
            found = decide(session, *args)
            session.commit()
        except IntegrityError:  # another worker queued the same announcement a moment ago
            session.rollback()
            return []
    return found


def _active(session: Session, operator_id: int | None) -> Operator | None:
    operator = session.get(Operator, operator_id) if operator_id is not None else None
    return operator if operator is not None and operator.active else None


def _starts(session: Session, cipher: Cipher, tr: Translate, shift_id: int) -> list[int]:
    """The start of a shift, told to each of its people once, naming their role."""
    shift = session.get(Shift, shift_id)
    if shift is None:
        return []
    queued: list[int] = []
    told: set[int] = set()
    for (_role, message), operator_id in zip(
        ROLES, (shift.primary_id, shift.backup_id, shift.supervisor_id), strict=True
    ):
        operator = _active(session, operator_id)
        if operator is None or operator.id is None or operator.id in told:
            continue
        told.add(operator.id)
        text = tr(operator.lang, message).format(ends=when(shift.ends_at))
        sent = _send(session, cipher, operator, f"shift:{shift_id}:{operator.id}", text)
        if sent is not None:
            queued.append(sent)
    return queued


def _no_primary(session: Session, cipher: Cipher, tr: Translate, shift_id: int) -> list[int]:
    """A coming shift whose primary is not active: its supervisor is told, once."""
    shift = session.get(Shift, shift_id)
    if shift is None or _active(session, shift.primary_id) is not None:
        return []
    supervisor = _active(session, shift.supervisor_id)
    if supervisor is None:
        log.error("shift %s starts without a primary and has no supervisor to tell", shift_id)
        return []
    text = tr(supervisor.lang, ui.SHIFT_NO_PRIMARY).format(starts=when(shift.starts_at))
    sent = _send(session, cipher, supervisor, f"shift-gap:{shift_id}", text)
    if sent is not None:
        log.warning("shift %s starts without a primary; its supervisor is told", shift_id)
    return [sent] if sent is not None else []


def _gap(session: Session, cipher: Cipher, tr: Translate, starts: int, now: datetime) -> list[int]:
    """A stretch of the rota soon without a primary (no shift at all): the supervisor on call
    now is told, once per gap."""
    supervisor = on_call(session, now).supervisor
    at = datetime.fromtimestamp(starts, UTC)
    if supervisor is None:
        log.error("the rota has no primary from %s and no supervisor on call to tell", at)
        return []
    text = tr(supervisor.lang, ui.SHIFT_NO_PRIMARY).format(starts=when(at))
    sent = _send(session, cipher, supervisor, f"rota-gap:{starts}", text)
    if sent is not None:
        log.warning("the rota has no primary from %s; the supervisor on call is told", at)
    return [sent] if sent is not None else []


def _send(session: Session, cipher: Cipher, operator: Operator, key: str, text: str) -> int | None:
    """One message to an operator, by Telegram when linked, else by SMS; None when it was
    queued before (nothing new to deliver) or they have neither."""
    if session.exec(select(OutboundMessage.id).where(col(OutboundMessage.key) == key)).first():
        return None
    chat = chat_of(cipher, operator)
    channel, recipient = ("telegram", chat) if chat is not None else ("sms", None)
    if recipient is None:
        if operator.phone is None:
            log.warning("operator %s has no phone or Telegram for rota news", operator.username)
            return None
        try:
            recipient = cipher.decrypt(operator.phone, PHONE_CONTEXT)
        except DecryptError:
            log.error("operator %s phone cannot be decrypted", operator.username)
            return None
    message = queue.enqueue(
        session,
        cipher,
        key=key,
        channel=channel,
        purpose="rota",
        contact=f"op_{operator.id}",
        recipient=recipient,
        body=text,
        lang=operator.lang,
    )
    session.flush()
    assert message.id is not None
    return message.id
