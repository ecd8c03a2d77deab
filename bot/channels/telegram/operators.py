"""Hotline operators on Telegram: ``/link CODE``, the alert buttons, and ``/queue``.

- ``/link CODE``: a one-time code from ``POST /api/me/telegram-link`` links the Telegram user
  (by pseudonym) and the chat (encrypted) to the operator; see ``bot.team.telegram_link``. At
  most ``MAX_TRIES`` wrong codes per chat in ``TRIES_WINDOW``: after that every code is refused
  until the window passes, so codes cannot be guessed.
- Alert buttons (``op:ack:<case id>``, ``op:claim:<case id>``): only an active operator linked
  to the tapping Telegram user may use them; they acknowledge (the escalation ladder stops) or
  claim the case exactly as the API does, audited the same way. The answer is a toast.
- ``/queue``: the linked operator's open cases — assigned to them, plus unassigned ones they
  were alerted about, plus, while they are on call, every unassigned P1 and P2 — one line each:
  reference, priority, area, time left (or overdue; "acknowledged" once the target is met) and
  status. Never an answer, a narrative or a contact.

Replies to an operator are in the operator's language; to anyone else in the chat's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from bot.cases import commands, queue
from bot.cases.access import Conflict, NotPermitted
from bot.cases.status import Status
from bot.channels.telegram.bot import Chat, TelegramBot
from bot.channels.telegram.render import language_of
from bot.core.clock import utcnow
from bot.core.privacy import Cipher
from bot.core.settings import Settings
from bot.i18n import ui
from bot.models import Case, Escalation
from bot.outbox.senders.telegram import ACK, OPERATOR_PREFIX, parse_operator_data
from bot.team import telegram_link
from bot.team.oncall import on_call

log = logging.getLogger(__name__)

MAX_TRIES = 5
TRIES_WINDOW = 15 * 60
"""Seconds a chat's wrong ``/link`` codes are counted."""
TRIES_PREFIX = "operator-link-tries"
QUEUE_LINES = 30
URGENT = ("P1", "P2")


def duration(seconds: int) -> str:
    """``3d 4h``, ``2h 10m``, ``15m`` (whole minutes, rounded down)."""
    minutes = max(0, seconds) // 60
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m"


