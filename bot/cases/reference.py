"""Reference codes a reporter can quote later: short, easy to read aloud, hard to guess.

``K7QM-46``: four characters and two digits from an alphabet without look-alikes (no 0/O,
1/I/L, 2/Z, 5/S, 8/B): 24^4 x 5^2 = 8.3 million codes; the database keeps them unique.
"""

from __future__ import annotations

import re
import secrets

LETTERS = "ACDEFGHJKMNPQRTUVWXY3479"
DIGITS = "34679"
PATTERN = re.compile(rf"^[{LETTERS}]{{4}}-[{DIGITS}]{{2}}$")


def new_reference() -> str:
    """A random reference code such as ``K7QM-46``."""
    head = "".join(secrets.choice(LETTERS) for _ in range(4))
    tail = "".join(secrets.choice(DIGITS) for _ in range(2))
    return f"{head}-{tail}"


def normalise(typed: str) -> str | None:
    """A code as a person typed it (``k7qm 46``, ``K7QM46``), or None when it cannot be one."""
    compact = re.sub(r"[^A-Z0-9]", "", typed.upper())
    if len(compact) != 6:
        return None
    code = f"{compact[:4]}-{compact[4:]}"
    return code if PATTERN.match(code) else None
