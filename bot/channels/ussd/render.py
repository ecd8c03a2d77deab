"""USSD screens: CON/END pages of at most 182 GSM-7 characters after folding (no web framework).

A long menu pages with ``98 More`` / ``00 Back``; a body looks like::

    CON Choose your language
    1 English
    2 Francais
    3 Lingala
    4 Sesotho
    0 Exit
"""

from __future__ import annotations

from functools import lru_cache

from bot.channels.paging import paginate
from bot.channels.text import fold_turn, page_labels
from bot.conversation.ports import Screen
from bot.engine.state import Turn
from bot.i18n.gsm7 import fits_ussd, ussd_length, ussd_limit
from bot.i18n.translate import Translate


class UssdRenderer:
    """Render turns as USSD pages; long menus paginate with 98 More / 00 Back."""

    name = "ussd"

    def __init__(self, tr: Translate) -> None:
        self._tr = tr

    def pages(self, turn: Turn, *, cut: bool = True) -> list[str]:
        """Every page of a turn, folded and fitted."""
        more, previous = _labels(self._tr, turn.lang)
        return list(_pages(turn, more, previous, cut))

    def render(self, turn: Turn, page: int = 0) -> Screen:
        """One page of a turn."""
        pages = self.pages(turn)
        page = max(0, min(page, len(pages) - 1))
        return Screen(text=pages[page], page=page, pages=len(pages), end=turn.end)

    def check(self, turn: Turn) -> str | None:
        """Why a turn does not fit USSD screens (182 GSM-7 characters after folding), or None."""
        for number, page in enumerate(self.pages(turn, cut=False), start=1):
            if not fits_ussd(page):
                return (
                    f"page {number} is {ussd_length(page)}/{ussd_limit(page)} "
                    "characters after folding"
                )
        return None


@lru_cache(maxsize=64)
def _labels(tr: Translate, lang: str) -> tuple[str, str]:
    """The folded 'More' and 'Back' labels, per catalog and language (asked on every screen)."""
    return page_labels(tr, lang)


@lru_cache(maxsize=4096)
def _pages(turn: Turn, more: str, previous: str, cut: bool) -> tuple[str, ...]:
    """Pages of a turn; cached, since most requests show one of a few hundred screens."""
    return tuple(paginate(fold_turn(turn), fits_ussd, more=more, previous=previous, cut=cut))


def response(screen: Screen) -> str:
    """The body Africa's Talking expects: ``CON `` to continue, ``END `` to close."""
    return ("END " if screen.end else "CON ") + screen.text
