"""``bench.topology``: two apps and a worker come up behind the front, which skips a dead app."""

from __future__ import annotations

import psycopg
import pytest
from sqlmodel import Session, select

from bench.services import ADMIN_URL
from bench.topology import Topology, ussd_once
from bot.core.db import make_engine
from bot.models.outbox import WorkerHeartbeat
from tests.conftest import reachable_redis, service_missing


@pytest.fixture
def topology() -> Topology:
    reachable_redis()  # redis-server is installed where the shared one runs
    try:
        with psycopg.connect(ADMIN_URL, connect_timeout=2):
            pass
    except psycopg.Error as exc:
        service_missing("PostgreSQL", str(exc))
    made = Topology(apps=2, workers=1, telegram=False, seed=False)
    made.use_private_redis()
    return made


def test_two_apps_and_a_worker_answer_through_the_front(topology: Topology) -> None:
    with topology.running():
        assert ussd_once(topology).startswith("CON "), "the first screen, through the front"
        topology.app_procs[0].kill()
        for _ in range(4):  # round robin: every other connection would have gone to app1
            assert ussd_once(topology).startswith("CON "), "the front skips the dead app"
        engine = make_engine(topology.database_url)
        try:
            with Session(engine) as session:
                assert session.exec(select(WorkerHeartbeat)).first() is not None, "worker up"
        finally:
            engine.dispose()
    with psycopg.connect(ADMIN_URL) as admin:
        left = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (topology.database,)
        ).fetchone()
    assert left is None, "the scratch database is dropped"
