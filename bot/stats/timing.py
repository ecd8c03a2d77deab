"""Times counted in SQL into a ladder of buckets, so a year of cases comes back as a few dozen
rows; a median is read from the buckets (to the bucket, interpolated)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, literal

MINUTES = (1, 2, 5, 10, 15, 30, 60, 120, 240, 480, 720, 1440, 2880, 4320, 7200, 10080)
LADDER = (*(m * 60 for m in MINUTES), 10**9)
"""Upper bounds (seconds) of the time buckets: 1 min ... a week, then anything longer."""


def seconds_between(dialect: str, later: Any, earlier: Any) -> Any:
    """``later - earlier`` in seconds, as SQL for the database at hand."""
    if dialect == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def bucket(seconds: Any) -> Any:
    """The index of the first ``LADDER`` bound at or above ``seconds``, as SQL."""
    return case(
        *((seconds <= bound, literal(i)) for i, bound in enumerate(LADDER)),
        else_=literal(len(LADDER) - 1),
    )


def median_of(buckets: dict[int, int]) -> float | None:
    """The median of counts per bucket, interpolated within its bucket."""
    total = sum(buckets.values())
    if not total:
        return None
    half = total / 2
    seen = 0
    for i in range(len(LADDER)):
        n = buckets.get(i, 0)
        if n and seen + n >= half:
            low = LADDER[i - 1] if i else 0
            high = LADDER[i] if i < len(LADDER) - 1 else low * 2
            return low + (high - low) * (half - seen) / n
        seen += n
    return None
