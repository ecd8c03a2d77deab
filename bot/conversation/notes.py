"""What a contact's language note holds: the language, and where the session that last used it
began, so a session whose state was lost is replayed from the screen it really started on.

A note reads ``fr:1a2b3c4d:fr``: the language; the first characters of the id of the session
that last chose it or opened at the main menu with it; and the language that session's main menu
opened in (empty when it began at the language menu). A bare ``fr`` is a note written before
sessions were named (no session is known to have used it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.core.languages import LANGUAGES
from bot.engine.registry import FlowRegistry
from bot.engine.runner import UnknownFlow, begin
from bot.engine.state import SessionState, Step
from bot.i18n import ui
from bot.i18n.translate import Translate

log = logging.getLogger(__name__)

START_FLOW = "main"
MENU_STATE = "menu"
"""Where a conversation starts when the contact's language is remembered (``main:menu``)."""
SESSION_CHARS = 8
"""Characters of a session id a note keeps: enough to tell one caller's sessions apart."""


@dataclass(frozen=True)
class LanguageNote:
    """A remembered language, and the session that last used it."""

    lang: str
    session: str = ""
    began: str = ""
    """The language the session's main menu opened in, or "" (it began at the language menu)."""

    def by(self, sid: str) -> bool:
        """Was the note last written by the session ``sid``?"""
        return bool(self.session) and self.session == sid[:SESSION_CHARS]


def write_note(lang: str, sid: str, began: str) -> str:
    """The note for ``lang``, written by session ``sid`` that began as ``began`` says."""
    return f"{lang}:{sid[:SESSION_CHARS]}:{began}"


def read_note(value: str | None) -> LanguageNote | None:
    """A stored note, or None when there is none or it names no language of ours."""
    if value is None:
        return None
    lang, _, rest = value.partition(":")
    session, _, began = rest.partition(":")
    if lang not in LANGUAGES:
        return None
    return LanguageNote(lang, session, began if began in LANGUAGES else "")


def began_in(state: SessionState) -> str:
    """The language a conversation's main menu opened in, or "" (it began elsewhere)."""
    origin = state.origin
    opened = len(origin) == 4 and origin[0] == START_FLOW and origin[2] == MENU_STATE
    return origin[3] if opened else ""


def where_it_began(
    registry: FlowRegistry, tr: Translate, lang: str, remembered: LanguageNote | None, sid: str
) -> tuple[Step, bool]:
    """Where a provider session that arrives with inputs and no state began, and whether that
    is known (else the first screen, with a notice, to start again politely).

    Only a session that opened at the main menu in a remembered language, or chose one, names
    itself in the contact's note: one the note does not name began at the language menu (a new
    session with dialled inputs, or one that began there and chose nothing).
    """
    if remembered is None or not remembered.by(sid) or not remembered.began:
        return begin(registry, START_FLOW, lang, tr, sid=sid), True
    try:
        step = begin(registry, START_FLOW, remembered.began, tr, at=MENU_STATE, sid=sid)
    except UnknownFlow:
        log.warning("a lost session's first screen is gone; starting again with a notice")
        restart = begin(registry, START_FLOW, remembered.lang, tr, notice=ui.RESTARTED, sid=sid)
        return restart, False
    log.info("a lost session is replayed from the main menu it opened at")
    return step, True
