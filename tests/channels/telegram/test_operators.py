"""Operators on Telegram: linking with a one-time code, alerts with buttons, /queue, privacy.

The real app (``create_app``) with the Bot API mocked by respx (``telegram_fake``), on SQLite
and PostgreSQL. Times are around the real now (the app's background loops run on it): the rota
covers now, and the escalation sweep is run by the test at chosen times after the case.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import respx
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.auth.tokens import issue_token, token_key
from bot.cases.escalation import sweep
from bot.cases.intake import CasesSink
from bot.channels.telegram.operators import duration
from bot.core.clock import utcnow
from bot.core.privacy import pseudonym
from bot.engine.state import Event
from bot.i18n import ui
from bot.i18n.translate import Translate
from bot.models import (
    AuditEntry,
    Case,
    CaseEvent,
    Escalation,
    Operator,
    OperatorLink,
    OutboundMessage,
)
from bot.team import telegram_link
from tests.cases.helpers import CATALOGS, CIPHER, team
from tests.channels.telegram.fake import (
    OTHER,
    PSEUDONYM_KEY,
    USER,
    Sent,
    TelegramHotline,
    assert_no_telegram_ids,
    assert_no_token,
    starter,
    translate,
)
from tests.conftest import database_text

NARRATIVE = "they took our papers at the brick kiln"


class Recorder:
    """A notifier that remembers what it was told."""

    def __init__(self) -> None:
        self.told: list[int] = []

    async def notify(self, message_ids: Any) -> None:
        self.told.extend(message_ids)


@pytest.fixture
def hotline(
    tmp_path: Path, router: respx.MockRouter, database_url: str
) -> Iterator[TelegramHotline]:
    for start in starter(tmp_path, router, database_url):
        yield start(encryption_keys=CIPHER.keys[0])


@pytest.fixture
def db(hotline: TelegramHotline) -> Engine:
    engine: Engine = hotline.app.state.engine
    return engine


@pytest.fixture
def now() -> datetime:
    return utcnow().replace(microsecond=0)


@pytest.fixture
def ids(db: Engine, now: datetime) -> dict[str, int]:
    """amani (fr, primary), lerato (st, backup), joseph (en, supervisor), on call now."""
    return team(db, start=now - timedelta(hours=1), hours=12)


@pytest.fixture
def tr(hotline: TelegramHotline) -> Translate:
    return translate()


def auth(hotline: TelegramHotline, db: Engine, username: str) -> dict[str, str]:
    with Session(db) as session:
        operator = session.exec(select(Operator).where(col(Operator.username) == username)).one()
    token = issue_token(
        token_key(hotline.app.state.settings), operator, expires_at=utcnow() + timedelta(hours=1)
    )
    return {"Authorization": f"Bearer {token}"}


def get_code(hotline: TelegramHotline, db: Engine, username: str = "amani") -> str:
    response = hotline.client.post("/api/me/telegram-link", headers=auth(hotline, db, username))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["command"] == f"/link {body['code']}"
    code: str = body["code"]
    return code


def operator(db: Engine, username: str) -> Operator:
    with Session(db) as session:
        return session.exec(select(Operator).where(col(Operator.username) == username)).one()


def link(hotline: TelegramHotline, db: Engine, username: str = "amani", user: int = USER) -> None:
    hotline.send(f"/link {get_code(hotline, db, username)}", user=user)
    assert operator(db, username).telegram_contact is not None


def new_case(db: Engine, at: datetime, priority: str = "P1", n: int = 1, **answers: str) -> Case:
    event = Event(
        "screening_completed",
        {
            "event_id": f"op-test:{n}",
            "lang": "fr",
            "answers": {
                "U1": "yes",
                "area": "cd-kwilu-kikwit",
                "description": NARRATIVE,
                **answers,
            },
            "priority": priority,
            "rule": "U1 danger now",
        },
    )
    sink = CasesSink(db, CIPHER, CATALOGS.gettext, Recorder, clock=lambda: at)
    reference, _ = sink.commit(event, channel="ussd", contact=f"ph_test_{n}", address=None)
    with Session(db) as session:
        return session.exec(select(Case).where(col(Case.reference) == reference)).one()


def deliver_all(hotline: TelegramHotline, db: Engine) -> None:
    """Run the app's worker until no message waits (its own loop may be sending too)."""
    portal = hotline.client.portal
    assert portal is not None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        portal.call(hotline.app.state.worker.run_due)
        with Session(db) as session:
            waiting = session.exec(
                select(OutboundMessage).where(
                    col(OutboundMessage.status).in_(["pending", "sending"])
                )
            ).all()
        if not waiting:
            return
        time.sleep(0.05)
    raise AssertionError("messages not delivered")


