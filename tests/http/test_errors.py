"""The last resort: a handler that fails answers 500 and logs neither the message nor values."""

from __future__ import annotations

import logging

import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import text

from bot.core.db import make_engine
from bot.http import install


class Body(BaseModel):
    password: str


def failing_app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    app = FastAPI()
    install(app, production=False)
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('db') / 'x.db'}")

    @app.post("/fails/{item}")
    def fails(item: int, body: Body) -> None:
        with engine.connect() as connection:  # a database error quoting its parameters
            connection.execute(
                text("SELECT * FROM no_such_table WHERE x = :x"), {"x": body.password}
            )

    away = make_engine("sqlite:////nonexistent-folder/hotline/x.db")  # cannot be opened

    @app.post("/away")
    def database_away(body: Body) -> None:
        with away.connect() as connection:
            connection.execute(text("SELECT :x"), {"x": body.password})

    @app.post("/redis-away")
    async def redis_away(body: Body) -> None:
        raise redis.ConnectionError(f"Error 111 connecting; {body.password}")

    @app.post("/raises")
    async def raises(body: Body) -> None:
        raise RuntimeError(f"something about {body.password}")

    return app


def test_a_failing_handler_answers_500_without_the_value_anywhere(
    tmp_path_factory: pytest.TempPathFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with TestClient(failing_app(tmp_path_factory)) as client:
        for path in ("/fails/1", "/raises"):
            response = client.post(path, json={"password": "hunter2-very-secret"})
            assert response.status_code == 500
            assert response.json() == {"detail": "internal error"}
            assert response.headers["x-content-type-options"] == "nosniff"
    assert "hunter2" not in caplog.text
    assert "unhandled OperationalError in POST /fails/{item}" in caplog.text
    assert "unhandled RuntimeError in POST /raises" in caplog.text
    assert 'File "' in caplog.text  # the frames are there for whoever fixes it


def test_a_database_or_redis_out_of_reach_answers_503_with_retry_after(
    tmp_path_factory: pytest.TempPathFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with TestClient(failing_app(tmp_path_factory)) as client:
        for path in ("/away", "/redis-away"):
            response = client.post(path, json={"password": "hunter2-very-secret"})
            assert response.status_code == 503, path
            assert response.headers["retry-after"] == "5"
            assert response.json() == {"detail": "temporarily unavailable, try again"}
        bug = client.post("/fails/1", json={"password": "x"})  # no such table: a bug
        assert bug.status_code == 500
    assert "hunter2" not in caplog.text
    assert "unhandled OperationalError in POST /away; answered 503" in caplog.text
    assert "unhandled ConnectionError in POST /redis-away; answered 503" in caplog.text


ACCESS = "bot.http.access"


def test_an_outage_is_traced_once_then_counted(
    tmp_path_factory: pytest.TempPathFactory, caplog: pytest.LogCaptureFixture
) -> None:
    with TestClient(failing_app(tmp_path_factory)) as client:
        for _ in range(200):
            assert client.post("/fails/1", json={"password": "x"}).status_code == 500
    traced = [r for r in caplog.records if r.name == "bot.http.errors"]
    assert len(traced) == 1
    # Not the client's own lines, nor the access lines (one per request, whatever happens).
    ours = [r for r in caplog.records if not r.name.startswith("httpx") and r.name != ACCESS]
    assert sum(len(r.getMessage()) for r in ours) < 10_000


def test_validation_errors_list_at_most_twenty_problems(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with TestClient(failing_app(tmp_path_factory)) as client:
        response = client.post("/fails/not-a-number", json=[{"x": i} for i in range(5000)])
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], str)
    assert len(response.json()["errors"]) <= 20
    assert len(response.content) < 4000
