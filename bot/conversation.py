"""One path for every message: lock the session, run the engine, hand events over, save, render.

Channels call ``start`` for a new conversation and ``reply`` for each input after it. Events
are handed to the sink (the cases service) before the session is saved and before anything is
shown, so nothing a person reported is acknowledged before it is committed.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Protocol

from bot.channels.base import MORE_KEY, PREVIOUS_KEY, Renderer, Screen
from bot.content import Content
from bot.engine.runner import advance, begin, render
from bot.engine.state import Event, SessionState, Turn
from bot.i18n import ui
from bot.sessions.base import SessionStore

log = logging.getLogger(__name__)

START_FLOW = "main"


def _sid() -> str:
    """A random id for a new conversation: its events get ids no other conversation has."""
    return uuid.uuid4().hex


class EventSink(Protocol):
    """Where events go; returns values the last screen shows, e.g. ``{"reference": "K7QM-42"}``."""

    async def handle(
        self,
        events: Sequence[Event],
        *,
        channel: str,
        contact: str,
        address: str | None = None,
    ) -> dict[str, str]:
        """Commit what the events ask for, or raise so the person is not told it was.

        ``address`` is the person's number on the channel: keep it (encrypted) only with consent.
        """
        ...


class LoggingSink:
    """Stand-in until the cases service lands: logs event names only, never their contents."""

    async def handle(
        self,
        events: Sequence[Event],
        *,
        channel: str,
        contact: str,
        address: str | None = None,
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
        ttls: dict[str, int] | None = None,
        values: dict[str, str] | None = None,
    ) -> None:
        self.content = content
        self.store = store
        self.sink = sink
        self.ttl = ttl
        self.ttls = dict(ttls or {})
        self.values = dict(values or {})

    async def start(
        self,
        key: str,
        renderer: Renderer,
        lang: str,
        *,
        flow: str = START_FLOW,
        at: str | None = None,
        contact: str | None = None,
        address: str | None = None,
    ) -> Screen:
        """Begin a new conversation for a session key (at screen ``at``), replacing any earlier."""
        async with self.store.lock(key):
            step = begin(self.content.registry, flow, lang, self.content.tr, at=at, sid=_sid())
            return await self._commit(
                key,
                renderer,
                step.state,
                step.turn,
                list(step.events),
                contact=contact,
                address=address,
            )

    async def reply(
        self,
        key: str,
        text: str,
        renderer: Renderer,
        lang: str,
        *,
        contact: str | None = None,
        address: str | None = None,
    ) -> Screen:
        """Apply one input; an expired session starts again politely instead of failing."""
        async with self.store.lock(key):
            data = await self.store.get(key)
            if data is None or "flow" not in data:
                step = begin(
                    self.content.registry,
                    START_FLOW,
                    lang,
                    self.content.tr,
                    notice=ui.RESTARTED,
                    sid=_sid(),
                )
                return await self._commit(
                    key,
                    renderer,
                    step.state,
                    step.turn,
                    list(step.events),
                    contact=contact,
                    address=address,
                )
            state, turn, events = self._apply(SessionState.from_dict(data), text, renderer)
            return await self._commit(
                key, renderer, state, turn, events, contact=contact, address=address
            )

    async def exchange(
        self,
        key: str,
        renderer: Renderer,
        lang: str,
        *,
        request: str,
        inputs: Callable[[str | None], list[str]],
        contact: str | None = None,
        address: str | None = None,
    ) -> Screen:
        """Apply a provider request exactly once; the same request again gets the same screen.

        ``inputs(previous_request)`` says what this request adds since the previous one (None
        for a new session): Africa's Talking's USSD ``text`` carries every input of the session.
        """
        async with self.store.lock(key):
            data = await self.store.get(key) or {}
            memo = data.get("memo") or {}
            if memo.get("request") == request and "screen" in memo:
                return Screen(
                    text=memo["screen"], end=memo["end"], page=memo["page"], pages=memo["pages"]
                )
            saved = SessionState.from_dict(data) if "flow" in data else None
            if saved is None:
                # The provider's session key names this conversation for good: replaying its
                # inputs after a lost state yields the same event ids, so no case twice.
                sid = hashlib.sha256(key.encode()).hexdigest()[:32]
                step = begin(self.content.registry, START_FLOW, lang, self.content.tr, sid=sid)
                state, turn, events = step.state, step.turn, list(step.events)
                pending = inputs(None)
            else:
                state, turn, events = saved, self._current(saved), []
                pending = inputs(memo.get("request"))
            for raw in pending:
                if state is None:
                    break  # the conversation ended; whatever follows has nothing to apply to
                state, turn, more = self._apply(state, raw, renderer)
                events.extend(more)
            return await self._commit(
                key,
                renderer,
                state,
                turn,
                events,
                request=request,
                contact=contact,
                address=address,
            )

    async def end(self, key: str) -> None:
        """Forget a session (the provider says it ended, or the person left), after any reply."""
        async with self.store.lock(key):
            await self.store.delete(key)

    def _ttl(self, key: str) -> int:
        """Seconds to keep a session: per channel (``sms:`` keys 30 minutes), else the default."""
        return self.ttls.get(key.split(":", 1)[0], self.ttl)

    def _current(self, saved: SessionState) -> Turn:
        compiled = self.content.registry.get(saved.flow, saved.version)
        if compiled is None or saved.state not in compiled.loaded.definition.states:
            return advance(self.content.registry, saved, "", self.content.tr).turn
        return render(compiled.loaded.definition, saved, self.content.tr)

    def _apply(
        self, saved: SessionState, raw: str, renderer: Renderer
    ) -> tuple[SessionState | None, Turn, list[Event]]:
        """One input: a page turn on a long menu (98 / 00), or an engine step."""
        choice = raw.strip()
        if choice in (MORE_KEY, PREVIOUS_KEY):
            compiled = self.content.registry.get(saved.flow, saved.version)
            if compiled is not None and saved.state in compiled.loaded.definition.states:
                turn = render(compiled.loaded.definition, saved, self.content.tr)
                pages = renderer.render(turn.format(self.values), saved.page).pages
                if choice == MORE_KEY and saved.page + 1 < pages:
                    saved.page += 1
                    return saved, turn, []
                if choice == PREVIOUS_KEY and saved.page > 0:
                    saved.page -= 1
                    return saved, turn, []
        step = advance(self.content.registry, saved, raw, self.content.tr)
        return step.state, step.turn, list(step.events)

    async def _commit(
        self,
        key: str,
        renderer: Renderer,
        state: SessionState | None,
        turn: Turn,
        events: list[Event],
        *,
        request: str | None = None,
        contact: str | None = None,
        address: str | None = None,
    ) -> Screen:
        """Hand events over, then save, then show: nothing is acknowledged before it is kept."""
        values = dict(self.values)
        if events:
            values.update(
                await self.sink.handle(
                    events, channel=renderer.name, contact=contact or key, address=address
                )
            )
        screen = renderer.render(turn.format(values), state.page if state is not None else 0)
        memo = {
            "request": request,
            "screen": screen.text,
            "end": screen.end,
            "page": screen.page,
            "pages": screen.pages,
        }
        if state is None:
            if request is None:
                await self.store.delete(key)
            else:  # keep only the last screen, so a repeated final request gets it again
                await self.store.set(key, {"memo": memo}, self._ttl(key))
        else:
            if request is not None:
                state.memo = memo
            await self.store.set(key, state.to_dict(), self._ttl(key))
        return screen
