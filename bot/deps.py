"""Shared dependencies as typed ``Annotated`` aliases; tests swap them with dependency_overrides."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, Protocol, cast

from fastapi import Depends, Header, HTTPException, Request
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.content.files import Content
from bot.conversation.service import Conversations
from bot.core.clock import utcnow
from bot.core.privacy import Cipher
from bot.core.settings import Settings
from bot.outbox.notify import Notifier
from bot.sessions.base import SessionStore

log = logging.getLogger(__name__)


async def get_settings(request: Request) -> Settings:
    """The running app's settings (async: FastAPI runs plain functions in a thread)."""
    return cast(Settings, request.app.state.settings)


async def get_content(request: Request) -> Content:
    """The loaded flows and catalogs."""
    return cast(Content, request.app.state.content)


async def get_store(request: Request) -> SessionStore:
    """The session store."""
    return cast(SessionStore, request.app.state.store)


async def get_engine(request: Request) -> Engine:
    """The SQL engine."""
    return cast(Engine, request.app.state.engine)


async def get_conversations(request: Request) -> Conversations:
    """The conversation service every channel uses."""
    return cast(Conversations, request.app.state.conversations)


SettingsDep = Annotated[Settings, Depends(get_settings)]
ContentDep = Annotated[Content, Depends(get_content)]
StoreDep = Annotated[SessionStore, Depends(get_store)]
EngineDep = Annotated[Engine, Depends(get_engine)]
ConversationsDep = Annotated[Conversations, Depends(get_conversations)]


def get_db(engine: EngineDep) -> Iterator[Session]:
    """A session shared by the request's dependencies and its handler (which commits).

    Plain (not async): FastAPI runs it in a thread, since closing a session may wait on the
    database.
    """
    with Session(engine) as session:
        yield session


async def get_now() -> datetime:
    """Now (UTC); tests override it to run deadlines and timeouts on a fixed clock."""
    return utcnow()


DbSession = Annotated[Session, Depends(get_db)]
"""One database session per request (the JSON API and the team web alike)."""
Now = Annotated[datetime, Depends(get_now)]
"""One clock reading per request."""


async def get_cipher(request: Request) -> Cipher:
    """Encryption under HOTLINE_ENCRYPTION_KEYS."""
    return cast(Cipher, request.app.state.cipher)


async def get_notifier(request: Request) -> Notifier:
    """Tells the outbox workers that messages were committed."""
    return cast(Notifier, request.app.state.notifier)


async def verify_callback_token(token: str, settings: SettingsDep) -> None:
    """Refuse a provider callback whose secret path token is wrong (constant-time compare)."""
    expected = settings.callback_token.get_secret_value() if settings.callback_token else ""
    if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        log.warning("provider callback refused: wrong token")
        raise HTTPException(status_code=403, detail="forbidden")


CipherDep = Annotated[Cipher, Depends(get_cipher)]
NotifierDep = Annotated[Notifier, Depends(get_notifier)]
CallbackToken = Depends(verify_callback_token)


class UpdateProcessor(Protocol):
    """What the webhook needs of the Telegram bot (``bot.channels.telegram.bot.TelegramBot``)."""

    async def process(self, data: dict[str, Any]) -> None:
        """Handle one update."""
        ...


async def get_telegram(request: Request) -> UpdateProcessor:
    """The Telegram bot; 404 when HOTLINE_TELEGRAM_TOKEN is not set."""
    bot: UpdateProcessor | None = getattr(request.app.state, "telegram", None)
    if bot is None:
        raise HTTPException(status_code=404, detail="not found")
    return bot


async def verify_telegram_secret(
    settings: SettingsDep,
    x_telegram_bot_api_secret_token: Annotated[str | None, Header()] = None,
) -> None:
    """Refuse an update without our webhook secret header (constant-time compare)."""
    secret = settings.telegram_webhook_secret
    expected = secret.get_secret_value() if secret else ""
    given = x_telegram_bot_api_secret_token or ""
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        log.warning("telegram webhook refused: wrong secret")
        raise HTTPException(status_code=403, detail="forbidden")


TelegramDep = Annotated[UpdateProcessor, Depends(get_telegram)]
TelegramSecret = Depends(verify_telegram_secret)
