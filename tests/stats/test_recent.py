"""Recent figures: the same year asked twice within the minute is counted once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.stats.recent import Recent

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def test_kept_for_the_ttl_then_counted_again() -> None:
    made: list[int] = []

    def make() -> int:
        made.append(1)
        return len(made)

    recent = Recent(timedelta(seconds=60), size=2)
    assert recent.get("2026", T0, make) == (1, T0)
    assert recent.get("2026", T0 + timedelta(seconds=59), make) == (1, T0)
    later = T0 + timedelta(seconds=60)
    assert recent.get("2026", later, make) == (2, later)
    recent.get("2025", later, make)
    recent.get("2024", later + timedelta(seconds=1), make)  # the oldest makes room
    assert len(made) == 4
    recent.clear()
    assert recent.get("2024", later + timedelta(seconds=1), make)[0] == 5
