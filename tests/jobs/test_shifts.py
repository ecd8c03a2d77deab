"""The shift announcement loop: what it queues is handed to the outbox workers at once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine

from bot.core.clock import utcnow
from bot.jobs.shifts import announce_once
from tests.cases.helpers import CATALOGS, CIPHER, team
from tests.cases.test_intake import Recorder


async def test_one_pass_announces_a_shift_just_started_and_notifies(engine: Engine) -> None:
    team(engine, start=utcnow() - timedelta(minutes=5))
    recorder = Recorder()
    notice = timedelta(hours=1)
    queued = await announce_once(engine, CIPHER, CATALOGS.gettext, recorder, notice=notice)
    assert len(queued) == 3 and recorder.told == queued
    assert await announce_once(engine, CIPHER, CATALOGS.gettext, recorder, notice=notice) == []
