"""Reference codes a reporter can quote later: short, easy to read aloud, hard to guess.

``K7QM-46``: four characters and two digits from an alphabet without look-alikes (no 0/O,
1/I/L, 2/Z, 5/S, 8/B): 24^4 x 5^2 = 8.3 million codes; the database keeps them unique. The
alphabet and how a typed code is read back are the engine's ``reference`` answer format.
"""

from __future__ import annotations

import secrets

from bot.engine.formats import REFERENCE_DIGITS as DIGITS
from bot.engine.formats import REFERENCE_LETTERS as LETTERS
from bot.engine.formats import REFERENCE_PATTERN as PATTERN
from bot.engine.formats import normalise_reference as normalise

__all__ = ["DIGITS", "LETTERS", "PATTERN", "new_reference", "normalise"]


def new_reference() -> str:
    """A random reference code such as ``K7QM-46``."""
    head = "".join(secrets.choice(LETTERS) for _ in range(4))
    tail = "".join(secrets.choice(DIGITS) for _ in range(2))
    return f"{head}-{tail}"
