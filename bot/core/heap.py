"""The cyclic garbage collector set for a long-running server, once per process.

Start-up leaves some 300,000 objects that live as long as the process (flows, catalogs,
SQLAlchemy's tables, compiled statements). Python's collector walked all of them in every full
collection: under USSD load each app process spent about 200 ms of every second-or-two there,
a pause every caller in flight waited through, and its young collections (every 700 new
objects) about as much again. Measured with ``bench.ussd_load --tips`` (a probe of the
collector's callbacks): per process over 35 s, 9 full collections of ~220 ms each, 93 of the
middle generation at ~10 ms, 1,028 young ones; after ``settle``: no full collection, 3 middle
and ~40 young ones of under a millisecond.

What start-up made is frozen (``gc.freeze``: never walked again) and the young generation is
collected every ``YOUNG`` new objects. A request's objects are freed by their reference counts
as soon as it is answered (a USSD tip session leaves no cycle behind: checked with
``gc.DEBUG_SAVEALL``), so only cycles wait the longer interval.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)

YOUNG = 50_000
"""New objects between young collections (Python's default: 700)."""
MIDDLE = 20
"""Young collections between collections of the middle generation (default 10)."""
OLD = 100
"""Middle collections between full collections (default 10; Python also waits until the
objects waiting for one are a quarter of those that have been through one)."""

_settled = False


def settle() -> bool:
    """Collect, freeze what is alive, collect less often from now on; once per process (the
    first app started; tests start many). True if this call did it."""
    global _settled
    if _settled:
        return False
    _settled = True
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG, MIDDLE, OLD)
    log.info("heap settled: %d objects frozen", gc.get_freeze_count())
    return True
