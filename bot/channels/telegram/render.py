"""Telegram: full orthography (no folding), options as inline keyboard buttons, 4096 per message.

Each button's callback data is ``<screen>:<key>``: the screen counter of the message it sits
on (so a tap on an older message is recognised as stale) and the option key (``1``, ``00``, ``0``).
"""

from __future__ import annotations

from dataclasses import replace

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.conversation.ports import Screen
from bot.core.languages import LANGUAGES
from bot.engine.state import Choice, Turn
from bot.i18n import ui
from bot.i18n.translate import Translate

MESSAGE_LIMIT = 4096
CALLBACK_DATA_LIMIT = 64
SCREENS = 1_000_000
"""Screen counters wrap here: at most six digits and a colon go before a key."""
KEY_LIMIT = CALLBACK_DATA_LIMIT - len(f"{SCREENS - 1}:")


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
    """Render turns as a message with one button per option and per navigation choice.

    With ``taps=True`` (the live bot, which shows labels without numbers) the hints speak of
    tapping a button instead of replying with a number.
    """

    name = "telegram"

    def __init__(self, tr: Translate, *, taps: bool = False) -> None:
        self._tr = tr
        self._taps = taps
        self.lang: str | None = None
        """The language of the last turn rendered (the person may just have chosen it)."""

    def render(self, turn: Turn, page: int = 0) -> Screen:
        """The message text and its buttons."""
        self.lang = turn.lang
        if self._taps and turn.notice:
            turn = replace(turn, notice=self._tap_hint(turn.lang, turn.notice))
        text = f"{turn.notice}\n\n{turn.text}" if turn.notice else turn.text
        return Screen(text=text, end=turn.end, buttons=(*turn.options, *turn.navigation))

    def check(self, turn: Turn) -> str | None:
        """Why a turn cannot be shown on Telegram (a button's data too long), or None."""
        for choice in (*turn.options, *turn.navigation):
            if len(choice.key.encode()) > KEY_LIMIT:
                return f"button {choice.key!r} has callback data over {CALLBACK_DATA_LIMIT} bytes"
        return None

    def _tap_hint(self, lang: str, notice: str) -> str:
        hints = {
            self._tr(lang, ui.HINT_CHOICE): ui.TAP_BUTTON,
            self._tr(lang, ui.HINT_TEXT): ui.TYPE_OR_TAP,
        }
        swapped = hints.get(notice)
        return self._tr(lang, swapped) if swapped else notice


def callback_data(screen: int, key: str) -> str:
    """What a button sends back when tapped: the screen it belongs to and the option key."""
    return f"{screen % SCREENS}:{key}"


def parse_callback(data: str | None) -> tuple[int, str] | None:
    """The screen and key a tapped button carries, or None for data this bot did not make."""
    screen, sep, key = (data or "").partition(":")
    if not sep or not screen.isdigit() or not key:
        return None
    return int(screen), key


def keyboard(buttons: tuple[Choice, ...], screen: int) -> InlineKeyboardMarkup | None:
    """An inline keyboard: one row per option, then back and exit side by side."""
    options = [b for b in buttons if not _navigation(b)]
    navigation = [b for b in buttons if _navigation(b)]
    rows = [[_button(b, screen)] for b in options]
    if navigation:
        rows.append([_button(b, screen) for b in navigation])
    return InlineKeyboardMarkup(rows) if rows else None


def _navigation(choice: Choice) -> bool:
    return choice.key in ("00", "0")


def _button(choice: Choice, screen: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(choice.label, callback_data=callback_data(screen, choice.key))


def language_of(code: str | None) -> str | None:
    """The hotline language of a Telegram ``language_code`` (``fr-CA`` -> ``fr``), or None."""
    lang = (code or "").split("-")[0].strip().lower()
    return lang if lang in LANGUAGES else None
