"""Lay a turn out as numbered lines and split long menus into pages for text-only phones.

Page 1 is the notice (a hint: it replaces the text when both do not fit but the options then
fit one page, else it is dropped), the text, as many options as fit, ``98 More`` and the
navigation (``00 Back``, ``0 Exit``). A text too long for one page is split between words over
several pages first. Later pages carry the rest of the text and the next options, ``98 More``
when more follow, ``00 Back`` (to the previous page) and ``0 Exit``. Room for the navigation
is kept first.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.engine.state import Choice, Turn

Measure = Callable[[str], bool]
"""Does this page text fit the channel?"""


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
    exit_lines = [line(c) for c in turn.navigation if c.key != previous_key]
    more_line = f"{more_key} {more}"
    later_nav = [f"{previous_key} {previous}", *exit_lines]  # on page 2 on, 00 is the page back

    def finish(page: str) -> str:
        return page if fits(page) or not cut else _cut(page, fits)

    head = [turn.text] if not turn.notice else [turn.notice, turn.text]
    options = [line(o) for o in turn.options]
    if turn.notice and not fits("\n".join([*head, *options, *nav])):
        if options and fits("\n".join([turn.notice, *options, *nav])):
            # A person who typed something wrong must see why: the hint stands in for the
            # text they have just read, so the options stay on one page.
            head = [turn.notice]
        else:
            # Otherwise the screen matters more than the hint: a menu that needs pages keeps
            # the layout its page turns (shown without the hint) use, so no option is skipped.
            head = [turn.text]
    whole = "\n".join([*head, *options, *nav])
    if fits(whole) or turn.end:
        return [finish(whole)]
    pages: list[str] = []
    first = True
    words = "\n".join(head).split(" ")
    tail_first = [more_line, *nav]
    tail_later = [more_line, *later_nav]
    rest_fits = options[:1] + (nav if not options else [])
    while words and not fits("\n".join([" ".join(words), *rest_fits, *tail_later])):
        # The text goes first, over as many pages as it needs, then the options.
        tail = tail_first if first else tail_later
        taken = 1
        while taken < len(words) and fits("\n".join([" ".join(words[: taken + 1]), *tail])):
            taken += 1
        pages.append("\n".join([" ".join(words[:taken]), *tail]))
        words = words[taken:]
        first = False
    head = [" ".join(words)] if words else []
    if not options:
        return [*pages, finish("\n".join([*head, *(nav if first else later_nav)]))]
    remaining = options
    top = head  # what is left of the text goes on the first page of options
    while remaining:
        tail_last = nav if first else later_nav
        tail_more = [more_line, *tail_last]
        taken = 0
        while taken < len(remaining):
            rest = remaining[taken + 1 :]
            tail = tail_more if rest else tail_last
            if not fits("\n".join([*top, *remaining[: taken + 1], *tail])):
                break
            taken += 1
        if taken == 0:  # not even one option fits: put it alone, cut if it must be
            taken = 1
        rest = remaining[taken:]
        pages.append(
            finish("\n".join([*top, *remaining[:taken], *(tail_more if rest else tail_last)]))
        )
        remaining = rest
        first = False
        top = []
    return pages


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
