"""Per-request plumbing for the API: one database session and one clock reading per request."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends
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


DbSession = Annotated[Session, Depends(get_db)]
Now = Annotated[datetime, Depends(get_now)]
