"""The web app: health as an operator's monitor sees it, and refusal to start when broken."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.app import create_app
from bot.auth.tokens import issue_token, token_key
from bot.content.files import flow_files, load_file
from bot.core.clock import utcnow
from bot.core.db import make_engine
from bot.core.settings import ROOT, ConfigError, Settings
from bot.deps import get_engine, get_settings, get_store
from bot.engine.loader import FlowLoadError
from bot.models import Operator
from bot.sessions import MemorySessionStore, SessionStore
from tests.conftest import make_app, make_settings, reachable_redis

MENU_FLOWS = {"main", "tip", "screening", "signs", "help", "follow"}
"""The main menu and the flows its options lead to."""
SHIPPED_FLOWS = sorted(load_file(path).name for path in flow_files([ROOT / "flows"]))

UNREACHABLE_DB = "postgresql+psycopg://postgres@127.0.0.1:1/nothing?connect_timeout=1"


pytestmark = pytest.mark.usefixtures("in_tmp_path")


class DownStore(MemorySessionStore):
    """A session store whose backend does not answer, as when Redis is unreachable."""

    async def ping(self) -> bool:
        """Never healthy."""
        return False


def test_healthz_ok_on_each_database(tmp_path: Path, database_url: str) -> None:
    """A monitor sees 200 with the flows loaded, in-process sessions and a reachable database
    (a database of this test's own: the shared one may hold other runs' schema and rows)."""
    with TestClient(
        make_app(make_settings(tmp_path, secrets=False, database_url=database_url))
    ) as test_client:
        response = test_client.get("/healthz")
    assert response.status_code == 200
    assert set(SHIPPED_FLOWS) >= MENU_FLOWS
    assert response.json() == {
        "status": "ok",
        "flows": SHIPPED_FLOWS,
        "sessions": "memory",
        "sessions_ok": True,
        "database_ok": True,
        "outbox": {
            "pending": 0,
            "sending": 0,
            "sent": 0,
            "delivered": 0,
            "failed": 0,
            "unknown": 0,
        },
        "delivery": {
            "ok": True,
            "problems": [],
            "outbox_due_seconds": None,
            "escalation_due_seconds": None,
            "max_lag_seconds": 120,
            "workers": [],
            "worker_stale_after_seconds": 60,
        },
    }


def test_healthz_with_redis_sessions(tmp_path: Path) -> None:
    """HOTLINE_REDIS_URL switches sessions to Redis, and health says so."""
    settings = make_settings(tmp_path, secrets=False, redis_url=reachable_redis())
    with TestClient(make_app(settings)) as test_client:
        response = test_client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["sessions"] == "redis"
    assert body["sessions_ok"] is True
    assert body["status"] == "ok"


def test_healthz_reads_redis_url_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Operators configure Redis with HOTLINE_REDIS_URL alone."""
    monkeypatch.setenv("HOTLINE_REDIS_URL", reachable_redis())
    monkeypatch.setenv("HOTLINE_DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    with TestClient(make_app(Settings())) as test_client:
        assert test_client.get("/healthz").json()["sessions"] == "redis"


def test_healthz_degraded_when_redis_is_down(tmp_path: Path) -> None:
    """A configured but unreachable Redis gives 503 so the load balancer stops sending traffic."""
    settings = make_settings(tmp_path, secrets=False, redis_url="redis://127.0.0.1:1/0")
    with TestClient(make_app(settings)) as test_client:
        response = test_client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["sessions_ok"] is False
    assert response.json()["status"] == "degraded"


def test_healthz_degraded_when_the_session_store_fails(app: FastAPI, client: TestClient) -> None:
    """The store is a dependency: swapping it for a failing one turns health to 503."""
    down: SessionStore = DownStore()
    app.dependency_overrides[get_store] = lambda: down
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["sessions_ok"] is False
    assert body["database_ok"] is True


def test_healthz_degraded_when_the_database_is_down(app: FastAPI, client: TestClient) -> None:
    """An unreachable database gives 503 with database_ok false, sessions still fine."""
    down = make_engine(UNREACHABLE_DB)

    def unreachable() -> Engine:
        return down

    app.dependency_overrides[get_engine] = unreachable
    try:
        response = client.get("/healthz")
    finally:
        down.dispose()
    assert response.status_code == 503
    assert response.json()["database_ok"] is False
    assert response.json()["sessions_ok"] is True


def test_overrides_are_undone_by_clearing_them(app: FastAPI, client: TestClient) -> None:
    """Dependencies come back to the real ones once overrides are cleared."""
    down: SessionStore = DownStore()
    app.dependency_overrides[get_store] = lambda: down
    assert client.get("/healthz").status_code == 503
    app.dependency_overrides.clear()
    assert client.get("/healthz").status_code == 200


def test_settings_dependency_is_swappable(app: FastAPI, client: TestClient, tmp_path: Path) -> None:
    """Handlers read settings through the dependency, not a global."""
    other = make_settings(tmp_path, secrets=False, redis_url="redis://127.0.0.1:1/0")
    app.dependency_overrides[get_settings] = lambda: other
    assert client.get("/healthz").json()["sessions"] == "redis"


def test_no_api_docs_are_published(client: TestClient) -> None:
    """The hotline does not advertise its endpoints."""
    assert client.get("/docs").status_code == 404
    assert client.get("/redoc").status_code == 404


def test_development_start_keeps_generated_secrets_out_of_the_repo(tmp_path: Path) -> None:
    """With no secrets set, the app generates them in the working directory, not the code tree."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'hotline.db'}")
    app = make_app(settings)
    assert (tmp_path / ".hotline-secrets.json").is_file()
    assert app.state.settings.pseudonym_key is not None


def _broken_flows(tmp_path: Path) -> Path:
    flows = tmp_path / "flows"
    shutil.copytree(ROOT / "flows", flows)
    main = flows / "main.yaml"
    main.write_text(
        main.read_text(encoding="utf-8").replace('next: "help:"}', "next: nowhere}"),
        encoding="utf-8",
    )
    return flows


def test_broken_flow_refuses_to_build_the_app(tmp_path: Path) -> None:
    """A flow that leads nowhere stops start-up with the file, the state and the reason."""
    flows = _broken_flows(tmp_path)
    with pytest.raises(FlowLoadError) as caught:
        create_app(make_settings(tmp_path, secrets=False, flows_dir=flows))
    message = str(caught.value)
    assert "main.yaml" in message
    assert "state 'menu'" in message
    assert "unknown state 'nowhere'" in message


def test_production_without_secrets_refuses_to_build_the_app(tmp_path: Path) -> None:
    """Production never starts on generated secrets."""
    with pytest.raises(ConfigError) as caught:
        create_app(make_settings(tmp_path, secrets=False, env="production"))
    assert "HOTLINE_PSEUDONYM_KEY" in str(caught.value)
    assert not (tmp_path / "secrets.json").exists()


def production_settings(tmp_path: Path) -> Settings:
    """Production with every secret it needs (fake ones) on a SQLite copy."""
    return make_settings(
        tmp_path, env="production", at_api_key="test-at-key", at_username="hotline-test"
    )


def staff_token(app: FastAPI) -> dict[str, str]:
    """A bearer header for an operator added to the app's database."""
    with Session(app.state.engine) as session:
        operator = Operator(username="amani", display_name="Amani", role="operator")
        session.add(operator)
        session.commit()
        session.refresh(operator)
    token = issue_token(
        token_key(app.state.settings), operator, expires_at=utcnow() + timedelta(hours=1)
    )
    return {"Authorization": f"Bearer {token}"}


def test_production_publishes_no_schema_and_says_only_up_or_down(tmp_path: Path) -> None:
    """No /openapi.json; /healthz answers up or down, the details need a staff token."""
    app = make_app(production_settings(tmp_path))
    with TestClient(app) as test_client:
        assert test_client.get("/openapi.json").status_code == 404
        assert test_client.get("/docs").status_code == 404
        health = test_client.get("/healthz")
        assert (health.status_code, health.json()) == (200, {"status": "ok"})
        assert health.headers["cache-control"] == "no-store"
        assert test_client.get("/healthz/details").status_code == 401
        details = test_client.get("/healthz/details", headers=staff_token(app))
        assert details.status_code == 200 and "outbox" in details.json()


def test_production_health_says_down_with_its_503(tmp_path: Path) -> None:
    settings = production_settings(tmp_path).model_copy(update={"redis_url": None})
    app = make_app(settings)
    down: SessionStore = DownStore()
    app.dependency_overrides[get_store] = lambda: down
    with TestClient(app) as test_client:
        health = test_client.get("/healthz")
    assert (health.status_code, health.json()) == (503, {"status": "degraded"})


def test_production_simulator_is_for_signed_in_staff_only(tmp_path: Path) -> None:
    """A visitor cannot walk the simulator (nor write sessions, nor be told a report is saved)."""
    app = make_app(production_settings(tmp_path))
    walk = {"session": "visitor-12345", "channel": "ussd", "lang": "en", "input": None}
    with TestClient(app) as test_client:
        assert test_client.get("/simulator").status_code == 401
        refused = test_client.post("/simulator/api", json=walk)
        assert refused.status_code == 401
        staff = staff_token(app)
        assert test_client.get("/simulator", headers=staff).status_code == 200
        walked = test_client.post("/simulator/api", json=walk, headers=staff)
        assert walked.status_code == 200 and walked.json()["end"] is False


def test_production_answers_carry_the_security_headers(tmp_path: Path) -> None:
    app = make_app(production_settings(tmp_path))
    with TestClient(app) as test_client:
        staff = staff_token(app)
        for response in (
            test_client.get("/healthz"),
            test_client.get("/api/queue", headers=staff),
            test_client.get("/no-such-page"),
        ):
            headers = response.headers
            assert "default-src 'self'" in headers["content-security-policy"]
            assert "frame-ancestors 'none'" in headers["content-security-policy"]
            assert headers["x-content-type-options"] == "nosniff"
            assert headers["referrer-policy"] == "no-referrer"
            assert headers["strict-transport-security"].startswith("max-age=")
        assert test_client.get("/api/queue", headers=staff).headers["cache-control"] == "no-store"


def test_development_keeps_the_schema_and_the_open_simulator(client: TestClient) -> None:
    """The embedded default is a developer's: schema and simulator open, health detailed."""
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/simulator").status_code == 200
    assert "flows" in client.get("/healthz").json()
