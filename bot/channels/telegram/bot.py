"""The Telegram bot: python-telegram-bot's Application without its updater, fed by our webhook.

Updates arrive at ``POST /telegram/webhook`` (``telegram_webhook.py``) and are processed in the
request: commands (``/start``, ``/language``, ``/exit`` and any added with ``command``), button
taps and typed replies all go through the ``Conversations`` service, like USSD and SMS. Chat and
user ids live in memory only: sessions, events and logs carry their pseudonyms; the chat id
is handed to the cases service as the person's address, kept (encrypted) only when they agree to
be contacted, so an operator can answer in the chat. Per chat the
store keeps the message ids the quick exit deletes, the current screen and the language chosen.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from telegram import Bot, Message, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.channels.telegram.render import (
    SCREENS,
    TelegramRenderer,
    keyboard,
    language_of,
    parse_callback,
    split_message,
)
from bot.content.files import Content
from bot.conversation.ports import Screen
from bot.conversation.service import Conversations
from bot.core.privacy import pseudonym
from bot.core.settings import Settings
from bot.engine.runner import EXIT_KEY
from bot.engine.state import fill
from bot.i18n import ui
from bot.outbox.senders.telegram_logs import quiet_telegram_logs
from bot.sessions import SessionBusy, SessionStore

log = logging.getLogger(__name__)

CHAT_PREFIX = "telegram-chat"
CHAT_TTL = 30 * 24 * 3600
"""How long a chat's record (message ids, screen, language) outlives its last message."""
MAX_MESSAGES = 200
"""Message ids kept per chat for the quick exit (Telegram lets a bot delete them for 48 h)."""
DELETE_BATCH = 100
"""``deleteMessages`` takes at most 100 ids at once."""
ALLOWED_UPDATES = ["message", "callback_query"]
"""What the webhook asks Telegram for (edits, channel posts, inline queries are not needed)."""
LANGUAGE_MENU: tuple[str, str | None] = ("main", "language")
MAIN_MENU: tuple[str, str | None] = ("main", "menu")
PRIVATE = filters.ChatType.PRIVATE

Context = ContextTypes.DEFAULT_TYPE
TelegramApp = Application[Any, Any, Any, Any, Any, Any]


@dataclass
class ChatRecord:
    """What the bot keeps for a chat, under its pseudonym: nothing a person said."""

    messages: list[int] = field(default_factory=list)
    screen: int = 0
    lang: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> ChatRecord:
        """From the session store (missing or malformed: a fresh record)."""
        data = data or {}
        messages = [m for m in data.get("messages", []) if isinstance(m, int)]
        screen = data.get("screen")
        lang = data.get("lang")
        return cls(
            messages=messages[-MAX_MESSAGES:],
            screen=screen if isinstance(screen, int) else 0,
            lang=lang if isinstance(lang, str) else None,
        )

    def to_dict(self) -> dict[str, Any]:
        """For the session store."""
        return {"messages": self.messages[-MAX_MESSAGES:], "screen": self.screen, "lang": self.lang}

    def remember(self, message_id: int) -> None:
        """Keep a message id for the quick exit (the newest ``MAX_MESSAGES``)."""
        if message_id not in self.messages:
            self.messages.append(message_id)
            del self.messages[:-MAX_MESSAGES]


@dataclass
class Chat:
    """One update's private chat: its id (memory only), its pseudonyms and its record."""

    id: int
    name: str
    """The chat's pseudonym: names its conversation and record."""
    contact: str
    """The person's pseudonym, handed to the cases service with events."""
    language_code: str | None
    record: ChatRecord
    closed: bool = False

    @property
    def key(self) -> str:
        """The conversation's session key."""
        return f"telegram:{self.name}"

    @property
    def record_key(self) -> str:
        """The session store key of the chat's record."""
        return f"{CHAT_PREFIX}:{self.name}"


CommandCallback = Callable[[Chat, list[str]], Awaitable[None]]
"""A ``/command`` handler: the chat and the words after the command."""
StartPayload = Callable[[Chat, str], Awaitable[bool]]
"""Handles a ``/start CODE`` deep-link payload; True when it took the conversation over."""
StartMenu = Callable[[Chat], Awaitable[tuple[str, str | None] | None]]
"""Where a plain ``/start`` opens for this chat (flow, state), or None for the main menu."""
LocationHandler = Callable[[Chat, float, float], Awaitable[bool]]
"""Takes a shared location (latitude, longitude; never to be kept); True when it used it."""
ButtonHook = Callable[[Chat, str], Awaitable[str | None]]
"""Handles a tapped button whose data starts with its prefix (``op:``); returns a toast."""