def alert_message(hotline: TelegramHotline, user: int = USER) -> Sent:
    return hotline.api.keyboard(user)


def toasts(hotline: TelegramHotline) -> list[str]:
    return [p.get("text", "") for p in hotline.api.called("answerCallbackQuery")]


# --- linking ---------------------------------------------------------------------------------


def test_an_operator_links_telegram_with_a_one_time_code(
    hotline: TelegramHotline, db: Engine, ids: dict[str, int], tr: Translate, caplog: Any
) -> None:
    code = get_code(hotline, db)
    assert len(code) == 9 and code[4] == "-"
    assert code.replace("-", "") not in database_text(db), "only the code's HMAC is kept"
    hotline.send(f"/link {code.lower()}", language_code="en")
    expected = tr("fr", ui.OP_LINKED).format(username="amani")
    assert hotline.api.last().text == expected, "confirmed in the operator's language"
    amani = operator(db, "amani")
    assert amani.telegram_contact == pseudonym(PSEUDONYM_KEY, "telegram", str(USER))
    assert amani.telegram_chat is not None
    assert CIPHER.decrypt(amani.telegram_chat, telegram_link.CHAT_CONTEXT) == str(USER)
    with Session(db) as session:
        actions = [a.action for a in session.exec(select(AuditEntry)).all()]
        assert "telegram_code" in actions and "telegram_link" in actions
    # the same code again, from another Telegram account: refused, nothing stored
    hotline.send(f"/link {code}", user=OTHER, language_code="en")
    assert hotline.api.last(OTHER).text == tr("en", ui.OP_LINK_REFUSED)
    assert operator(db, "amani").telegram_contact == amani.telegram_contact
    other = pseudonym(PSEUDONYM_KEY, "telegram", str(OTHER))
    with Session(db) as session:
        assert (
            session.exec(select(Operator).where(Operator.telegram_contact == other)).first() is None
        )
    assert_no_telegram_ids(database_text(db), caplog.text)
    assert_no_token(caplog.text)


def test_wrong_and_expired_codes_are_refused(
    hotline: TelegramHotline, db: Engine, ids: dict[str, int], tr: Translate
) -> None:
    with Session(db) as session:
        amani = session.exec(select(Operator).where(Operator.username == "amani")).one()
        key = telegram_link.link_key(PSEUDONYM_KEY)
        old = telegram_link.new_code(
            session, key, operator=amani, now=utcnow() - timedelta(minutes=16)
        )
        session.commit()
    hotline.send(f"/link {old.code}", language_code="fr")
    assert hotline.api.last().text == tr("fr", ui.OP_LINK_REFUSED)
    hotline.send("/link NOPE-NOPE", language_code="fr")
    assert hotline.api.last().text == tr("fr", ui.OP_LINK_REFUSED)
    hotline.send("/link", language_code="fr")
    assert hotline.api.last().text == tr("fr", ui.OP_NOT_LINKED)
    assert operator(db, "amani").telegram_contact is None
    assert operator(db, "amani").telegram_chat is None
    with Session(db) as session:
        assert session.exec(select(OperatorLink)).one().used_at is None


def test_codes_cannot_be_guessed(
    hotline: TelegramHotline, db: Engine, ids: dict[str, int], tr: Translate
) -> None:
    for _ in range(5):
        hotline.send("/link AAAA-AAAA")
    code = get_code(hotline, db)
    hotline.send(f"/link {code}")
    assert hotline.api.last().text == tr("en", ui.OP_LINK_REFUSED), "too many tries: refused"
    assert operator(db, "amani").telegram_contact is None
    hotline.send(f"/link {code}", user=OTHER)  # another chat is not held back
    assert operator(db, "amani").telegram_contact is not None


def test_a_new_code_replaces_the_old_and_unlinking_forgets_the_chat(
    hotline: TelegramHotline, db: Engine, ids: dict[str, int], tr: Translate
) -> None:
    first = get_code(hotline, db)
    second = get_code(hotline, db)
    hotline.send(f"/link {first}")
    assert hotline.api.last().text == tr("en", ui.OP_LINK_REFUSED)
    hotline.send(f"/link {second}")
    assert operator(db, "amani").telegram_chat is not None
    # the same Telegram account linked by someone else moves to them
    hotline.send(f"/link {get_code(hotline, db, 'lerato')}")
    assert operator(db, "amani").telegram_contact is None
    assert operator(db, "lerato").telegram_contact is not None
    response = hotline.client.delete("/api/me/telegram-link", headers=auth(hotline, db, "lerato"))
    assert response.status_code == 200 and response.json() == {"unlinked": True}
    lerato = operator(db, "lerato")
    assert lerato.telegram_contact is None and lerato.telegram_chat is None
    again = hotline.client.delete("/api/me/telegram-link", headers=auth(hotline, db, "lerato"))
    assert again.json() == {"unlinked": False}
    assert hotline.client.post("/api/me/telegram-link").status_code == 401


