"""Team web fixtures: the app on a test database (SQLite and PostgreSQL), its clock, the team
of ``tests.api`` (amani and lerato operators — amani reads French, lerato Sesotho —, joseph
supervisor, ada admin; all with ``PASSWORD``), and a browser-like client that signs in.

``web.sign_in("ada")`` goes through the sign-in form as a person does; ``web.as_("joseph")``
starts a session directly (fast, for tests about another screen). ``web.post(path, data)``
adds the session's CSRF token; ``web.csrf()`` gives one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from admin import csrf, session
from bot.auth import passwords, web_sessions
from bot.models import Operator
from tests.api import BY_ROLE, FAST_HASHER, PASSWORD, Clock, make_app, seed_team

CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id made cheap (tests sign in often)."""
    monkeypatch.setattr(passwords, "HASHER", FAST_HASHER)


@dataclass
class Web:
    """The app, a client that keeps cookies (as a browser does), the clock and the team."""

    app: FastAPI
    client: TestClient
    clock: Clock
    engine: Engine
    ids: dict[str, int]

    @property
    def cookie(self) -> str:
        """The session cookie's name (development: no ``__Host-`` prefix over http)."""
        return session.cookie_name(self.app.state.settings)

    def form_token(self, path: str = "/signin") -> str:
        """The CSRF token in the first form of the page at ``path``."""
        page = self.client.get(path)
        found = CSRF_FIELD.search(page.text)
        assert found is not None, f"no CSRF field on {path} ({page.status_code})"
        return found.group(1)

    def sign_in(self, username: str, password: str = PASSWORD, **fields: str) -> httpx2.Response:
        """Sign in through the form (not following the redirect)."""
        token = self.form_token("/signin" + (f"?next={fields['next']}" if "next" in fields else ""))
        data = {"username": username, "password": password, "csrf": token, **fields}
        return self.client.post("/signin", data=data, follow_redirects=False)

    def as_(self, username: str) -> str:
        """Start a session for ``username`` directly and keep its cookie; its session id."""
        with Session(self.engine) as db:
            operator = db.exec(select(Operator).where(col(Operator.username) == username)).one()
            session_id = web_sessions.start(
                db, operator, now=self.clock.now, timeouts=session.timeouts(self.settings)
            )
            db.commit()
        self.set_cookie(session_id)
        return session_id

    def set_cookie(self, session_id: str) -> None:
        """Send ``session_id`` as the session cookie from now on (replacing any other)."""
        for cookie in list(self.client.cookies.jar):
            if cookie.name == self.cookie:
                self.client.cookies.jar.clear(cookie.domain, cookie.path, cookie.name)
        self.client.cookies.set(self.cookie, session_id)

    def session_id(self) -> str:
        """The session cookie the browser holds now ("" when none)."""
        values = [c.value for c in self.client.cookies.jar if c.name == self.cookie]
        return values[-1] if values and values[-1] else ""

    def as_role(self, role: str) -> str:
        """Signed in as the team's member with ``role``."""
        return self.as_(BY_ROLE[role])

    @property
    def settings(self) -> Any:
        return self.app.state.settings

    def csrf(self) -> str:
        """A CSRF token of the current session."""
        return csrf.token_for(self.settings, self.session_id())

    def post(self, path: str, data: dict[str, str] | None = None) -> httpx2.Response:
        """A form post with the session's CSRF token (redirects not followed)."""
        return self.client.post(
            path, data={"csrf": self.csrf(), **(data or {})}, follow_redirects=False
        )

    def sign_out(self) -> None:
        """Forget the browser's cookies."""
        self.client.cookies.clear()


@pytest.fixture
def web(database_url: str, tmp_path: Path) -> Iterator[Web]:
    """The team web on the test database, the team seeded, nobody signed in."""
    app, clock = make_app(database_url, tmp_path)
    live = {"web_live_seconds": 1, "web_live_check_seconds": 0.05}  # short event streams
    app.state.settings = app.state.settings.model_copy(update=live)
    with TestClient(app, headers={"Accept": "text/html"}) as client:
        ids = seed_team(app.state.engine)
        yield Web(app, client, clock, app.state.engine, ids)