class Operators:
    """The operator commands and buttons of one bot."""

    def __init__(
        self,
        bot: TelegramBot,
        *,
        engine: Engine,
        cipher: Cipher,
        secret: str,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.bot = bot
        self.engine = engine
        self.cipher = cipher
        self.key = telegram_link.link_key(secret)
        self.clock = clock

    def install(self) -> None:
        """Add ``/link``, ``/queue`` and the ``op:`` buttons to the bot."""
        self.bot.command("link", self.link)
        self.bot.command("queue", self.queue)
        self.bot.button_hooks[OPERATOR_PREFIX] = self.button

    # --- helpers --------------------------------------------------------------------------

    def _chat_lang(self, chat: Chat) -> str:
        return chat.record.lang or language_of(chat.language_code) or self.bot.default_language

    def _tr(self, lang: str, msgid: str, **values: str) -> str:
        text = self.bot.content.tr(lang, msgid)
        return text.format(**values) if values else text

    async def _send(self, chat: Chat, text: str) -> None:
        sent = await self.bot.application.bot.send_message(chat.id, text)
        chat.record.remember(sent.message_id)

    # --- /link ----------------------------------------------------------------------------

    async def link(self, chat: Chat, args: list[str]) -> None:
        """``/link CODE``: link this Telegram account to the operator whose code it is."""
        if not args:
            await self._send(chat, self._tr(self._chat_lang(chat), ui.OP_NOT_LINKED))
            return
        tries_key = f"{TRIES_PREFIX}:{chat.name}"
        now = self.clock()
        stamp = now.timestamp()
        state = await self.bot.store.get(tries_key) or {}
        tries = [float(t) for t in state.get("at", []) if float(t) > stamp - TRIES_WINDOW]
        linked: tuple[str, str] | None = None
        if len(tries) < MAX_TRIES:
            linked = await run_in_threadpool(self._redeem, "".join(args), chat, now)
        if linked is None:
            tries.append(stamp)
            await self.bot.store.set(tries_key, {"at": tries}, TRIES_WINDOW)
            log.warning(
                "telegram chat %s: link code refused (%d of %d)",
                chat.name[3:11],
                len(tries),
                MAX_TRIES,
            )
            await self._send(chat, self._tr(self._chat_lang(chat), ui.OP_LINK_REFUSED))
            return
        await self.bot.store.delete(tries_key)
        username, lang = linked
        await self._send(chat, self._tr(lang, ui.OP_LINKED, username=username))

    def _redeem(self, typed: str, chat: Chat, now: datetime) -> tuple[str, str] | None:
        with Session(self.engine) as session:
            operator = telegram_link.redeem(
                session,
                self.key,
                self.cipher,
                typed=typed,
                contact=chat.contact,
                chat_id=chat.id,
                now=now,
            )
            if operator is None:
                session.rollback()
                return None
            found = operator.username, operator.lang
            session.commit()
            return found

    # --- buttons --------------------------------------------------------------------------

    async def button(self, chat: Chat, data: str) -> str | None:
        """An ``op:`` button: acknowledge or claim, as the linked operator; returns the toast."""
        parsed = parse_operator_data(data)
        if parsed is None:
            return self._tr(self._chat_lang(chat), ui.STALE_BUTTON)
        action, case_id = parsed
        return await run_in_threadpool(self._act, chat, action, case_id, self.clock())

    def _act(self, chat: Chat, action: str, case_id: int, now: datetime) -> str:
        with Session(self.engine) as session:
            operator = telegram_link.linked_operator(session, chat.contact)
            if operator is None:
                log.warning("telegram chat %s: operator button refused", chat.name[3:11])
                return self._tr(self._chat_lang(chat), ui.OP_NOT_ALLOWED)
            lang = operator.lang
            case = session.get(Case, case_id)
            if case is None or case.anonymised_at is not None:
                return self._tr(lang, ui.OP_CASE_CLOSED, reference="-")
            reference = case.reference
            try:
                if action == ACK:
                    commands.acknowledge(session, case=case, actor=operator, now=now)
                    done = ui.OP_ACKNOWLEDGED
                else:
                    if case.status == Status.CLOSED:
                        return self._tr(lang, ui.OP_CASE_CLOSED, reference=reference)
                    commands.claim(session, case=case, actor=operator, now=now)
                    done = ui.OP_CLAIMED
                session.commit()
            except NotPermitted:
                session.rollback()
                return self._tr(lang, ui.OP_NOT_ALLOWED)
            except Conflict:
                session.rollback()
                return self._tr(lang, ui.OP_CLAIMED_BY_OTHER, reference=reference)
            log.info("case %s: %s by %s on Telegram", case.id, action, operator.username)
            return self._tr(lang, done, reference=reference)

    # --- /queue ---------------------------------------------------------------------------

    async def queue(self, chat: Chat, args: list[str]) -> None:
        """``/queue``: the linked operator's open cases, one line each (nothing reported)."""
        found = await run_in_threadpool(self._queue, chat, self.clock())
        await self._send(chat, found)

    def _queue(self, chat: Chat, now: datetime) -> str:
        with Session(self.engine) as session:
            operator = telegram_link.linked_operator(session, chat.contact)
            if operator is None:
                return self._tr(self._chat_lang(chat), ui.OP_NOT_LINKED)
            lang = operator.lang
            alerted = set(
                session.exec(
                    select(Case.reference)
                    .join(Escalation, col(Escalation.case_id) == col(Case.id))
                    .where(col(Escalation.operator_id) == operator.id)
                ).all()
            )
            team = on_call(session, now)
            on_duty = operator.id in {
                o.id for o in (team.primary, team.backup, team.supervisor) if o
            }
            mine = [
                item
                for item in queue.open_cases(session, now=now)
                if item.assignee == operator.username
                or (
                    item.assignee is None
                    and (item.reference in alerted or (on_duty and item.priority in URGENT))
                )
            ]
        if not mine:
            return self._tr(lang, ui.OP_QUEUE_EMPTY)
        lines = [self._tr(lang, ui.OP_QUEUE_TITLE)]
        for item in mine[:QUEUE_LINES]:
            if item.target_met:
                timing = self._tr(lang, ui.OP_ON_TRACK)
            elif item.seconds_left >= 0:
                timing = self._tr(lang, ui.OP_TIME_LEFT, time=duration(item.seconds_left))
            else:
                timing = self._tr(lang, ui.OP_OVERDUE, time=duration(-item.seconds_left))
            area = item.area or "-"
            lines.append(f"{item.reference} · {item.priority} · {area} · {timing} · {item.status}")
        if len(mine) > QUEUE_LINES:
            lines.append(f"… +{len(mine) - QUEUE_LINES}")
        return "\n".join(lines)


def install(
    bot: TelegramBot,
    *,
    engine: Engine,
    cipher: Cipher,
    settings: Settings,
    clock: Callable[[], datetime] = utcnow,
) -> Operators:
    """Give the bot its operator side (``/link``, ``/queue``, alert buttons)."""
    secret = settings.pseudonym_key.get_secret_value() if settings.pseudonym_key else ""
    operators = Operators(bot, engine=engine, cipher=cipher, secret=secret, clock=clock)
    operators.install()
    return operators
