"""Telegram: full orthography (no folding), options as inline keyboard buttons, 4096 per message."""

from __future__ import annotations

from bot.channels.base import Screen
from bot.engine.runner import Translate
from bot.engine.state import Turn

MESSAGE_LIMIT = 4096
CALLBACK_DATA_LIMIT = 64


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split a long text into messages at line or word boundaries, each within the limit."""
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit + 1)
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit + 1)
        if cut <= 0:
            cut = limit
        head = rest[:cut].rstrip()
        if head:  # Telegram refuses an empty message (a cut inside a run of whitespace)
            chunks.append(head)
        rest = rest[cut:].lstrip()
    if rest or not chunks:
        chunks.append(rest)
    return chunks


class TelegramRenderer:
    """Render turns as a message with one button per option and per navigation choice."""

    name = "telegram"

    def __init__(self, tr: Translate) -> None:
        self._tr = tr

    def render(self, turn: Turn, page: int = 0) -> Screen:
        """The message text and its buttons."""
        text = f"{turn.notice}\n\n{turn.text}" if turn.notice else turn.text
        return Screen(text=text, end=turn.end, buttons=(*turn.options, *turn.navigation))

    def check(self, turn: Turn) -> str | None:
        """Why a turn cannot be shown on Telegram (a button's data too long), or None."""
        for choice in (*turn.options, *turn.navigation):
            if len(choice.key.encode()) > CALLBACK_DATA_LIMIT:
                return f"button {choice.key!r} has callback data over {CALLBACK_DATA_LIMIT} bytes"
        return None
