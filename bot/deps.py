"""Shared dependencies as typed ``Annotated`` aliases; tests swap them with dependency_overrides."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request
from sqlalchemy.engine import Engine

from bot.content import Content
from bot.conversation import Conversations
from bot.sessions.base import SessionStore
from bot.settings import Settings


def get_settings(request: Request) -> Settings:
    """The running app's settings."""
    return cast(Settings, request.app.state.settings)


def get_content(request: Request) -> Content:
    """The loaded flows and catalogs."""
    return cast(Content, request.app.state.content)


def get_store(request: Request) -> SessionStore:
    """The session store."""
    return cast(SessionStore, request.app.state.store)


def get_engine(request: Request) -> Engine:
    """The SQL engine."""
    return cast(Engine, request.app.state.engine)


def get_conversations(request: Request) -> Conversations:
    """The conversation service every channel uses."""
    return cast(Conversations, request.app.state.conversations)


SettingsDep = Annotated[Settings, Depends(get_settings)]
ContentDep = Annotated[Content, Depends(get_content)]
StoreDep = Annotated[SessionStore, Depends(get_store)]
EngineDep = Annotated[Engine, Depends(get_engine)]
ConversationsDep = Annotated[Conversations, Depends(get_conversations)]