def api_urls(api_base: str | None) -> tuple[str, str]:
    """The Bot API and file URLs: Telegram's, or a local Bot API server's (its root URL)."""
    root = (api_base or "").strip().rstrip("/")
    if not root:
        return "https://api.telegram.org/bot{token}", "https://api.telegram.org/file/bot{token}"
    if "{token}" in root:
        return root, root
    return f"{root}/bot{{token}}", f"{root}/file/bot{{token}}"


def make_bot(settings: Settings) -> Bot:
    """A bare Bot API client (for the CLI), on the local Bot API server when one is set."""
    token = _token(settings)
    quiet_telegram_logs(token)
    base_url, base_file_url = api_urls(settings.telegram_api_base)
    return Bot(token, base_url=base_url, base_file_url=base_file_url)


def _token(settings: Settings) -> str:
    token = settings.telegram_token.get_secret_value() if settings.telegram_token else ""
    if not token.strip():
        raise ValueError("HOTLINE_TELEGRAM_TOKEN is not set")
    return token.strip()


class TelegramBot:
    """The hotline on Telegram: one Application, its handlers and the per-chat record."""

    def __init__(
        self,
        settings: Settings,
        content: Content,
        conversations: Conversations,
        store: SessionStore,
    ) -> None:
        token = _token(settings)
        quiet_telegram_logs(token)
        base_url, base_file_url = api_urls(settings.telegram_api_base)
        self.application: TelegramApp = (
            Application.builder()
            .token(token)
            .base_url(base_url)
            .base_file_url(base_file_url)
            .updater(None)
            .build()
        )
        self.content = content
        self.conversations = conversations
        self.store = store
        self.default_language = settings.default_language
        self._key = settings.pseudonym_key.get_secret_value() if settings.pseudonym_key else ""
        self._starting = asyncio.Lock()
        self.start_payloads: list[StartPayload] = []
        """Hooks for ``/start CODE`` (ambassador invites); tried in order before the menu."""
        self.start_menus: list[StartMenu] = []
        """Hooks choosing where a plain ``/start`` opens (the ambassador menu); first wins."""
        self.location_handlers: list[LocationHandler] = []
        """Hooks offered a shared location before it is refused like other media."""
        self.button_hooks: dict[str, ButtonHook] = {}
        """Buttons outside the flows, by the prefix of their data (``op`` for ``op:ack:12``)."""
        self.command("start", self._start_command)
        self.command("language", self._language_command)
        self.command("exit", self._exit_command)
        text = PRIVATE & filters.UpdateType.MESSAGE & filters.TEXT
        media = PRIVATE & filters.UpdateType.MESSAGE & ~filters.TEXT
        self.application.add_handler(MessageHandler(text, self._on_text), group=1)
        self.application.add_handler(MessageHandler(media, self._on_media), group=1)
        self.application.add_handler(CallbackQueryHandler(self._on_button), group=1)
        self.application.add_error_handler(self._on_error)

    # --- life cycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Initialise and start; if Telegram is unreachable, the next update tries again."""
        try:
            await self._running()
        except Exception as exc:  # the hotline's other channels must start all the same
            log.warning("telegram bot not started (%s); retried on the next update", _name(exc))

    async def stop(self) -> None:
        """Stop and release the bot's HTTP clients."""
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    async def process(self, data: dict[str, Any]) -> None:
        """Handle one update from the webhook (handlers run before this returns); raise only
        when the bot cannot start, so that Telegram sends the update again."""
        await self._running()
        try:
            update = Update.de_json(data, self.application.bot)
        except (KeyError, TypeError, ValueError) as exc:  # not something Telegram sends
            log.warning("telegram update not understood (%s); ignored", _name(exc))
            return
        await self.application.process_update(update)

    async def _running(self) -> None:
        async with self._starting:
            if not self.application.running:
                await self.application.initialize()
                await self.application.start()

    # --- commands -----------------------------------------------------------------------------

    def command(self, name: str, callback: CommandCallback) -> None:
        """Add ``/name`` in private chats (later: /reports, /services, /queue)."""

        async def handle(update: Update, context: Context) -> None:
            async with self._chat(update) as chat:
                if chat is not None:
                    await callback(chat, list(context.args or []))
            raise ApplicationHandlerStop  # a command is not also a typed answer

        self.application.add_handler(CommandHandler(name, handle, filters=PRIVATE), group=0)

    async def _start_command(self, chat: Chat, args: list[str]) -> None:
        """``/start``: the main menu in the person's language, else the language menu."""
        if args:
            for hook in self.start_payloads:
                if await hook(chat, args[0]):
                    return
        for menu in self.start_menus:
            at = await menu(chat)
            if at is not None:
                await self.begin(chat, at=at)
                return
        await self.begin(chat)

    async def _language_command(self, chat: Chat, args: list[str]) -> None:
        """``/language``: the language menu."""
        await self.begin(chat, at=LANGUAGE_MENU)

    async def _exit_command(self, chat: Chat, args: list[str]) -> None:
        """``/exit``: the quick exit."""
        await self.quick_exit(chat)

    # --- updates ------------------------------------------------------------------------------

    async def _on_text(self, update: Update, context: Context) -> None:
        """A typed message: the answer to the current screen, or the start of a conversation."""
        async with self._chat(update) as chat:
            message = update.effective_message
            if chat is None or message is None or message.text is None:
                return
            if message.text.strip() == EXIT_KEY:
                await self.quick_exit(chat)
            elif await self.store.get(chat.key) is None:
                await self.begin(chat)
            else:
                await self.answer(chat, message.text)

    async def _on_media(self, update: Update, context: Context) -> None:
        """A photo, voice note, file, sticker...: kindly refused; nothing of it is kept. A
        location is first offered to ``location_handlers`` (its coordinates are never kept)."""
        async with self._chat(update) as chat:
            if chat is None:
                return
            message = update.effective_message
            where = message.location if message is not None else None
            if where is not None:
                for hook in self.location_handlers:
                    if await hook(chat, where.latitude, where.longitude):
                        return
            await self.say(chat, ui.MEDIA_REFUSED)

    async def _on_button(self, update: Update, context: Context) -> None:
        """A tapped button: the answer, shown in place of the message it was on."""
        query = update.callback_query
        if query is None:
            return
        toast: str | None = None
        try:
            async with self._chat(update) as chat:
                if chat is None:
                    return
                hook = self.button_hooks.get((query.data or "").partition(":")[0])
                parsed = parse_callback(query.data)
                if hook is not None:
                    toast = await hook(chat, query.data or "")
                elif parsed is None or parsed[0] != chat.record.screen:
                    toast = self._tr(chat, ui.STALE_BUTTON)
                elif parsed[1] == EXIT_KEY:
                    await self.quick_exit(chat)
                else:
                    on = query.message.message_id if isinstance(query.message, Message) else None
                    await self.answer(chat, parsed[1], edit=on)
        finally:
            with contextlib.suppress(TelegramError):
                await query.answer(text=toast)

    async def _on_error(self, update: object, context: Context) -> None:
        """PTB's error hook: name the error only (its text may quote an update)."""
        log.error("telegram update failed: %s", _name(context.error))

    @contextlib.asynccontextmanager
    async def _chat(self, update: Update) -> AsyncIterator[Chat | None]:
        """The update's private chat (None for any other), locked, its record saved after.

        A busy chat or a failure is told to the person: nothing was acknowledged.
        """
        found = update.effective_chat
        if found is None or found.type != "private":
            yield None
            return
        name = pseudonym(self._key, "telegram", str(found.id))
        user = update.effective_user
        record_key = f"{CHAT_PREFIX}:{name}"
        async with contextlib.AsyncExitStack() as stack:
            try:
                await stack.enter_async_context(self.store.lock(record_key))
            except SessionBusy:
                log.warning("telegram chat %s busy", name[3:11])
                await self._busy(found.id)
                yield None
                return
            chat = Chat(
                id=found.id,
                name=name,
                contact=pseudonym(self._key, "telegram", str(user.id)) if user else name,
                language_code=user.language_code if user else None,
                record=ChatRecord.from_dict(await self.store.get(record_key)),
            )
            if update.message is not None:
                chat.record.remember(update.message.message_id)
            try:
                yield chat
            except SessionBusy:
                log.warning("telegram chat %s busy", name[3:11])
                await self._busy(found.id)
            except Exception as exc:
                log.exception("telegram chat %s failed (%s)", name[3:11], _name(exc))
                with contextlib.suppress(Exception):
                    await self.say(chat, ui.NOT_SAVED)
            finally:
                if not chat.closed:
                    await self.store.set(record_key, chat.record.to_dict(), CHAT_TTL)

    async def _busy(self, chat_id: int) -> None:
        with contextlib.suppress(TelegramError):
            text = self.content.tr(self.default_language, ui.BUSY)
            await self.application.bot.send_message(chat_id, text)

    # --- what the person sees -----------------------------------------------------------------

    def _lang(self, chat: Chat) -> str:
        return chat.record.lang or language_of(chat.language_code) or self.default_language

    def _tr(self, chat: Chat, msgid: str) -> str:
        return fill(self.content.tr(self._lang(chat), msgid), self.conversations.values)

    def renderer(self) -> TelegramRenderer:
        """A renderer for one update (it notes the language of what it showed)."""
        return TelegramRenderer(self.content.tr, taps=True)

    async def begin(self, chat: Chat, *, at: tuple[str, str | None] | None = None) -> None:
        """Start the conversation: at ``at``, else the main menu in a known language, else the
        language menu."""
        known = chat.record.lang or language_of(chat.language_code)
        flow, state = at or (MAIN_MENU if known else ("main", None))
        renderer = self.renderer()
        screen = await self.conversations.start(
            chat.key,
            renderer,
            self._lang(chat),
            flow=flow,
            at=state,
            contact=chat.contact,
            address=str(chat.id),
        )
        chat.record.lang = renderer.lang or chat.record.lang
        await self.show(chat, screen)

    async def answer(self, chat: Chat, text: str, *, edit: int | None = None) -> None:
        """Apply an answer (a button's key or typed text) and show what comes next."""
        renderer = self.renderer()
        screen = await self.conversations.reply(
            chat.key, text, renderer, self._lang(chat), contact=chat.contact, address=str(chat.id)
        )
        chat.record.lang = renderer.lang or chat.record.lang
        await self.show(chat, screen, edit=edit)

    async def say(self, chat: Chat, msgid: str) -> None:
        """Send one translated line (buttons of earlier messages stay usable)."""
        sent = await self.application.bot.send_message(chat.id, self._tr(chat, msgid))
        chat.record.remember(sent.message_id)

    async def show(self, chat: Chat, screen: Screen, *, edit: int | None = None) -> None:
        """Send a screen (split past 4096 characters; buttons under the last part), editing
        message ``edit`` into its first part when given."""
        chat.record.screen = (chat.record.screen + 1) % SCREENS
        markup = keyboard(screen.buttons, chat.record.screen)
        chunks = split_message(screen.text)
        bot = self.application.bot
        for number, chunk in enumerate(chunks):
            buttons = markup if number == len(chunks) - 1 else None
            if number == 0 and edit is not None and await self._edit(chat, edit, chunk, buttons):
                continue
            sent = await bot.send_message(chat.id, chunk, reply_markup=buttons)
            chat.record.remember(sent.message_id)

    async def _edit(self, chat: Chat, message_id: int, text: str, buttons: Any) -> bool:
        """Edit a message in place; False when Telegram will not (then a new one is sent)."""
        try:
            await self.application.bot.edit_message_text(
                text, chat_id=chat.id, message_id=message_id, reply_markup=buttons
            )
        except BadRequest:  # too old to edit, or gone
            return False
        return True

    async def quick_exit(self, chat: Chat) -> None:
        """End the conversation and delete every message of it the bot can; keep nothing."""
        await self.conversations.end(chat.key)
        ids = sorted(set(chat.record.messages))
        for start in range(0, len(ids), DELETE_BATCH):
            try:
                await self.application.bot.delete_messages(
                    chat.id, ids[start : start + DELETE_BATCH]
                )
            except TelegramError as exc:
                log.info("telegram quick exit: some messages not deleted (%s)", _name(exc))
        chat.closed = True
        await self.store.delete(chat.record_key)


def _name(error: BaseException | None) -> str:
    """An error's class name: its text may quote the token or a chat."""
    return type(error).__name__ if error is not None else "unknown error"