# --- alerts and their buttons ----------------------------------------------------------------


def test_an_alert_reaches_telegram_with_its_buttons_and_ack_stops_the_ladder(
    hotline: TelegramHotline,
    db: Engine,
    ids: dict[str, int],
    tr: Translate,
    now: datetime,
    caplog: Any,
) -> None:
    link(hotline, db)
    case = new_case(db, now)
    with Session(db) as session:
        rows = session.exec(select(OutboundMessage).order_by(col(OutboundMessage.id))).all()
        assert [(r.channel, r.key) for r in rows] == [
            ("telegram", f"alert-tg:{case.id}:0"),
            ("sms", f"alert:{case.id}:0"),
        ]
    deliver_all(hotline, db)
    alert = alert_message(hotline)
    assert case.reference in alert.text and "P1" in alert.text and "cd-kwilu-kikwit" in alert.text
    assert NARRATIVE not in alert.text
    assert alert.text == tr("fr", ui.ALERT_NEW).format(
        reference=case.reference, priority="P1", area="cd-kwilu-kikwit"
    )
    assert alert.buttons == [
        (tr("fr", ui.OP_ACK_BUTTON), f"op:ack:{case.id}"),
        (tr("fr", ui.OP_CLAIM_BUTTON), f"op:claim:{case.id}"),
    ]
    assert all(len(data.encode()) <= 64 for _, data in alert.buttons)
    with Session(db) as session:
        sent = session.exec(
            select(OutboundMessage).where(OutboundMessage.channel == "telegram")
        ).one()
        assert sent.status == "sent" and sent.recipient is None, "the chat id is wiped once sent"

    hotline.tap(tr("fr", ui.OP_ACK_BUTTON), on=alert)
    assert toasts(hotline)[-1] == tr("fr", ui.OP_ACKNOWLEDGED).format(reference=case.reference)
    assert sweep(db, CIPHER, CATALOGS.gettext, now=now + timedelta(minutes=10)) == []
    assert sweep(db, CIPHER, CATALOGS.gettext, now=now + timedelta(minutes=30)) == []
    with Session(db) as session:
        steps = session.exec(select(Escalation)).all()
        assert [(s.level, s.operator_id, s.done) for s in steps] == [(0, ids["amani"], True)]
        stored = session.get(Case, case.id)
        assert stored is not None and stored.acknowledged_at is not None
        first_ack = stored.acknowledged_at
        assert session.exec(select(CaseEvent).where(CaseEvent.kind == "ack")).one().actor == "amani"
        assert [
            a.actor for a in session.exec(select(AuditEntry).where(AuditEntry.action == "ack"))
        ] == ["amani"]
    # pressing again is harmless
    hotline.tap(tr("fr", ui.OP_ACK_BUTTON), on=alert)
    assert toasts(hotline)[-1] == tr("fr", ui.OP_ACKNOWLEDGED).format(reference=case.reference)
    with Session(db) as session:
        stored = session.get(Case, case.id)
        assert stored is not None and stored.acknowledged_at == first_ack
        assert len(session.exec(select(Escalation)).all()) == 1
    assert_no_telegram_ids(database_text(db), caplog.text)
    assert_no_token(caplog.text)


def test_without_an_ack_the_backup_is_alerted_on_telegram_too(
    hotline: TelegramHotline, db: Engine, ids: dict[str, int], tr: Translate, now: datetime
) -> None:
    link(hotline, db, "lerato", user=OTHER)
    case = new_case(db, now)
    queued = sweep(db, CIPHER, CATALOGS.gettext, now=now + timedelta(minutes=10))
    assert len(queued) == 2, "the backup's SMS and Telegram alerts"
    deliver_all(hotline, db)
    alert = alert_message(hotline, OTHER)
    assert alert.text == tr("st", ui.ALERT_ESCALATED).format(
        reference=case.reference, priority="P1", area="cd-kwilu-kikwit"
    )
    assert [d for _, d in alert.buttons] == [f"op:ack:{case.id}", f"op:claim:{case.id}"]


