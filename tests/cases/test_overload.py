"""A slow database holds back reports only (issue 11: saving cases must not stall every caller).

The database is made slow on purpose (every statement waits); reports sent together then queue
for the engine's one request thread (``HOTLINE_DB_THREADS``), while callers who do not need the
database are answered at once. A report that would wait longer than ``HOTLINE_DB_QUEUE_WAIT``
is not started: the person gets the neutral "try again" screen, and no case is kept for it. Every
reference shown is a committed case, and every committed case had its reference shown.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx2
from sqlalchemy import event
from sqlmodel import Session, select

from bot.core.db import threads_for
from bot.models import Case
from tests.conftest import TEST_PHONES, make_app, make_settings

TOKEN = "t0k3n-for-tests"
URL = f"/ussd/africastalking/{TOKEN}"
HOTLINE = "0800 000 000"
REFERENCE = re.compile(r"\b[A-Z0-9]{4}-[0-9]{2}\b")
# English, report something: forced work, DR Congo, Bas-Uele, one person, no children, no
# danger, no description, no contact; then Send.
TIP = ("1", "1", "1", "1", "1", "1", "2", "2", "2", "2")
SEND = "1"
REPORTS = 6
STATEMENT_DELAY = 0.08  # seconds every statement waits while the database is slow
QUEUE_WAIT = 0.6


def form(session_id: str, text: str) -> dict[str, str]:
    return {
        "sessionId": session_id,
        "serviceCode": "*384*12#",
        "phoneNumber": TEST_PHONES[0],
        "networkCode": "63001",
        "text": text,
    }


async def test_reports_queue_for_a_slow_database_and_other_callers_do_not_wait(
    tmp_path: Path,
) -> None:
    settings = make_settings(
        tmp_path,
        callback_token=TOKEN,
        public_number=HOTLINE,
        case_hourly_limit=0,  # one test number files every report
        language_memory_days=0,  # every session starts at the language menu
        db_threads=1,
        db_queue_wait=QUEUE_WAIT,
    )
    app = make_app(settings)
    engine = app.state.engine
    slow = threading.Event()

    @event.listens_for(engine, "before_cursor_execute")
    def delay(*_: Any) -> None:
        if slow.is_set():
            time.sleep(STATEMENT_DELAY)  # in the request thread: the event loop is not held

    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as http:

        async def post(session_id: str, text: str) -> str:
            answer = await http.post(URL, data=form(session_id, text))
            assert answer.status_code == 200, answer.text
            return answer.text

        sessions = [f"ATUid_{uuid.uuid4().hex}" for _ in range(REPORTS)]
        for sid in sessions:
            for k in range(len(TIP) + 1):
                assert (await post(sid, "*".join(TIP[:k]))).startswith("CON ")
        slow.set()
        sends = [asyncio.ensure_future(post(sid, "*".join((*TIP, SEND)))) for sid in sessions]
        await asyncio.sleep(0.05)  # the reports are queued or saving
        waits = []
        for _ in range(10):  # callers who do not need the database, meanwhile
            began = time.monotonic()
            screen = await post(f"ATUid_{uuid.uuid4().hex}", "")
            waits.append(time.monotonic() - began)
            assert screen.startswith("CON Choose your language")
        assert not all(send.done() for send in sends), "the database was not slow enough"
        answers = await asyncio.gather(*sends)

    assert max(waits) < 0.3, waits  # a case takes about 0.4 s now, the queue a second
    threads = threads_for(engine)
    assert threads.busiest == 1  # never more than HOTLINE_DB_THREADS at once
    shown = [found.group() for a in answers if (found := REFERENCE.search(a))]
    neutral = [a for a in answers if not REFERENCE.search(a)]
    assert shown, answers  # the first reports were saved
    assert neutral, answers  # the later ones would have waited too long
    assert len(neutral) == threads.shed
    for answer in neutral:
        assert answer.startswith("END Sorry, we could not save your answers."), answer
        assert HOTLINE in answer
    assert all(answer.startswith("END ") for answer in answers)
    with Session(engine) as session:
        stored = {case.reference for case in session.exec(select(Case)).all()}
    assert stored == set(shown)  # nothing acknowledged is lost, nothing refused is kept
