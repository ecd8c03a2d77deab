"""While password hashing is saturated, sign-ins are refused before their body is read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.auth.hashing import GATE
from tests.conftest import CALLBACK_TOKEN, make_app, make_settings


@pytest.fixture
def hotline(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(make_app(make_settings(tmp_path))) as client:
        yield client


def test_a_full_gate_sheds_sign_ins_and_nothing_else(
    hotline: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(GATE, "limit", 0)  # as if every place were taken
    for path in ("/api/login", "/api/me/password"):
        response = hotline.post(path, content=b"not even json")  # never read: no 422
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        assert response.headers["x-content-type-options"] == "nosniff"
    ussd = hotline.post(
        f"/ussd/africastalking/{CALLBACK_TOKEN}",
        data={"sessionId": "ATUid_shed", "serviceCode": "*384*12#", "text": ""}
        | {"phoneNumber": "+243000000001"},
    )
    assert ussd.status_code == 200 and ussd.text.startswith("CON ")
    monkeypatch.undo()
    assert hotline.post("/api/login", content=b"not even json").status_code == 422
