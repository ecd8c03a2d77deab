"""The purge job deletes ended team web sessions along with the retention purge."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.auth import web_sessions
from bot.core.clock import utcnow
from bot.jobs.purge import purge_job
from bot.models import Operator, WebSession


async def test_the_purge_job_deletes_ended_web_sessions(engine: Engine) -> None:
    timeouts = web_sessions.Timeouts(idle=timedelta(minutes=30), absolute=timedelta(hours=12))
    with Session(engine) as db:
        operator = Operator(username="amani", display_name="Amani", role="operator")
        db.add(operator)
        db.flush()
        web_sessions.start(db, operator, now=utcnow() - timedelta(hours=1), timeouts=timeouts)
        live = web_sessions.start(db, operator, now=utcnow(), timeouts=timeouts)
        db.commit()
    result = await purge_job({"engine": engine})
    assert result["web_sessions"] == 1
    with Session(engine) as db:
        [kept] = db.exec(select(WebSession)).all()
    assert kept.id_hash == web_sessions.hash_id(live)
