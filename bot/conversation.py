"""One path for every message: lock the session, run the engine, hand events over, save, render.

Channels call ``start`` for a new conversation and ``reply`` for each input after it. Events
are handed to the sink (the cases service) before the session is saved and before anything is
shown, so nothing a person reported is acknowledged before it is committed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from bot.channels.base import MORE_KEY, PREVIOUS_KEY, Renderer, Screen
from bot.content import Content
from bot.engine.runner import advance, begin, render
from bot.engine.state import Event, SessionState, Step
from bot.i18n import ui
from bot.sessions.base import SessionStore

log = logging.getLogger(__name__)

START_FLOW = "main"


class EventSink(Protocol):
    """Where events go; returns values the last screen shows, e.g. ``{"reference": "K7QM-42"}``."""

    async def handle(
        self, events: Sequence[Event], *, channel: str, contact: str
    ) -> dict[str, str]:
        """Commit what the events ask for, or raise so the person is not told it was."""
        ...


class LoggingSink:
    """Stand-in until the cases service lands: logs event names only, never their contents."""

    async def handle(
        self, events: Sequence[Event], *, channel: str, contact: str
    ) -> dict[str, str]:
        """Log each event's name and flow."""
        for event in events:
            log.info("event %s from flow %s on %s", event.name, event.payload.get("flow"), channel)
        return {}


class Conversations:
    """Run conversations for any channel over a session store."""

    def __init__(
        self,
        content: Content,
        store: SessionStore,
        sink: EventSink,
        *,
        ttl: int = 300,
        values: dict[str, str] | None = None,
    ) -> None:
        self.content = content
        self.store = store
        self.sink = sink
        self.ttl = ttl
        self.values = dict(values or {})

    async def start(
        self, key: str, renderer: Renderer, lang: str, *, flow: str = START_FLOW
    ) -> Screen:
        """Begin a new conversation for a session key, replacing any earlier one."""
        async with self.store.lock(key):
            step = begin(self.content.registry, flow, lang, self.content.tr)
            return await self._commit(key, renderer, step)

    async def reply(self, key: str, text: str, renderer: Renderer, lang: str) -> Screen:
        """Apply one input; an expired session starts again politely instead of failing."""
        async with self.store.lock(key):
            data = await self.store.get(key)
            if data is None:
                step = begin(
                    self.content.registry, START_FLOW, lang, self.content.tr, notice=ui.RESTARTED
                )
                return await self._commit(key, renderer, step)
            saved = SessionState.from_dict(data)
            paged = await self._turn_page(key, saved, text.strip(), renderer)
            if paged is not None:
                return paged
            step = advance(self.content.registry, saved, text, self.content.tr)
            return await self._commit(key, renderer, step)

    async def end(self, key: str) -> None:
        """Forget a session (the provider says it ended, or the person left), after any reply."""
        async with self.store.lock(key):
            await self.store.delete(key)

    async def _turn_page(
        self, key: str, saved: SessionState, choice: str, renderer: Renderer
    ) -> Screen | None:
        """Handle 98 (more) and 00 (previous page) on a paginated menu; None if not paging."""
        if choice not in (MORE_KEY, PREVIOUS_KEY):
            return None
        compiled = self.content.registry.get(saved.flow, saved.version)
        if compiled is None or saved.state not in compiled.loaded.definition.states:
            return None
        turn = render(compiled.loaded.definition, saved, self.content.tr).format(self.values)
        pages = renderer.render(turn, saved.page).pages
        if choice == MORE_KEY and saved.page + 1 < pages:
            saved.page += 1
        elif choice == PREVIOUS_KEY and saved.page > 0:
            saved.page -= 1
        else:
            return None
        await self.store.set(key, saved.to_dict(), self.ttl)
        return renderer.render(turn, saved.page)

    async def _commit(self, key: str, renderer: Renderer, step: Step) -> Screen:
        values = dict(self.values)
        if step.events:
            values.update(await self.sink.handle(step.events, channel=renderer.name, contact=key))
        if step.state is None:
            await self.store.delete(key)
        else:
            await self.store.set(key, step.state.to_dict(), self.ttl)
        page = step.state.page if step.state is not None else 0
        return renderer.render(step.turn.format(values), page)
