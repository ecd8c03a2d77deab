"""``/queue``: the open cases, most urgent first, with the filters of DESIGN §8 — and live.

``GET /queue`` is the page (a plain GET form filters it: mine / unassigned / all, priority,
area, status); ``GET /queue/rows`` the same filters' table alone, which the page swaps in when
``GET /queue/events`` (server-sent events) says the queue changed, or every 20 s where
EventSource is missing or fails. The list and what counts as a change are the cases service's
(``bot.cases.queue``); nothing reported by a caller is ever on this page.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy.engine import Engine
from sqlmodel import Session

from admin.deps import Staff
from admin.render import render
from bot.cases import queue
from bot.deps import DbSession, EngineDep, Now, SettingsDep

router = APIRouter(tags=["team web"])

WHO: dict[str, queue.Who] = {"all": "all", "mine": "mine", "unassigned": "unassigned"}
ROWS = 100
"""Cases shown at most (the most urgent): a page stays light on a slow connection."""


@dataclass(frozen=True)
class Filters:
    """The filter form as sent; anything unknown is ignored, never an error."""

    who: str = "all"
    priority: str = ""
    area: str = ""
    status: str = ""

    def query(self, me: int) -> queue.QueueFilter:
        """What to ask the cases service for."""
        return queue.QueueFilter(
            who=WHO.get(self.who, "all"),
            me=me,
            priority=self.priority or None,
            area=self.area or None,
            status=self.status or None,
        )

    def params(self) -> str:
        """The filters as a query string (for the fragment and the live updates)."""
        values = {
            "who": self.who,
            "priority": self.priority,
            "area": self.area,
            "status": self.status,
        }
        return urlencode({k: v for k, v in values.items() if v and v != "all"})


def filters(
    who: Annotated[str, Query(max_length=16)] = "all",
    priority: Annotated[str, Query(max_length=4)] = "",
    area: Annotated[str, Query(max_length=120)] = "",
    status: Annotated[str, Query(max_length=16)] = "",
) -> Filters:
    """The filters from the query string, each kept only when it is one we know."""
    return Filters(
        who=who if who in ("all", "mine", "unassigned") else "all",
        priority=priority if priority in queue.PRIORITIES else "",
        area=area if area and all(c.isalnum() or c == "-" for c in area) else "",
        status=status if status in queue.OPEN_STATUSES else "",
    )


QueueFilters = Annotated[Filters, Depends(filters)]


def _rows(db: DbSession, me: Staff, now: Now, chosen: Filters) -> dict[str, Any]:
    items = queue.open_cases(db, now=now, limit=ROWS + 1, where=chosen.query(me.id))
    return {
        "items": items[:ROWS],
        "more": len(items) > ROWS,
        "shown": ROWS,
        "filters": chosen,
        "version": queue.version(db),
        "new_p1": [i.reference for i in items if i.priority == "P1" and not i.target_met],
    }


@router.get("/queue")
def queue_page(
    request: Request, me: Staff, db: DbSession, now: Now, chosen: QueueFilters
) -> Response:
    """The queue page."""
    context = _rows(db, me, now, chosen)
    context.update(
        areas=queue.open_areas(db),
        priorities=queue.PRIORITIES,
        statuses=queue.OPEN_STATUSES,
    )
    return render(request, "queue.html", context)


@router.get("/queue/rows")
def queue_rows(
    request: Request, me: Staff, db: DbSession, now: Now, chosen: QueueFilters
) -> Response:
    """The queue's table alone (a live refresh)."""
    return render(request, "queue_rows.html", _rows(db, me, now, chosen))


RETRY_MS = 3000
"""How soon a browser reconnects once a stream ends (EventSource's ``retry``)."""
KEEPALIVE = 25.0
"""Seconds between two comment lines on a quiet stream (so no proxy drops it as idle)."""


def current_version(engine: Engine) -> int:
    """The queue's version now (one indexed aggregate)."""
    with Session(engine) as session:
        return queue.version(session)


async def changes(
    request: Request, engine: Engine, *, lifetime: float, every: float
) -> AsyncGenerator[str, None]:
    """Server-sent events: ``queue`` with the version at once, then each time it changes;
    ends after ``lifetime`` seconds or when the browser goes."""
    yield f"retry: {RETRY_MS}\n\n"
    last = await asyncio.to_thread(current_version, engine)
    yield f"event: queue\ndata: {last}\n\n"
    ends = time.monotonic() + lifetime
    quiet_since = time.monotonic()
    while time.monotonic() < ends:
        await asyncio.sleep(min(every, max(0.0, ends - time.monotonic())))
        if await request.is_disconnected():
            return
        now = await asyncio.to_thread(current_version, engine)
        if now != last:
            last = now
            quiet_since = time.monotonic()
            yield f"event: queue\ndata: {now}\n\n"
        elif time.monotonic() - quiet_since >= KEEPALIVE:
            quiet_since = time.monotonic()
            yield ": still here\n\n"


@router.get("/queue/events")
def queue_events(
    request: Request, me: Staff, db: DbSession, engine: EngineDep, settings: SettingsDep
) -> StreamingResponse:
    """The live queue's events (a bounded stream: the browser reconnects after it ends)."""
    db.close()  # the stream holds no database connection between its checks
    return StreamingResponse(
        changes(
            request,
            engine,
            lifetime=settings.web_live_seconds,
            every=settings.web_live_check_seconds,
        ),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
