"""SMS replies: a screen as one text folded to GSM-7, paged to two parts at most (no web app)."""

from __future__ import annotations

from bot.channels.paging import paginate
from bot.channels.text import fold_turn, page_labels
from bot.conversation.ports import Screen
from bot.engine.state import Turn
from bot.i18n.gsm7 import sms_parts
from bot.i18n.translate import Translate

MAX_PARTS = 2


def fits_sms(text: str) -> bool:
    """Does a text go out in at most two SMS parts (each reply costs the hotline per part)?"""
    return sms_parts(text) <= MAX_PARTS


class SmsRenderer:
    """Render turns as SMS texts; a long menu pages with 98 More / 00 Back like USSD."""

    name = "sms"

    def __init__(self, tr: Translate) -> None:
        self._tr = tr
        self.lang: str | None = None
        """The language of the last turn rendered: the reply's, whatever the session started in."""

    def pages(self, turn: Turn, *, cut: bool = True) -> list[str]:
        """Every page of a turn, folded and fitted."""
        more, previous = page_labels(self._tr, turn.lang)
        return paginate(fold_turn(turn), fits_sms, more=more, previous=previous, cut=cut)

    def render(self, turn: Turn, page: int = 0) -> Screen:
        """One page of a turn."""
        pages = self.pages(turn)
        self.lang = turn.lang
        page = max(0, min(page, len(pages) - 1))
        return Screen(text=pages[page], page=page, pages=len(pages), end=turn.end)

    def check(self, turn: Turn) -> str | None:
        """Why a turn needs more than two SMS parts on some page, or None."""
        for number, page in enumerate(self.pages(turn, cut=False), start=1):
            parts = sms_parts(page)
            if parts > MAX_PARTS:
                return f"page {number} needs {parts} SMS parts (at most {MAX_PARTS})"
        return None
