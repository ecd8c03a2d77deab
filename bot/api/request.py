"""Per-request plumbing for the API: one database session and one clock reading per request
(``bot.deps``'s, shared with the team web), and the path parameters every route reads the same
way (ids the database can hold)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from bot.deps import DbSession, Now, get_db, get_now

__all__ = ["MAX_ID", "DbId", "DbSession", "Now", "Ref", "Username", "get_db", "get_now"]


MAX_ID = 2**31 - 1
"""The largest id a PostgreSQL ``integer`` column holds: a larger one is refused (422), never
sent to the database (where it is an error, not a miss)."""
DbId = Annotated[int, Path(ge=1, le=MAX_ID)]
"""A row id in a path."""
Ref = Annotated[str, Path(min_length=1, max_length=16)]
"""A case reference in a path (``K7QM-46``; spaces and case are forgiven, length is not)."""
Username = Annotated[str, Path(min_length=1, max_length=64)]
"""An operator's username in a path."""