def test_claim_from_the_button(
    hotline: TelegramHotline, db: Engine, ids: dict[str, int], tr: Translate, now: datetime
) -> None:
    link(hotline, db)
    case = new_case(db, now)
    deliver_all(hotline, db)
    alert = alert_message(hotline)
    hotline.tap(tr("fr", ui.OP_CLAIM_BUTTON), on=alert)
    assert toasts(hotline)[-1] == tr("fr", ui.OP_CLAIMED).format(reference=case.reference)
    with Session(db) as session:
        stored = session.get(Case, case.id)
        assert stored is not None
        assert stored.assignee_id == ids["amani"] and stored.acknowledged_at is not None
        assert session.exec(select(AuditEntry).where(AuditEntry.action == "claim")).one().actor == (
            "amani"
        )
    # someone else linked cannot take it over (an operator, not a supervisor)
    link(hotline, db, "lerato", user=OTHER)
    hotline.post(hotline.callback(f"op:claim:{case.id}", alert.message_id, user=OTHER))
    assert toasts(hotline)[-1] == tr("st", ui.OP_CLAIMED_BY_OTHER).format(reference=case.reference)
    with Session(db) as session:
        stored = session.get(Case, case.id)
        assert stored is not None and stored.assignee_id == ids["amani"]


def test_a_stranger_s_tap_is_refused_and_changes_nothing(
    hotline: TelegramHotline, db: Engine, ids: dict[str, int], tr: Translate, now: datetime
) -> None:
    link(hotline, db)
    case = new_case(db, now)
    for data in (f"op:ack:{case.id}", f"op:claim:{case.id}"):
        response = hotline.post(hotline.callback(data, 1, user=OTHER))
        assert response.status_code == 200
        assert toasts(hotline)[-1] == tr("en", ui.OP_NOT_ALLOWED)
    with Session(db) as session:
        stored = session.get(Case, case.id)
        assert stored is not None and stored.acknowledged_at is None and stored.assignee_id is None
        assert (
            session.exec(
                select(AuditEntry).where(col(AuditEntry.action).in_(["ack", "claim"]))
            ).all()
            == []
        )
    # a deactivated operator's taps are refused too
    with Session(db) as session:
        amani = session.exec(select(Operator).where(Operator.username == "amani")).one()
        amani.active = False
        session.add(amani)
        session.commit()
    hotline.post(hotline.callback(f"op:ack:{case.id}", 1, user=USER))
    assert toasts(hotline)[-1] == tr("en", ui.OP_NOT_ALLOWED)
    with Session(db) as session:
        stored = session.get(Case, case.id)
        assert stored is not None and stored.acknowledged_at is None


def test_flow_buttons_still_work_beside_operator_buttons(
    hotline: TelegramHotline, db: Engine, ids: dict[str, int], tr: Translate
) -> None:
    hotline.send("/start", language_code="en")
    hotline.tap("Get help now")
    assert "0800 000 000" in hotline.api.last().text


# --- /queue ----------------------------------------------------------------------------------


def test_queue_lists_the_operator_s_open_cases_without_what_was_reported(
    hotline: TelegramHotline, db: Engine, ids: dict[str, int], tr: Translate, now: datetime
) -> None:
    hotline.send("/queue")
    assert hotline.api.last().text == tr("en", ui.OP_NOT_LINKED)
    link(hotline, db)
    alerted = new_case(db, now - timedelta(minutes=15), n=1)  # P1 alerted to amani: overdue
    urgent = new_case(db, now, priority="P2", n=2)  # unassigned P2, amani on call
    mine = new_case(db, now, priority="P3", n=3, area="ls-maseru")
    theirs = new_case(db, now, priority="P3", n=4)
    low = new_case(db, now, priority="P4", n=5)  # unassigned P4: not for /queue
    closed = new_case(db, now, priority="P3", n=6)
    with Session(db) as session:
        for case, who, status in (
            (mine, ids["amani"], "triaged"),
            (theirs, ids["lerato"], "new"),
            (closed, ids["amani"], "closed"),
        ):
            stored = session.get(Case, case.id)
            assert stored is not None
            stored.assignee_id = who
            stored.status = status
            session.add(stored)
        session.commit()
    hotline.send("/queue")
    text = hotline.api.last().text
    lines = text.split("\n")
    assert lines[0] == tr("fr", ui.OP_QUEUE_TITLE)
    assert [line.split(" · ")[0] for line in lines[1:]] == [
        alerted.reference,
        urgent.reference,
        mine.reference,
    ]
    first = lines[1].split(" · ")
    assert first[1:3] == ["P1", "cd-kwilu-kikwit"] and first[4] == "new"
    assert first[3] == tr("fr", ui.OP_OVERDUE).format(time="5m")
    assert lines[3].split(" · ")[3] == tr("fr", ui.OP_ON_TRACK), "triaged: the target is met"
    for absent in (theirs, low, closed):
        assert absent.reference not in text
    assert NARRATIVE not in text and "U1" not in text and "ph_test" not in text


def test_durations() -> None:
    assert duration(15 * 60 + 59) == "15m"
    assert duration(2 * 3600 + 10 * 60) == "2h 10m"
    assert duration(3 * 86400 + 4 * 3600 + 5) == "3d 4h"
    assert duration(-5) == "0m"
