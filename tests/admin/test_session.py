"""The session cookie outside development: ``__Host-`` name, Secure; the simulator opens to a
signed-in member as it does to a bearer token."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from admin.session import cookie_name
from tests.admin.conftest import CSRF_FIELD
from tests.api import PASSWORD, seed_team
from tests.conftest import make_app, make_settings


def test_production_cookie_is_host_prefixed_and_secure_and_opens_the_simulator(
    tmp_path: Path,
) -> None:
    settings = make_settings(
        tmp_path, env="production", at_api_key="test-at-key", at_username="hotline-test"
    )
    assert cookie_name(settings) == "__Host-hotline"
    app = make_app(settings)
    with TestClient(app, base_url="https://testserver", headers={"Accept": "text/html"}) as client:
        seed_team(app.state.engine)
        assert (
            client.get("/simulator", follow_redirects=False)
            .headers["location"]
            .startswith("/signin?next=%2Fsimulator")
        )
        form = client.get("/signin")
        assert "Strict-Transport-Security" in form.headers
        found = CSRF_FIELD.search(form.text)
        assert found is not None
        response = client.post(
            "/signin",
            data={"username": "joseph", "password": PASSWORD, "csrf": found.group(1)},
            follow_redirects=False,
        )
        assert response.status_code == 303
        cookie = response.headers["set-cookie"]
        assert (
            cookie.startswith("__Host-hotline=") and "Secure" in cookie and "Domain" not in cookie
        )
        assert client.get("/simulator").status_code == 200
        assert 'href="/simulator"' in client.get("/queue").text
