"""Figures computed a moment ago, kept for a minute: a year of cases takes seconds to count on a
large or busy database, and a supervisor paging between periods (or a partner downloading the
tables after looking at them) asks for the same year again.

The kept value is what ``bot.stats`` made (already suppressed); a figure is at most ``ttl``
seconds old, and the page says when it was counted. One per app (``app.state``), not global.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from datetime import datetime, timedelta
from typing import Any, TypeVar

T = TypeVar("T")


class Recent:
    """A small time-limited memo of computed figures, safe across threads."""

    def __init__(self, ttl: timedelta = timedelta(seconds=60), size: int = 32) -> None:
        self.ttl = ttl
        self.size = size
        self._kept: dict[Hashable, tuple[datetime, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, now: datetime, make: Callable[[], T]) -> tuple[T, datetime]:
        """The value kept for ``key`` if younger than ``ttl``, else ``make()`` (kept); with the
        time it was made."""
        with self._lock:
            found = self._kept.get(key)
        if found is not None and now - found[0] < self.ttl:
            value: T = found[1]
            return value, found[0]
        made = make()
        with self._lock:
            if len(self._kept) >= self.size:
                self._kept.pop(min(self._kept, key=lambda k: self._kept[k][0]))
            self._kept[key] = (now, made)
        return made, now

    def clear(self) -> None:
        """Forget everything kept (the next ask counts afresh)."""
        with self._lock:
            self._kept.clear()
