"""What a provider session keeps of its requests to answer retries: small, and no screen text.

Africa's Talking may send a USSD request again (the same one, or a late copy of an earlier one).
The session keeps the last request (to know it again, and what the next one adds), the state's
own page and hint (which render its screen again), and, for the request before it, a digest with
what renders the screen it got: ``[digest, flow, version, state, lang, page, back, notice]``.
Older requests are kept by digest only. A screen the state cannot render again (values the cases
service gave, or an ended conversation) is kept as text: ``[digest, text, end, page, pages]``.
"""

from __future__ import annotations

import hashlib
from typing import Any

from bot.conversation.ports import Screen
from bot.engine.state import SessionState

DIGEST = 16
"""Hex characters of a request's digest kept to recognise it (64 bits: no accidental match)."""
SEEN = 16
"""Earlier requests of a provider session recognised when retried late: the one before the
last with what re-renders its screen, older ones by a digest only (a session stays small)."""
STATE_ENTRY = 8
TEXT_ENTRY = 5


def digest(request: str) -> str:
    """What an ended session keeps of its last request: enough to know it again, not its text."""
    return hashlib.sha256(request.encode("utf-8", "surrogatepass")).hexdigest()


def kept_screen(memo: dict[str, Any]) -> Screen:
    """The screen a memo keeps as text."""
    return Screen(text=memo["screen"], end=memo["end"], page=memo["page"], pages=memo["pages"])


def text_entry(key: str, screen: Screen) -> list[Any]:
    """An earlier request kept with the text of its screen."""
    return [key[:DIGEST], screen.text, screen.end, screen.page, screen.pages]


def previous_entry(memo: dict[str, Any], saved: SessionState | None) -> list[Any] | None:
    """The last request of a memo as an earlier one, once another request comes: with the text
    of its screen if the memo kept it, else with what renders it from the saved state."""
    request = memo.get("request")
    if "screen" in memo:
        return text_entry(str(memo.get("digest") or digest(str(request))), kept_screen(memo))
    if saved is None or not isinstance(request, str):
        return None
    back = 1 if saved.inputs else 0
    return [
        digest(request)[:DIGEST],
        *(saved.flow, saved.version, saved.state, saved.lang, saved.page, back, saved.notice),
    ]


def entry_state(entry: list[Any]) -> SessionState:
    """The state whose screen a ``[digest, flow, version, state, lang, page, back, notice]``
    entry renders (its inputs only say whether 00 Back was offered)."""
    _, flow, version, at, lang, page, back, notice = entry
    return SessionState(
        flow=str(flow),
        version=str(version),
        state=str(at),
        lang=str(lang),
        inputs=["-"] if back else [],
        page=int(page),
        notice=str(notice),
    )


def seen(memo: dict[str, Any]) -> list[list[Any]]:
    """The earlier requests a memo keeps, oldest first."""
    found = memo.get("seen")
    if not isinstance(found, list):
        return []
    lengths = (1, TEXT_ENTRY, STATE_ENTRY)
    return [list(e) for e in found if isinstance(e, list) and len(e) in lengths]


def is_request(memo: dict[str, object], request: str) -> bool:
    """Is ``request`` the one ``memo`` answered (kept as it was, or as a digest at the end)?"""
    if "digest" in memo:
        return memo["digest"] == digest(request)
    return memo.get("request") == request
