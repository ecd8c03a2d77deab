"""Small-cell suppression: the one rule every case figure passes through, with no way around it.

A count from 1 to 10 is hidden; 0 may show. Figures come in *lines*: a total and the members
it adds up (a row and its total, a column and its total, a quarter and its months). A line
would give a hidden member away when it is the only one hidden (the total minus the rest), or
when the hidden members' known sum is under 11 (two hidden cells that add up to 3 are a count
of 3). So, until no line does: the smallest count still shown in such a line is hidden as well
(secondary suppression), preferring members to the total.

Every hidden count, small or secondary, is shown with the one neutral mark ``HIDDEN``: a
secondary count can be in the hundreds, so a mark saying "under 11" would be false on it, and
a mark of its own would say "this one is 11 or more", which can pin a small one (a line whose
hidden counts add up to 12, one of them known to be 11 or more, leaves the other at exactly 1).

There is no parameter to turn it off or lower the threshold: ``THRESHOLD`` is the rule.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

THRESHOLD = 11
"""The smallest count shown: anything from 1 to THRESHOLD - 1 is hidden."""
HIDDEN = "[c]"
"""How every hidden count is shown everywhere (page, CSV, XLSX, terminal): "confidential", as
the UK's GSS/ONS mark it; one mark, whether the count is small or hidden for another's sake."""
LEGEND = (
    f"{HIDDEN} hidden to protect the people counted: a count from 1 to {THRESHOLD - 1}, or any "
    "count hidden so that a smaller one cannot be worked out from a total. 0 is shown."
)
"""What the mark means, in English, beside every set of figures (the page's msgid says the same)."""

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Line(Generic[K]):
    """Members that add up to a total (the keys of their counts)."""

    members: tuple[K, ...]
    total: K


def primary(value: int) -> bool:
    """Is this count small enough to identify someone (1 to 10)?"""
    return 0 < value < THRESHOLD


def _gives_away(line: Line[K], values: Mapping[K, int], hidden: set[K]) -> bool:
    """Could a reader work out a hidden count of this line, or a sum of them under 11?"""
    hid = [m for m in line.members if m in hidden]
    total_hidden = line.total in hidden
    count = len(hid) + (1 if total_hidden else 0)
    if count == 0:
        return False
    if count == 1:
        return True
    return not total_hidden and 0 < sum(values[m] for m in hid) < THRESHOLD


def _next_to_hide(
    line: Line[K],
    values: Mapping[K, int],
    hidden: set[K],
    lines_of: Mapping[K, list[Line[K]]],
) -> K | None:
    """The count to hide next in the line: a member before the total; among them the one
    that leaves the fewest other lines with a single hidden count, then the smallest."""

    def cost(key: K) -> tuple[int, int]:
        opened = sum(
            1
            for other in lines_of.get(key, [])
            if other is not line and not any(m in hidden for m in (*other.members, other.total))
        )
        return opened, values[key]

    shown = [m for m in line.members if m not in hidden and values[m] > 0]
    if shown:
        return min(shown, key=lambda m: (*cost(m), line.members.index(m)))
    if line.total not in hidden and values[line.total] > 0:
        return line.total
    return None


def suppress(values: Mapping[K, int], lines: Iterable[Line[K]]) -> frozenset[K]:
    """The keys whose counts must be hidden: the small ones, and as many others as it takes
    that no line gives a hidden count away. Every key of every line must be in ``values``."""
    all_lines = list(lines)
    lines_of: dict[K, list[Line[K]]] = {}
    for line in all_lines:
        if sum(values[m] for m in line.members) != values[line.total]:
            raise ValueError(f"a line does not add up: {line}")
        for key in (*line.members, line.total):
            lines_of.setdefault(key, []).append(line)
    hidden = {key for key, value in values.items() if primary(value)}
    changed = True
    while changed:
        changed = False
        for line in all_lines:
            while _gives_away(line, values, hidden):
                more = _next_to_hide(line, values, hidden, lines_of)
                if more is None:
                    break
                hidden.add(more)
                changed = True
    return frozenset(hidden)


@dataclass(frozen=True)
class Count:
    """A count as it may be shown: ``value`` is None when it is hidden."""

    value: int | None

    @property
    def hidden(self) -> bool:
        return self.value is None

    def __str__(self) -> str:
        return HIDDEN if self.value is None else str(self.value)


def shown(value: int, hidden: bool) -> Count:
    """The count as shown: hidden ones keep no value at all (nothing to leak later)."""
    return Count(None if hidden or primary(value) else value)


def rate(part: Count, whole: Count) -> float | None:
    """``part`` as a share of ``whole`` (0-1), or None when either is hidden or whole is 0."""
    if part.value is None or whole.value is None or whole.value == 0:
        return None
    return part.value / whole.value
