"""What every channel offers the conversation service: render a turn into pages, check a screen."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.engine.state import Choice, Turn

MORE_KEY = "98"
PREVIOUS_KEY = "00"


@dataclass(frozen=True)
class Screen:
    """One page of a turn as the person sees it on this channel."""

    text: str
    page: int = 0
    pages: int = 1
    end: bool = False
    buttons: tuple[Choice, ...] = ()


class Renderer(Protocol):
    """A channel's way of showing turns; the engine never knows which one it serves."""

    name: str

    def render(self, turn: Turn, page: int = 0) -> Screen:
        """The given page of a turn (pages are counted from 0)."""
        ...

    def check(self, turn: Turn) -> str | None:
        """Why a turn cannot be shown well on this channel, or None (used by flow validation)."""
        ...


class Declined(Exception):
    """An event sink's refusal to keep what the events ask for (e.g. too many reports from one
    contact): nothing was kept, and the conversation ends on ``message`` (a catalog msgid,
    translated and filled like any screen, ``{hotline_number}`` included)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
