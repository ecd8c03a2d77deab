"""USSD on its lane: the same answers, headers, access line and refusals as through the app."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from bot.http import install
from bot.http.lanes import HotlineApp, Lanes
from tests.conftest import CALLBACK_TOKEN, TEST_PHONES, make_app, make_settings

USSD = f"/ussd/africastalking/{CALLBACK_TOKEN}"
FORM = {"sessionId": "ATUid_lane", "serviceCode": "*384#", "phoneNumber": TEST_PHONES[0]}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(make_app(make_settings(tmp_path))) as started:
        yield started


def test_a_ussd_request_is_answered_on_the_lane_with_every_header(client: TestClient) -> None:
    stack = client.app.middleware_stack  # type: ignore[attr-defined]
    assert isinstance(stack, Lanes) and stack.prefixes == ("/ussd/",)
    response = client.post(USSD, data={**FORM, "text": ""}, headers={"x-request-id": "lane-1234"})
    assert response.status_code == 200
    assert response.text.startswith("CON ")
    assert response.headers["x-request-id"] == "lane-1234"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    ("lane", "elsewhere", "method"),
    [
        ("/ussd/nowhere", "/nowhere", "POST"),  # 404
        (USSD, "/livez", "PUT"),  # 405: the path is known, the method is not
    ],
)
def test_a_refusal_on_the_lane_reads_like_the_apps(
    client: TestClient, lane: str, elsewhere: str, method: str
) -> None:
    on_lane = client.request(method, lane, data={"text": ""})
    off_lane = client.request(method, elsewhere, data={"text": ""})
    assert on_lane.status_code == off_lane.status_code
    assert on_lane.status_code in (404, 405)
    assert on_lane.json() == off_lane.json()
    assert on_lane.headers["content-type"] == off_lane.headers["content-type"]
    assert on_lane.headers["x-content-type-options"] == "nosniff"


def test_a_wrong_token_and_a_malformed_form_are_refused_as_before(client: TestClient) -> None:
    wrong = client.post("/ussd/africastalking/not-the-token", data={**FORM, "text": ""})
    assert wrong.status_code in (403, 404)
    missing = client.post(USSD, data={"sessionId": "ATUid_lane"})
    assert missing.status_code == 400
    assert "ATUid_lane" not in missing.text  # nothing sent is echoed


def test_an_oversize_body_is_refused_on_the_lane(client: TestClient) -> None:
    response = client.post(USSD, content=b"text=" + b"1" * 2_000_000)
    assert response.status_code == 413


def test_a_failing_handler_on_the_lane_answers_500_without_its_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = HotlineApp()
    install(app, production=False)
    router = APIRouter()

    async def fails(request: Any) -> PlainTextResponse:
        raise RuntimeError("-".join(("secret", "value")))  # not in the traceback's source

    router.add_route("/ussd/fails", fails, methods=["POST"])
    app.include_lane(router, "/ussd/")
    caplog.set_level(logging.INFO)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/ussd/fails")
    assert response.status_code == 500
    assert "secret-value" not in response.text
    assert "secret-value" not in caplog.text
    [line] = [r for r in caplog.records if r.name == "bot.http.access"]
    assert line.getMessage() == "POST /ussd/fails 500 " + line.getMessage().split(" 500 ")[1]


def test_a_lane_takes_only_routes_under_its_prefix() -> None:
    router = APIRouter()
    router.add_route("/sms/in", lambda request: PlainTextResponse(""), methods=["POST"])
    with pytest.raises(ValueError, match="under it"):
        HotlineApp().include_lane(router, "/ussd/")


def test_no_route_of_the_app_can_hide_under_a_lane() -> None:
    app = HotlineApp()
    lane, other = APIRouter(), APIRouter()
    lane.add_route("/ussd/in", lambda request: PlainTextResponse(""), methods=["POST"])
    other.add_route("/ussd/other", lambda request: PlainTextResponse(""), methods=["POST"])
    app.include_lane(lane, "/ussd/")
    app.include_router(other)  # would be unreachable: the lane takes /ussd/
    with pytest.raises(RuntimeError, match="/ussd/other"):
        app.build_middleware_stack()


async def test_the_lane_is_chosen_by_the_path_under_the_root_path() -> None:
    seen: list[str] = []

    def app(name: str) -> Any:
        async def answer(scope: Scope, receive: Receive, send: Send) -> None:
            seen.append(name)

        return answer

    lanes = Lanes(app("whole"), app("lane"), ("/ussd/",))

    async def nothing() -> dict[str, Any]:
        return {}

    async def ignore(message: Any) -> None:
        return None

    for scope in (
        {"type": "http", "path": "/ussd/x", "root_path": ""},
        {"type": "http", "path": "/hotline/ussd/x", "root_path": "/hotline"},
        {"type": "http", "path": "/simulator", "root_path": ""},
        {"type": "lifespan"},
    ):
        await lanes(scope, nothing, ignore)
    assert seen == ["lane", "lane", "whole", "whole"]


def test_an_app_without_a_lane_has_the_usual_stack() -> None:
    assert not isinstance(HotlineApp().build_middleware_stack(), Lanes)
