"""Lay a turn out as numbered lines and split long screens into pages for text-only phones.

Page 1 is the notice (a hint), the text, as many options as fit, ``98 More`` and the navigation
(``00 Back``, ``0 Exit``): a hint never replaces the question it is about. A text too long for
one page is split over several pages first, after a sentence when that costs no extra page, else
between words (inside a word only when one word is longer than a page). Later pages carry the
rest of the text and the next options, ``98 More`` when more follow, ``00 Back`` (to the previous
page) and ``0 Exit``. Every page shows some text or an option, never the navigation alone. Room
for the navigation is kept first.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.engine.state import Choice, Turn

Measure = Callable[[str], bool]
"""Does this page text fit the channel?"""

GAP = re.compile(r"\s+")
SENTENCE_ENDS = (".", "!", "?", ".)", '."', "!)", "?)")
SENTENCE_SHARE = 0.5
"""A page may end after a sentence if that keeps at least this share of what fits between words."""


def line(choice: Choice) -> str:
    """How an option reads on a text screen: ``1 English``."""
    return f"{choice.key} {choice.label}"


def paginate(
    turn: Turn,
    fits: Measure,
    *,
    more: str,
    previous: str,
    more_key: str = "98",
    previous_key: str = "00",
    cut: bool = True,
) -> list[str]:
    """Split a turn into page texts that each fit; the last resort cuts an over-long page.

    With ``cut=False`` an over-long page is returned whole, so validation can measure it.
    """
    nav = [line(c) for c in turn.navigation]
    exits = [line(c) for c in turn.navigation if c.key != previous_key]
    layout = _Layout(
        fits=fits,
        options=[line(o) for o in turn.options],
        nav=nav,
        later_nav=[f"{previous_key} {previous}", *exits],  # on page 2 on, 00 is the page back
        more=f"{more_key} {more}",
    )
    text = f"{turn.notice}\n{turn.text}" if turn.notice else turn.text
    whole = "\n".join([text, *layout.options, *nav])
    if turn.end:  # an END screen cannot page: it loses its notice before anything is cut
        if not fits(whole) and turn.notice:
            whole = "\n".join([turn.text, *layout.options, *nav])
        pages = [whole]
    elif fits(whole):
        pages = [whole]
    else:
        keep = len(turn.notice) + 1 if turn.notice else 0  # the hint never stands alone
        by_sentence = layout.pages(text, keep, sentences=True)
        by_word = layout.pages(text, keep, sentences=False)
        pages = by_word if len(by_word) < len(by_sentence) else by_sentence
    return [page if fits(page) or not cut else _cut(page, fits) for page in pages]


@dataclass(frozen=True)
class _Layout:
    """The lines of a turn that does not fit one page, and how to lay them over several."""

    fits: Measure
    options: list[str]
    nav: list[str]
    later_nav: list[str]
    more: str

    def tail(self, first: bool, more: bool) -> list[str]:
        """The last lines of a page: ``98 More`` if more follows, then the navigation."""
        return [*([self.more] if more else []), *(self.nav if first else self.later_nav)]

    def pages(self, text: str, keep: int, *, sentences: bool) -> list[str]:
        """The text first, over as many pages as it needs, then the options."""
        pages: list[str] = []
        first = True
        while text and not self._ends_here(text, first):
            head, text = self._split(text, keep, self.tail(first, True), sentences)
            pages.append("\n".join([head, *self.tail(first, True)]))
            keep, first = 0, False
        if not self.options:
            return [*pages, "\n".join([text, *self.tail(first, False)])]
        remaining, top = self.options, [text] if text else []
        while remaining:
            taken = 0
            while taken < len(remaining):
                tail = self.tail(first, taken + 1 < len(remaining))
                if not self.fits("\n".join([*top, *remaining[: taken + 1], *tail])):
                    break
                taken += 1
            taken = max(taken, 1)  # not even one option fits: put it alone, cut if it must be
            rest = remaining[taken:]
            pages.append("\n".join([*top, *remaining[:taken], *self.tail(first, bool(rest))]))
            remaining, top, first = rest, [], False
        return pages

    def _ends_here(self, text: str, first: bool) -> bool:
        """Does what is left of the text fit on the page that follows it with the first option
        (or, without options, on the last page)?"""
        if not self.options:
            return self.fits("\n".join([text, *self.tail(first, False)]))
        tail = self.tail(first, len(self.options) > 1)
        return self.fits("\n".join([text, self.options[0], *tail]))

    def _split(self, text: str, keep: int, tail: list[str], sentences: bool) -> tuple[str, str]:
        """The most of ``text`` that fits above ``tail`` (ending after a sentence if asked and
        worth it, else between words, never before ``keep``), and the rest."""
        if self.fits("\n".join([text, *tail])):
            return text, ""  # it fits alone: its options start on the next page
        cuts = [m.start() for m in GAP.finditer(text) if m.start() >= keep]
        fitting = [p for p in cuts if self.fits("\n".join([text[:p], *tail]))]
        if not fitting:  # one word longer than a page: cut inside it, the only way left
            low, high = 1, len(text)
            while low < high:
                mid = (low + high + 1) // 2
                low, high = (
                    (mid, high) if self.fits("\n".join([text[:mid], *tail])) else (low, mid - 1)
                )
            return text[:low], text[low:]
        at = fitting[-1]
        if sentences:
            ends = [p for p in fitting if text[:p].endswith(SENTENCE_ENDS)]
            if ends and ends[-1] >= at * SENTENCE_SHARE:
                at = ends[-1]
        return text[:at], text[at:].lstrip()


def _cut(text: str, fits: Measure) -> str:
    """Shorten a text until it fits, ending with '...' (validation keeps this from happening)."""
    low, high = 0, len(text)
    while low < high:
        mid = (low + high + 1) // 2
        if fits(text[:mid].rstrip() + "..."):
            low = mid
        else:
            high = mid - 1
    return text[:low].rstrip() + "..."
