"""One access line per request under a request id: the route template, never the path's token."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.core.logconfig import JsonFormatter
from bot.http.access import channel_of, request_id
from tests.conftest import CALLBACK_TOKEN, TEST_PHONES, make_app, make_settings

USSD = f"/ussd/africastalking/{CALLBACK_TOKEN}"


@pytest.fixture
def client(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> Iterator[TestClient]:
    caplog.set_level(logging.WARNING, logger="httpx2")  # the test client's own URL lines
    caplog.set_level(logging.DEBUG)  # (set_level sets the capture's level too)
    with TestClient(make_app(make_settings(tmp_path))) as started:
        yield started


def access_lines(caplog: pytest.LogCaptureFixture, count: int = 1) -> list[dict[str, object]]:
    """The access lines captured, as the JSON lines production writes; waits for ``count`` of
    them (a line is written once the answer is sent, maybe after the client has it)."""
    formatter = JsonFormatter()
    deadline = time.monotonic() + 5
    while True:
        records = [record for record in caplog.records if record.name == "bot.http.access"]
        if len(records) >= count or time.monotonic() > deadline:
            return [json.loads(formatter.format(record)) for record in records]
        time.sleep(0.01)


def ussd_form(text: str = "") -> dict[str, str]:
    return {
        "sessionId": "ATUid_access",
        "serviceCode": "*384#",
        "phoneNumber": TEST_PHONES[0],
        "text": text,
    }


def test_one_line_per_request_names_the_route_template(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.clear()
    response = client.post(USSD, data=ussd_form())
    assert response.status_code == 200
    [line] = access_lines(caplog)
    assert line["route"] == "/ussd/africastalking/{token}"
    assert line["method"] == "POST"
    assert line["status"] == 200
    assert line["channel"] == "ussd"
    assert isinstance(line["duration_ms"], float)
    assert line["request_id"] == response.headers["x-request-id"]
    assert CALLBACK_TOKEN not in caplog.text
    assert TEST_PHONES[0].lstrip("+") not in caplog.text


def test_every_line_of_a_request_carries_its_id(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.clear()
    response = client.post(USSD, data={"sessionId": "x"})  # refused: fields missing
    assert response.status_code == 400
    rid = response.headers["x-request-id"]
    [access] = access_lines(caplog)
    assert access["request_id"] == rid
    [refused] = [r for r in caplog.records if r.name == "bot.channels.ussd.routes"]
    assert json.loads(JsonFormatter().format(refused))["request_id"] == rid


@pytest.mark.parametrize("given", ["3f2b9c1e-8a7d-4c21-9e0f-5b6a7c8d9e0f", "req_abc.DEF-123"])
def test_a_sane_request_id_is_kept(client: TestClient, given: str) -> None:
    response = client.get("/livez", headers={"X-Request-ID": given})
    assert response.headers["x-request-id"] == given


@pytest.mark.parametrize(
    "given",
    [
        "243000000001",  # a phone number
        "+243000000001",
        "id-24300000-01",  # eight digits in a row
        "short",
        "with space in it",
        "x" * 65,
        "<script>",
    ],
)
def test_an_id_that_is_not_sane_is_replaced(
    client: TestClient, caplog: pytest.LogCaptureFixture, given: str
) -> None:
    response = client.get("/livez", headers={"X-Request-ID": given})
    replaced = response.headers["x-request-id"]
    assert replaced != given
    assert len(replaced) == 32
    assert given not in caplog.text


def test_unmatched_paths_are_one_label() -> None:
    assert request_id(None) != request_id(None)
    assert channel_of("unmatched") == "other"
    assert channel_of("/api/cases/{ref}") == "api"
    assert channel_of("/simulator/api") == "web"
    assert channel_of("/readyz") == "ops"
    assert channel_of("/telegram/webhook") == "telegram"


def test_a_scanner_s_paths_do_not_add_series(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.clear()
    for path in ("/wp-admin", "/.env", f"/ussd/{TEST_PHONES[1]}", "/cases/K7QM-46/x"):
        assert client.get(path).status_code == 404
    assert {line["route"] for line in access_lines(caplog, 4)} == {"unmatched"}
    assert TEST_PHONES[1].lstrip("+") not in caplog.text


def test_the_lines_of_a_report_s_database_work_carry_the_request_id(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    session = "ATUid_access_case"
    for text in ("", "1", "1*4", "1*4*1", "1*4*1*1", "1*4*1*1*1"):
        response = client.post(USSD, data={**ussd_form(text), "sessionId": session})
        assert response.status_code == 200
    rid = response.headers["x-request-id"]
    [created] = [r for r in caplog.records if "created" in r.getMessage()]
    assert created.name == "bot.cases.intake"
    assert json.loads(JsonFormatter().format(created))["request_id"] == rid
