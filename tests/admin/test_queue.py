"""The queue page: open cases most urgent first, the filters, the live refresh and its events."""

from __future__ import annotations

import asyncio
import re

import pytest
from sqlmodel import Session

from admin.routes import queue as queue_routes
from admin.routes.queue import changes
from bot.cases import commands
from bot.models import Operator
from tests.admin.conftest import Web
from tests.api import load, new_case
from tests.cases.helpers import T0


def refs(html: str) -> list[str]:
    return re.findall(r'id="case-([A-Z0-9-]+)"', html)


def claim(web: Web, reference: str, username: str) -> None:
    with Session(web.engine) as db:
        case = load(web.engine, reference)
        actor = db.get(Operator, web.ids[username])
        assert actor is not None
        commands.claim(db, case=db.merge(case), actor=actor, now=web.clock.now)
        db.commit()


def test_open_cases_most_urgent_first_with_time_left_or_overdue(web: Web) -> None:
    p3 = new_case(web.engine, priority="P3")
    p1 = new_case(web.engine, priority="P1")
    closed = new_case(web.engine, priority="P1", status="closed")
    web.clock.advance(minutes=12)  # the P1's 10 minutes are over
    web.as_role("supervisor")
    page = web.client.get("/queue").text
    assert refs(page) == [p1, p3]
    assert closed not in page
    assert "overdue by 2 min" in page and "2 d 23 h left" in page
    assert "rule for P1" in page and "cd-kwilu-kikwit" in page
    assert "brick kiln" not in page  # nothing reported reaches the queue


def test_filters_mine_unassigned_priority_area_status(web: Web) -> None:
    kikwit = new_case(web.engine, priority="P1")
    kinshasa = new_case(web.engine, priority="P2", area="cd-kinshasa")
    triaged = new_case(web.engine, priority="P3", area="cd-kinshasa", status="triaged")
    claim(web, kinshasa, "joseph")
    web.as_("joseph")

    def shown(query: str) -> list[str]:
        response = web.client.get("/queue?" + query)
        assert response.status_code == 200
        return refs(response.text)

    assert shown("who=all") == [kikwit, kinshasa, triaged]
    assert shown("who=mine") == [kinshasa]
    assert shown("who=unassigned") == [kikwit, triaged]
    assert shown("priority=P1") == [kikwit]
    assert shown("area=cd-kinshasa") == [kinshasa, triaged]
    assert shown("area=cd-kwilu") == [kikwit]  # an area takes in the areas inside it
    assert shown("status=triaged") == [triaged]
    assert shown("status=closed&priority=P9&who=everyone&area=%3Cb%3E") == [
        kikwit,
        kinshasa,
        triaged,
    ]  # anything unknown is ignored, never an error
    assert shown("area=cd-kinshasa&who=unassigned") == [triaged]


def test_the_refresh_fragment_is_small_and_keeps_the_filters(web: Web) -> None:
    for i in range(25):
        new_case(web.engine, priority=("P1", "P2", "P3", "P4")[i % 4])
    web.as_role("operator")
    page = web.client.get("/queue?priority=P1").text
    assert 'hx-get="/queue/rows?priority=P1"' in page
    rows = web.client.get("/queue/rows", headers={"HX-Request": "true"})
    assert rows.status_code == 200 and "<html" not in rows.text
    assert len(refs(rows.text)) == 25
    sent = web.client.stream(
        "GET", "/queue/rows", headers={"HX-Request": "true", "Accept-Encoding": "gzip"}
    )
    with sent as response:
        assert response.headers["content-encoding"] == "gzip"
        size = len(b"".join(response.iter_raw()))
    assert size <= 8 * 1024, size  # a live refresh on a slow connection
    p1s = rows.text.split('data-new-p1="', 1)[1].split('"', 1)[0].split()
    assert len(p1s) == 7


def test_a_fragment_after_the_session_ended_sends_the_page_to_sign_in(web: Web) -> None:
    web.as_role("operator")
    web.clock.advance(hours=13)
    rows = web.client.get("/queue/rows", headers={"HX-Request": "true"}, follow_redirects=False)
    assert rows.status_code == 204 and rows.headers["HX-Redirect"].startswith("/signin")


def test_the_event_stream_says_when_a_case_arrives(web: Web) -> None:
    class Browser:
        async def is_disconnected(self) -> bool:
            return False

    async def watch() -> list[str]:
        seen: list[str] = []
        stream = changes(Browser(), web.engine, lifetime=5.0, every=0.02)  # type: ignore[arg-type]
        async for chunk in stream:
            seen.append(chunk)
            if len(seen) == 2:  # retry, then the version now: a case arrives
                await asyncio.to_thread(new_case, web.engine, priority="P1", at=T0)
            if len(seen) == 3:
                await stream.aclose()
                break
        return seen

    retry, first, after = asyncio.run(watch())
    assert retry.startswith("retry: ")
    assert first.startswith("event: queue\ndata: ")
    assert after.startswith("event: queue\ndata: ") and after != first


def test_the_event_stream_endpoint_is_bounded(web: Web) -> None:
    web.as_role("operator")
    response = web.client.get("/queue/events", follow_redirects=False)  # 1 s, then it ends
    assert response.status_code == 200, (response.status_code, response.headers, response.text)
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-store"
    assert "event: queue" in response.text


def test_acknowledged_cases_no_longer_count_down(web: Web) -> None:
    reference = new_case(web.engine, priority="P1")
    claim(web, reference, "amani")
    web.clock.advance(minutes=30)
    web.as_role("admin")
    page = web.client.get("/queue").text
    assert "acknowledged" in page and "overdue" not in page


def test_a_long_queue_shows_the_most_urgent_and_says_so(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queue_routes, "ROWS", 2)
    made = [new_case(web.engine, priority=p) for p in ("P3", "P1", "P2")]
    web.as_("joseph")
    page = web.client.get("/queue").text
    assert refs(page) == [made[1], made[2]]
    assert "The 2 most urgent are shown." in page
