"""Shifts announced: each person told once when the shift starts, naming their role; a shift
about to start without an active primary told to its supervisor once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.i18n import ui
from bot.models import Operator, OutboundMessage, Shift
from bot.outbox import queue
from bot.team.announce import announce, when
from tests.cases.helpers import CATALOGS, CIPHER, T0, team


def sent(engine: Engine) -> list[tuple[str, str, str, str]]:
    """(key, channel, contact, text) of every message queued, oldest first."""
    with Session(engine) as session:
        rows = session.exec(select(OutboundMessage).order_by(col(OutboundMessage.id))).all()
        return [(r.key, r.channel, r.contact, CIPHER.decrypt(r.body, queue.BODY)) for r in rows]


def test_each_person_is_told_once_when_the_shift_starts(engine: Engine) -> None:
    ids = team(engine)
    assert announce(engine, CIPHER, CATALOGS.gettext, now=T0 - timedelta(minutes=1)) == []
    assert len(announce(engine, CIPHER, CATALOGS.gettext, now=T0 + timedelta(minutes=1))) == 3
    assert announce(engine, CIPHER, CATALOGS.gettext, now=T0 + timedelta(minutes=2)) == []
    ends = when(T0 + timedelta(hours=12))
    assert ends == "22/11 20:00 UTC"
    assert sent(engine) == [
        (
            f"shift:1:{ids['amani']}",
            "sms",
            f"op_{ids['amani']}",
            CATALOGS.gettext("fr", ui.SHIFT_PRIMARY).format(ends=ends),
        ),
        (
            f"shift:1:{ids['lerato']}",
            "sms",
            f"op_{ids['lerato']}",
            CATALOGS.gettext("st", ui.SHIFT_BACKUP).format(ends=ends),
        ),
        (
            f"shift:1:{ids['joseph']}",
            "sms",
            f"op_{ids['joseph']}",
            CATALOGS.gettext("en", ui.SHIFT_SUPERVISOR).format(ends=ends),
        ),
    ]


def test_a_linked_telegram_gets_it_there_and_a_late_start_is_not_announced(
    engine: Engine,
) -> None:
    ids = team(engine)
    with Session(engine) as session:
        joseph = session.get(Operator, ids["joseph"])
        assert joseph is not None
        joseph.telegram_chat = CIPHER.encrypt("4242", "operator.telegram_chat")
        session.add(joseph)
        session.commit()
    assert announce(engine, CIPHER, CATALOGS.gettext, now=T0 + timedelta(hours=2)) == []
    announce(engine, CIPHER, CATALOGS.gettext, now=T0 + timedelta(minutes=30))
    channels = {contact: channel for _, channel, contact, _ in sent(engine)}
    assert channels[f"op_{ids['joseph']}"] == "telegram"
    assert channels[f"op_{ids['amani']}"] == "sms"


def test_a_shift_without_an_active_primary_alerts_its_supervisor_once(engine: Engine) -> None:
    ids = team(engine)
    later = T0 + timedelta(hours=12)
    with Session(engine) as session:
        session.add(
            Shift(
                starts_at=later,
                ends_at=later + timedelta(hours=12),
                primary_id=ids["lerato"],
                supervisor_id=ids["joseph"],
            )
        )
        lerato = session.get(Operator, ids["lerato"])
        assert lerato is not None
        lerato.active = False
        session.add(lerato)
        session.commit()
    early = later - timedelta(minutes=61)
    assert announce(engine, CIPHER, CATALOGS.gettext, now=early) == []
    for minutes in (59, 30, 1):
        announce(engine, CIPHER, CATALOGS.gettext, now=later - timedelta(minutes=minutes))
    gaps = [row for row in sent(engine) if row[0].startswith("shift-gap:")]
    assert gaps == [
        (
            "shift-gap:2",
            "sms",
            f"op_{ids['joseph']}",
            CATALOGS.gettext("en", ui.SHIFT_NO_PRIMARY).format(starts="22/11 20:00 UTC"),
        )
    ]


def test_a_gap_in_the_rota_alerts_the_supervisor_on_call_once(engine: Engine) -> None:
    ids = team(engine)  # T0 to T0 + 12 h, then nothing
    ends = T0 + timedelta(hours=12)
    for minutes in (61, 59, 30, 1):
        announce(engine, CIPHER, CATALOGS.gettext, now=ends - timedelta(minutes=minutes))
    gaps = [row for row in sent(engine) if row[0].startswith("rota-gap:")]
    assert gaps == [
        (
            f"rota-gap:{int(ends.timestamp())}",
            "sms",
            f"op_{ids['joseph']}",
            CATALOGS.gettext("en", ui.SHIFT_NO_PRIMARY).format(starts="22/11 20:00 UTC"),
        )
    ]
