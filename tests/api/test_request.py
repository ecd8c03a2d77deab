"""Path parameters read one way everywhere: ids a database can hold, references of a sane size.

2**40 used to reach PostgreSQL, which refuses it with an error (500) where SQLite finds nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from bot.api.request import MAX_ID
from tests.api import headers, make_app, new_case, seed_team


@pytest.fixture
def setup(database_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, Engine]]:
    app, _ = make_app(database_url, tmp_path)
    with TestClient(app) as client:
        engine: Engine = app.state.engine
        seed_team(engine)
        client.headers.update(headers(app, engine, "ada"))
        yield client, engine


@pytest.mark.parametrize("bad", [2**40, 2**31, 0, -1, 10**30])
def test_ids_outside_the_database_range_are_refused_not_500(
    setup: tuple[TestClient, Engine], bad: int
) -> None:
    client, engine = setup
    reference = new_case(engine)
    changed = client.post(f"/api/referrals/{bad}/status", json={"to": "accepted"})
    assert changed.status_code == 422, changed.text
    referred = client.post(f"/api/cases/{reference}/referrals", json={"service_id": bad})
    assert referred.status_code == 422, referred.text


def test_the_largest_id_is_simply_not_found(setup: tuple[TestClient, Engine]) -> None:
    client, engine = setup
    reference = new_case(engine)
    assert (
        client.post(f"/api/referrals/{MAX_ID}/status", json={"to": "accepted"}).status_code == 404
    )
    missing = client.post(f"/api/cases/{reference}/referrals", json={"service_id": MAX_ID})
    assert missing.status_code == 422 and missing.json()["detail"] == f"no service {MAX_ID}"


def test_long_references_and_usernames_are_refused(setup: tuple[TestClient, Engine]) -> None:
    client, _ = setup
    assert client.post("/api/cases/" + "K" * 5000 + "/ack").status_code == 422
    assert client.get("/api/cases/NOPE-00", params={"reason": "checking"}).status_code == 404
    assert client.patch("/api/operators/" + "a" * 65, json={"active": False}).status_code == 422
