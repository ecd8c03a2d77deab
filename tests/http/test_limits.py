"""Body limits and lone surrogates, attacked through the whole app as a client would."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.http.limits import (
    CALLBACK_LIMIT,
    DEFAULT_LIMIT,
    IMPORT_LIMIT,
    TELEGRAM_LIMIT,
    has_lone_surrogate,
    limit_for,
)
from tests.conftest import CALLBACK_TOKEN, make_app, make_settings

MB = 1024 * 1024


@pytest.fixture
def hotline(tmp_path: Path) -> Iterator[TestClient]:
    app: FastAPI = make_app(make_settings(tmp_path))
    with TestClient(app) as client:
        yield client


def test_each_route_has_its_limit() -> None:
    assert limit_for(f"/ussd/africastalking/{CALLBACK_TOKEN}") == CALLBACK_LIMIT
    assert limit_for(f"/sms/africastalking/{CALLBACK_TOKEN}/delivery") == CALLBACK_LIMIT
    assert limit_for("/telegram/webhook") == TELEGRAM_LIMIT
    assert limit_for("/api/services/import") == IMPORT_LIMIT > limit_for("/api/login")
    assert limit_for("/api/login") == DEFAULT_LIMIT
    assert CALLBACK_LIMIT < DEFAULT_LIMIT < TELEGRAM_LIMIT


def test_a_10_mb_login_is_refused_413_and_nothing_is_echoed(
    hotline: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    filler = "A" * (10 * MB)
    body = json.dumps({"username": filler, "password": "x"})
    response = hotline.post(
        "/api/login", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert len(response.content) < 200 and "AAAA" not in response.text
    assert "AAAA" not in caplog.text


def test_a_streamed_body_without_length_is_cut_at_the_limit(hotline: TestClient) -> None:
    sent: list[int] = []

    def chunks() -> Iterator[bytes]:
        for _ in range(64):  # 64 MiB offered, in 1 MiB pieces, no Content-Length
            sent.append(1)
            yield b"x" * MB

    response = hotline.post(
        f"/ussd/africastalking/{CALLBACK_TOKEN}",
        content=chunks(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    assert "xxxx" not in response.text


def test_a_large_callback_is_refused_but_a_normal_one_answers(hotline: TestClient) -> None:
    path = f"/ussd/africastalking/{CALLBACK_TOKEN}"
    form = {"sessionId": "ATUid_limit", "serviceCode": "*384*12#", "phoneNumber": "+243000000001"}
    big = hotline.post(path, data={**form, "text": "1" * (CALLBACK_LIMIT + 1)})
    assert big.status_code == 413
    ok = hotline.post(path, data={**form, "text": ""})
    assert ok.status_code == 200 and ok.text.startswith("CON ")


def test_a_validation_error_echoes_nothing(hotline: TestClient) -> None:
    secret = "my-password-" + "p" * 1000
    response = hotline.post("/api/login", json={"username": "", "password": secret})
    assert response.status_code == 422
    assert secret[:20] not in response.text
    [problem] = response.json()["errors"]
    assert response.json()["detail"] == "invalid request: body.username: " + problem["msg"]
    assert set(problem) == {"loc", "msg", "type"} and problem["loc"] == ["body", "username"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/login", '{"username": "amani", "password": "\\ud800 my secret pass"}'),
        ("/api/login", '{"username": "\\udc00 my secret pass", "password": "x"}'),
        ("/api/login", '{"username": "", "password": "\\ud800 my secret pass"}'),
        ("/simulator/api", '{"session": "abcdefgh12", "input": "\\ud800 my secret pass"}'),
        ("/api/cases/K7QM-46/notes", '{"body": "\\ud800 my secret pass"}'),
    ],
)
def test_a_lone_surrogate_gets_400_and_nothing_of_it_is_logged(
    hotline: TestClient, caplog: pytest.LogCaptureFixture, path: str, body: str
) -> None:
    caplog.set_level(logging.DEBUG)
    response = hotline.post(path, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "secret pass" not in response.text
    assert "secret pass" not in caplog.text and "ud800" not in caplog.text.lower()
    assert "Traceback" not in caplog.text


def test_a_lone_surrogate_without_a_content_type_is_refused_too(hotline: TestClient) -> None:
    body = b'{"username": "amani", "password": "\\ud800 my secret pass"}'
    assert hotline.post("/api/login", content=body).status_code == 400


def test_surrogate_pairs_and_escaped_backslashes_are_fine() -> None:
    assert not has_lone_surrogate(b'{"t": "\\ud83d\\ude00"}')  # an emoji, as a pair
    assert not has_lone_surrogate(b'{"t": "\\\\ud800"}')  # a backslash, then text
    assert not has_lone_surrogate(b"not json \\ud800")
    assert has_lone_surrogate(b'{"t": ["\\ud83d"]}')
    assert has_lone_surrogate(b'{"\\ude00": 1}')
