"""What a contact's language note holds: the language, and where the session that last used it
began, so a session whose state was lost is replayed from the screen it really started on.

A note reads ``fr:1a2b3c4d:fr``: the language; the first characters of the id of the session
that last chose it or opened at the main menu with it; and the language that session's main menu
opened in (empty when it began at the language menu). A bare ``fr`` is a note written before
sessions were named (no session is known to have used it).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.languages import LANGUAGES

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
