"""One path for every message: lock the session, run the engine, hand events over, save, render.

Channels call ``start`` for a new conversation and ``reply`` for each input after it (or
``message`` for either, ``exchange`` for a provider request that carries every input). Events
are handed to the sink (the cases service) before the session is saved and before anything is
shown, so nothing a person reported is acknowledged before it is committed.

A language a person chose (a ``set_language`` action) is remembered per contact pseudonym for
``language_ttl`` seconds: their next conversation starts at the main menu in that language.

A sink may decline what the events ask for (``Declined``: e.g. too many reports from one
contact); the conversation then ends on the sink's neutral message and nothing is kept.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, Protocol

from bot.content.files import Content
from bot.conversation import memo as memos
from bot.conversation.notes import (
    MENU_STATE,
    START_FLOW,
    began_in,
    read_note,
    where_it_began,
    write_note,
)
from bot.conversation.ports import MORE_KEY, PREVIOUS_KEY, Declined, Renderer, Screen
from bot.engine.compile import menu_keys
from bot.engine.model import MenuState
from bot.engine.runner import BACK_KEY, UnknownFlow, advance, begin, render
from bot.engine.state import Event, SessionState, Step, Turn, fill
from bot.i18n import ui
from bot.sessions.base import Held, SessionStore

log = logging.getLogger(__name__)


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
        language_ttl: int = 0,
    ) -> None:
        """``language_ttl``: seconds a contact's chosen language is remembered (0: not at all)."""
        self.content = content
        self.store = store
        self.sink = sink
        self.ttl = ttl
        self.ttls = dict(ttls or {})
        self.values = dict(values or {})
        self.language_ttl = language_ttl

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
        """Begin a new conversation for a session key (at screen ``at``), replacing any earlier.

        Started at the beginning of the main flow, it opens at the main menu in the contact's
        remembered language instead, when there is one; an explicit ``at`` wins.
        """
        note = self._note(contact) if flow == START_FLOW and at is None else None
        async with self.store.hold(key, recall=_only(note)) as held:
            step = self._begin(lang, held, note, flow=flow, at=at, channel=renderer.name)
            return await self._commit(
                held, key, renderer, step, contact=contact, address=address, chosen=None
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
        return await self._message(key, text, renderer, lang, contact, address, ui.RESTARTED)

    async def message(
        self,
        key: str,
        text: str,
        renderer: Renderer,
        lang: str,
        *,
        contact: str | None = None,
        address: str | None = None,
    ) -> Screen:
        """Apply one input to the running conversation, or start one if none runs (SMS)."""
        return await self._message(key, text, renderer, lang, contact, address, None)

    async def _message(
        self,
        key: str,
        text: str,
        renderer: Renderer,
        lang: str,
        contact: str | None,
        address: str | None,
        notice: str | None,
    ) -> Screen:
        note = self._note(contact)
        async with self.store.hold(key, recall=_only(note)) as held:
            data = held.value
            if data is None or "flow" not in data:
                step = self._begin(lang, held, note, notice=notice, channel=renderer.name)
                return await self._commit(
                    held, key, renderer, step, contact=contact, address=address, chosen=None
                )
            saved = SessionState.from_dict(data)
            await self.content.require(saved)  # its version, loaded if this process lacks it
            state, turn, events, chosen = self._apply(saved, text, renderer)
            return await self._commit(
                held,
                key,
                renderer,
                Step(state, turn, tuple(events)),
                contact=contact,
                address=address,
                chosen=chosen,
            )

    async def exchange(
        self,
        key: str,
        renderer: Renderer,
        lang: str,
        *,
        request: str,
        inputs: Callable[[str | None], list[str] | None],
        contact: str | None = None,
        address: str | None = None,
    ) -> Screen:
        """Apply a provider request exactly once; the same request again gets the same screen,
        and a late retry of an earlier request the screen it had then.

        ``inputs(previous_request)`` says what this request adds since the previous one (None
        for a new session): Africa's Talking's USSD ``text`` carries every input of the session.
        It returns None for a request older than the previous one (its screen is answered, or
        the current one when no longer kept; nothing is applied or saved).
        A new session with no input opens at the main menu in the contact's remembered language;
        one that carries inputs starts where it began: inputs dialled with the code at the
        language menu, so they mean what they always mean; a session whose state was lost
        where its language note says it began (``bot.conversation.notes``), or, when that
        screen cannot be opened, again at the first screen with a short notice, nothing applied.
        Replayed inputs may only choose a language and menus: they stop before any step that
        would hand events over (submit a report), whose screen is shown instead, for the person
        to confirm.
        """
        note = self._note(contact) if request == "" else None
        async with self.store.hold(key, recall=_only(note)) as held:
            data = held.value or {}
            memo = data.get("memo") or {}
            saved = SessionState.from_dict(data) if "flow" in data else None
            if saved is not None:
                await self.content.require(saved)  # its version, loaded if this process lacks it
            if memos.is_request(memo, request):
                if "screen" in memo:
                    return memos.kept_screen(memo)
                if saved is not None:  # the screen it got is the saved state's, re-rendered
                    return self._show(saved, renderer)
            seen = memos.seen(memo)
            digest = memos.digest(request)[: memos.DIGEST]
            for entry in seen:
                if entry[0] != digest:
                    continue
                # A late retry of an earlier request: what it was shown if kept, else the
                # screen as it stands (the last one, when the conversation has ended).
                log.info("late retry of an earlier request; nothing applied")
                if len(entry) == memos.TEXT_ENTRY:
                    return Screen(text=entry[1], end=entry[2], page=entry[3], pages=entry[4])
                earlier = (
                    self._earlier(entry, renderer) if len(entry) == memos.STATE_ENTRY else None
                )
                if earlier is not None:
                    return earlier
                if saved is None:
                    return memos.kept_screen(memo)
                return self._show(saved, renderer)
            previous = memos.previous_entry(memo, saved)
            chosen: str | None = None
            turn: Turn | None
            if saved is None:
                # The provider's session key names this conversation for good: replaying its
                # inputs after a lost state yields the same event ids, so no case twice.
                sid = hashlib.sha256(key.encode()).hexdigest()[:32]
                pending = inputs(None)
                if pending:
                    step, known = await self._began(lang, contact, sid)
                    if not known:  # polite: the first screen again, nothing applied
                        pending = []
                else:
                    step = self._begin(lang, held, note, sid=sid, channel=renderer.name)
                state, turn, events = step.state, step.turn, list(step.events)
            else:
                later = inputs(memo.get("request"))
                if later is None:  # older than the last request, its screen no longer kept
                    log.info("late retry of an earlier request; answered with the current screen")
                    return self._show(saved, renderer)
                pending = later
                state, events = saved, []
                # The screen as it stands is shown only when the request adds nothing.
                turn = self._current(saved) if not pending else None
            dialled = saved is None and bool(pending)
            for raw in pending or ():
                if state is None:
                    break  # the conversation ended; whatever follows has nothing to apply to
                after, shown, more, picked = self._apply(state, raw, renderer)
                if dialled and more:
                    # Dialled inputs choose a language and menus, never confirm a report: show
                    # the screen that would submit, for the person to answer themselves.
                    log.info("dialled inputs stop before a step that hands events over")
                    break
                state, turn = after, shown
                events.extend(more)
                chosen = picked or chosen
            assert turn is not None  # there was at least one input, or the current screen
            return await self._commit(
                held,
                key,
                renderer,
                Step(state, turn, tuple(events)),
                request=request,
                seen=[*seen, previous] if previous is not None else seen,
                contact=contact,
                address=address,
                chosen=chosen,
            )

    async def end(self, key: str) -> None:
        """Forget a session (the provider says it ended, or the person left), after any reply."""
        async with self.store.hold(key) as held:
            held.delete()

    def language_note(self, contact: str) -> str:
        """The store key of a contact's remembered language: derived from the pseudonym."""
        return "lang:" + hashlib.sha256(f"lang:{contact}".encode()).hexdigest()[:32]

    def _note(self, contact: str | None) -> str | None:
        """The language note to read for this contact, or None when nothing is remembered."""
        if contact is None or self.language_ttl <= 0:
            return None
        return self.language_note(contact)

    def _begin(
        self,
        lang: str,
        held: Held | None,
        note: str | None,
        *,
        flow: str = START_FLOW,
        at: str | None = None,
        notice: str | None = None,
        sid: str | None = None,
        channel: str = "",
    ) -> Step:
        """A new conversation: at the main menu in a remembered language, else as asked.

        Opened at the main menu, the conversation names itself in the note (its expiry kept),
        so that if its state is lost its replay starts there too.
        """
        sid = sid or _sid()
        raw = held.notes.get(note) if held is not None and note is not None else None
        remembered = read_note(raw)
        if remembered is not None:
            try:
                step = begin(
                    self.content.registry,
                    START_FLOW,
                    remembered.lang,
                    self.content.tr,
                    at=MENU_STATE,
                    notice=notice,
                    sid=sid,
                    channel=channel,
                )
            except UnknownFlow:
                log.warning(
                    "no %s:%s screen to open at; starting at the beginning", START_FLOW, MENU_STATE
                )
            else:
                assert held is not None and note is not None
                held.rewrite(note, write_note(remembered.lang, sid, remembered.lang))
                return step
        return begin(
            self.content.registry,
            flow,
            lang,
            self.content.tr,
            at=at,
            notice=notice,
            sid=sid,
            channel=channel,
        )

    async def _began(self, lang: str, contact: str | None, sid: str) -> tuple[Step, bool]:
        """Where a provider session that arrives with inputs and no state began, and whether
        that is known (else the first screen, with a notice, to start again politely).

        Only a session that opened at the main menu in a remembered language, or chose one,
        names itself in the contact's note: one the note does not name began at the language
        menu (a new session with dialled inputs, or one that began there and chose nothing).
        """
        note = self._note(contact)
        remembered = read_note(await self.store.recall(note)) if note is not None else None
        return where_it_began(self.content.registry, self.content.tr, lang, remembered, sid)

    def _ttl(self, key: str) -> int:
        """Seconds to keep a session: per channel (``sms:`` keys 30 minutes), else the default."""
        return self.ttls.get(key.split(":", 1)[0], self.ttl)

    def _current(self, saved: SessionState) -> Turn:
        """The screen a saved state stands on, with the hint it was shown with."""
        compiled = self.content.registry.get(saved.flow, saved.version)
        if compiled is None or saved.state not in compiled.loaded.definition.states:
            return advance(self.content.registry, saved, "", self.content.tr).turn
        tr = self.content.registry.translate(saved.flow, saved.version, self.content.tr)
        turn = render(compiled.loaded.definition, saved, tr)
        return replace(turn, notice=saved.notice) if saved.notice else turn

    def _show(self, saved: SessionState, renderer: Renderer) -> Screen:
        """The screen a saved state was answered with (its page, its hint), rendered again."""
        return renderer.render(self._current(saved).format(self.values), saved.page)

    def _earlier(self, entry: list[Any], renderer: Renderer) -> Screen | None:
        """The screen an earlier request got, rendered again from its entry (None if that
        flow version is gone)."""
        then = memos.entry_state(entry)
        compiled = self.content.registry.get(then.flow, then.version)
        if compiled is None or then.state not in compiled.loaded.definition.states:
            return None
        return self._show(then, renderer)

    def _apply(
        self, saved: SessionState, raw: str, renderer: Renderer
    ) -> tuple[SessionState | None, Turn, list[Event], str | None]:
        """One input: a page turn on a long menu (98 / 00), or an engine step; and the language
        it chose, if it chose one."""
        choice = raw.strip()
        if choice in (MORE_KEY, PREVIOUS_KEY):
            compiled = self.content.registry.get(saved.flow, saved.version)
            if compiled is not None and saved.state in compiled.loaded.definition.states:
                turn = self._current(saved)
                pages = renderer.render(turn.format(self.values), saved.page).pages
                if choice == MORE_KEY and pages > 1:
                    saved.page = min(saved.page + 1, pages - 1)  # the last page stays
                    return saved, turn, [], None
                if choice == PREVIOUS_KEY and saved.page > 0:
                    saved.page -= 1
                    return saved, turn, [], None
        step = advance(self.content.registry, saved, raw, self.content.tr)
        return step.state, step.turn, list(step.events), self._chosen(saved, choice, step.turn)

    def _chosen(self, saved: SessionState, choice: str, turn: Turn) -> str | None:
        """The language an accepted input chose: a menu option that sets one (even the language
        already in use), or any step that changed it; going back (a replay) chooses nothing."""
        if choice == BACK_KEY:
            return None
        compiled = self.content.registry.get(saved.flow, saved.version)
        screen = compiled.loaded.definition.states.get(saved.state) if compiled else None
        if isinstance(screen, MenuState):
            keys = menu_keys(screen)
            if choice in keys:
                for action in screen.options[keys.index(choice)].do:
                    if action.get("set_language") == turn.lang:
                        return turn.lang
        return turn.lang if turn.lang != saved.lang else None

    async def _commit(
        self,
        held: Held,
        key: str,
        renderer: Renderer,
        step: Step,
        *,
        request: str | None = None,
        seen: list[list[Any]] | None = None,
        contact: str | None = None,
        address: str | None = None,
        chosen: str | None,
    ) -> Screen:
        """Hand events over, then save, then show: nothing is acknowledged before it is kept.

        The session (and a chosen language) are written as the session's lock is let go, and
        only if nothing here raised. A sink that declines ends the conversation on its message.
        ``seen``: the screens of the provider session's earlier requests, kept with the last.
        """
        state, turn, events = step.state, step.turn, step.events
        values = self.values
        if events:
            try:
                given = await self.sink.handle(
                    events, channel=renderer.name, contact=contact or key, address=address
                )
            except Declined as declined:
                state = None  # nothing of this conversation is kept
                text = self.content.tr(turn.lang, declined.message)
                turn = Turn(text=text, lang=turn.lang, end=True, expects="nothing")
            else:
                values = dict(values)
                # What the sink gives may hold placeholders of its own, e.g. {hotline_number}.
                values.update({name: fill(value, self.values) for name, value in given.items()})
        screen = renderer.render(turn.format(values), state.page if state is not None else 0)
        memo: dict[str, Any] = {"request": request}
        if state is None or values is not self.values:
            # The saved state cannot render this screen again: keep its text.
            memo.update(screen=screen.text, end=screen.end, page=screen.page, pages=screen.pages)
        if seen:
            # What re-renders the screen of the request before this one is kept; older ones
            # only by digest.
            last = seen[-1]
            if state is None and len(last) == memos.STATE_ENTRY:  # no state is kept: its text
                shown = self._earlier(last, renderer)
                last = last[:1] if shown is None else memos.text_entry(last[0], shown)
            memo["seen"] = [entry[:1] for entry in seen[-memos.SEEN : -1]] + [last]
        if state is None:
            if request is None:
                held.delete()
            else:  # keep only the last screen, so a repeated final request gets it again; of the
                # request (every input, the narrative too) only a digest to recognise it by
                del memo["request"]
                memo["digest"] = memos.digest(request)
                held.save({"memo": memo}, self._ttl(key))
        else:
            state.notice = turn.notice or ""
            if request is not None:
                state.memo = memo
            held.save(state.to_dict(), self._ttl(key))
        if chosen is not None and (note := self._note(contact)) is not None:
            sid, began = (state.sid, began_in(state)) if state is not None else ("", "")
            held.remember(note, write_note(chosen, sid, began), self.language_ttl)
        return screen


def _only(note: str | None) -> tuple[str, ...]:
    """The notes to read with a session: this one, or none."""
    return () if note is None else (note,)
