"""Per-request plumbing for the API: one database session and one clock reading per request,
and the path parameters every route reads the same way (ids the database can hold)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Path
from sqlmodel import Session

from bot.core.clock import utcnow
from bot.deps import EngineDep


def get_db(engine: EngineDep) -> Iterator[Session]:
    """A session shared by the request's dependencies and its handler (which commits).

    Plain (not async): FastAPI runs it in a thread, since closing a session may wait on the
    database.
    """
    with Session(engine) as session:
        yield session


async def get_now() -> datetime:
    """Now (UTC); tests override it to run the queue's deadlines on a fixed clock."""
    return utcnow()


MAX_ID = 2**31 - 1
"""The largest id a PostgreSQL ``integer`` column holds: a larger one is refused (422), never
sent to the database (where it is an error, not a miss)."""
DbId = Annotated[int, Path(ge=1, le=MAX_ID)]
"""A row id in a path."""
Ref = Annotated[str, Path(min_length=1, max_length=16)]
"""A case reference in a path (``K7QM-46``; spaces and case are forgiven, length is not)."""
Username = Annotated[str, Path(min_length=1, max_length=64)]
"""An operator's username in a path."""

DbSession = Annotated[Session, Depends(get_db)]
Now = Annotated[datetime, Depends(get_now)]
