"""Signing in over the API: tokens that expire and die with the account, a rate limit (429).

The functions underneath (passwords, tokens, the throttle) are tested in ``tests/auth``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.api.auth import Require
from bot.app import create_app
from bot.auth import passwords
from bot.auth.throttle import MAX_ADDRESS_FAILURES, MAX_FAILURES
from bot.auth.tokens import issue_token, read_token
from bot.cli import main
from bot.models import AuditEntry, Operator
from tests.api import (
    FAST_HASHER,
    PASSWORD,
    PSEUDONYM_KEY,
    Clock,
    make_app,
    make_settings,
    seed_team,
)
from tests.cases.helpers import CIPHER, T0
from tests.conftest import TEST_PHONES, assert_no_phone_numbers, database_text, shipped


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "HASHER", FAST_HASHER)


@pytest.fixture
def setup(database_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, Clock, Engine]]:
    app, clock = make_app(database_url, tmp_path)
    with TestClient(app) as client:
        engine: Engine = app.state.engine
        seed_team(engine)
        yield client, clock, engine


def login(
    client: TestClient, username: str, password: str = PASSWORD
) -> tuple[int, dict[str, str]]:
    response = client.post("/api/login", json={"username": username, "password": password})
    return response.status_code, response.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_login_ok_gives_a_token_that_opens_the_queue(
    setup: tuple[TestClient, Clock, Engine],
) -> None:
    client, _, _ = setup
    status, body = login(client, "Amani ")  # usernames are compared lowercased and trimmed
    assert status == 200 and body["role"] == "operator"
    assert body["expires_at"].startswith("2026-11-22T20:00:00")  # 12 hours after T0
    assert client.get("/api/queue", headers=bearer(body["token"])).status_code == 200


@pytest.mark.parametrize(
    ("username", "password"), [("amani", "wrong password, long"), ("nobody", PASSWORD)]
)
def test_wrong_password_or_unknown_user_is_401_alike(
    setup: tuple[TestClient, Clock, Engine], username: str, password: str
) -> None:
    client, _, _ = setup
    status, body = login(client, username, password)
    assert (status, body["detail"]) == (401, "wrong username or password")


def test_inactive_operator_cannot_sign_in(setup: tuple[TestClient, Clock, Engine]) -> None:
    client, _, engine = setup
    with Session(engine) as session:
        amani = session.exec(select(Operator).where(col(Operator.username) == "amani")).one()
        amani.active = False
        session.add(amani)
        session.commit()
    assert login(client, "amani")[0] == 401


def test_sixth_attempt_is_refused_even_with_the_right_password(
    setup: tuple[TestClient, Clock, Engine], caplog: pytest.LogCaptureFixture
) -> None:
    client, clock, _ = setup
    caplog.set_level(logging.INFO)
    for attempt in range(MAX_FAILURES):
        assert login(client, "amani", f"guess number {attempt} ...")[0] == 401
    response = client.post("/api/login", json={"username": "amani", "password": PASSWORD})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) == 15 * 60
    assert login(client, "lerato")[0] == 200, "the limit is per username"
    assert "guess number" not in caplog.text
    assert PASSWORD not in caplog.text
    assert "login failed for amani (5 in 15 min)" in caplog.text
    clock.advance(minutes=15, seconds=1)
    assert login(client, "amani")[0] == 200, "failures leave the window after 15 minutes"


def test_success_clears_the_failures(setup: tuple[TestClient, Clock, Engine]) -> None:
    client, _, _ = setup
    for _ in range(MAX_FAILURES - 1):
        assert login(client, "amani", "not my password at all")[0] == 401
    assert login(client, "amani")[0] == 200
    for _ in range(MAX_FAILURES - 1):
        assert login(client, "amani", "not my password at all")[0] == 401
    assert login(client, "amani")[0] == 200


def test_unknown_usernames_are_not_logged(
    setup: tuple[TestClient, Clock, Engine], caplog: pytest.LogCaptureFixture
) -> None:
    client, _, _ = setup
    caplog.set_level(logging.INFO)
    assert login(client, "someone-typed-this", PASSWORD)[0] == 401
    assert "someone-typed-this" not in caplog.text
    assert "an unknown username" in caplog.text


def test_expired_token_is_401(setup: tuple[TestClient, Clock, Engine]) -> None:
    client, clock, _ = setup
    token = login(client, "amani")[1]["token"]
    clock.advance(hours=11, minutes=59)
    assert client.get("/api/queue", headers=bearer(token)).status_code == 200
    clock.advance(minutes=1)
    response = client.get("/api/queue", headers=bearer(token))
    assert response.status_code == 401 and "expired" in response.json()["detail"]
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_tampered_tokens_are_401(setup: tuple[TestClient, Clock, Engine]) -> None:
    client, _, engine = setup
    token = login(client, "amani")[1]["token"]
    version, operator_id, expiry, fingerprint, signature = token.split(".")
    with Session(engine) as session:
        ada = session.exec(select(Operator).where(col(Operator.username) == "ada")).one()
    forged = [
        f"{version}.{ada.id}.{expiry}.{fingerprint}.{signature}",  # someone else
        f"{version}.{operator_id}.{int(expiry) + 86400}.{fingerprint}.{signature}",  # longer
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # signature
        "v1.1.2",
        "",
        "garbage",
    ]
    for bad in forged:
        assert client.get("/api/queue", headers=bearer(bad)).status_code == 401, bad
    assert client.get("/api/queue", headers={"Authorization": token}).status_code == 401
    assert client.get("/api/queue").status_code == 401


def test_token_signed_with_another_key_is_refused(
    setup: tuple[TestClient, Clock, Engine],
) -> None:
    client, _, engine = setup
    with Session(engine) as session:
        amani = session.exec(select(Operator).where(col(Operator.username) == "amani")).one()
    token = issue_token(b"k" * 32, amani, expires_at=T0.replace(year=2027))
    assert client.get("/api/queue", headers=bearer(token)).status_code == 401
    assert read_token(b"k" * 32, token) is not None


def test_deactivation_revokes_at_once(setup: tuple[TestClient, Clock, Engine]) -> None:
    client, _, _ = setup
    token = login(client, "amani")[1]["token"]
    admin = login(client, "ada")[1]["token"]
    assert client.get("/api/queue", headers=bearer(token)).status_code == 200
    changed = client.patch("/api/operators/amani", json={"active": False}, headers=bearer(admin))
    assert changed.status_code == 200 and changed.json()["active"] is False
    response = client.get("/api/queue", headers=bearer(token))
    assert response.status_code == 401 and response.json()["detail"] == "account not active"
    back = client.patch("/api/operators/amani", json={"active": True}, headers=bearer(admin))
    assert back.status_code == 200 and back.json()["active"] is True
    revived = client.get("/api/queue", headers=bearer(token))
    assert revived.status_code == 401, "reactivating revives no token issued before"
    assert client.get("/api/queue", headers=bearer(login(client, "amani")[1]["token"])).is_success


def test_a_new_password_revokes_old_tokens(setup: tuple[TestClient, Clock, Engine]) -> None:
    client, _, _ = setup
    token = login(client, "amani")[1]["token"]
    admin = login(client, "ada")[1]["token"]
    new = "another long passphrase"
    assert (
        client.patch(
            "/api/operators/amani", json={"password": new}, headers=bearer(admin)
        ).status_code
        == 200
    )
    assert client.get("/api/queue", headers=bearer(token)).status_code == 401
    assert login(client, "amani")[0] == 401
    assert login(client, "amani", new)[0] == 200


def test_outdated_hashes_are_upgraded_at_sign_in(setup: tuple[TestClient, Clock, Engine]) -> None:
    client, _, engine = setup
    weak = PasswordHasher(time_cost=1, memory_cost=512, parallelism=1).hash(PASSWORD)
    with Session(engine) as session:
        amani = session.exec(select(Operator).where(col(Operator.username) == "amani")).one()
        amani.password_hash = weak
        session.add(amani)
        session.commit()
    assert login(client, "amani")[0] == 200
    with Session(engine) as session:
        amani = session.exec(select(Operator).where(col(Operator.username) == "amani")).one()
        assert amani.password_hash != weak and amani.password_hash is not None
        assert amani.password_hash.startswith("$argon2id$v=19$m=1024,")


def test_require_rejects_unknown_roles() -> None:
    with pytest.raises(ValueError, match="roles must be"):
        Require(("root",))
    with pytest.raises(ValueError, match="roles must be"):
        Require(())


def test_cli_adds_a_user_reading_the_password_from_stdin(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(database_url, tmp_path)
    monkeypatch.setenv("HOTLINE_DATABASE_URL", database_url)
    monkeypatch.setenv("HOTLINE_PSEUDONYM_KEY", PSEUDONYM_KEY)
    monkeypatch.setenv("HOTLINE_ENCRYPTION_KEYS", ",".join(CIPHER.keys))
    monkeypatch.setenv("HOTLINE_SECRETS_FILE", str(tmp_path / "cli-secrets.json"))
    secret = "typed only on stdin, never in argv"
    args = ["users", "add", "Thabo", "--role", "supervisor", "--name", "Thabo M", "--lang", "st"]
    added = CliRunner().invoke(
        main, [*args, "--phone-stdin"], input=f"{secret}\n{TEST_PHONES[2]}\n"
    )
    assert added.exit_code == 0, added.output
    assert "added thabo as supervisor" in added.output
    assert secret not in added.output and TEST_PHONES[2].lstrip("+") not in added.output
    again = CliRunner().invoke(main, args, input=f"{secret}\n")
    assert again.exit_code != 0 and "taken" in again.output
    other = [*args[:2], "other", *args[3:]]
    weak = CliRunner().invoke(main, other, input="short\n")
    assert weak.exit_code != 0 and "at least 12" in weak.output
    missing = CliRunner().invoke(
        main, [*args[:2], "other", *args[3:], "--phone-stdin"], input=f"{secret}\n"
    )
    assert missing.exit_code != 0 and "no number" in missing.output
    app = create_app(settings, content=shipped())
    with TestClient(app) as client:
        engine: Engine = app.state.engine
        assert_no_phone_numbers(database_text(engine))
        with Session(engine) as session:
            thabo = session.exec(select(Operator).where(col(Operator.username) == "thabo")).one()
            assert (thabo.role, thabo.lang, thabo.display_name) == ("supervisor", "st", "Thabo M")
            assert CIPHER.decrypt(thabo.phone or "", "operator.phone") == TEST_PHONES[2]
        status, body = login(client, "thabo", secret)
        assert status == 200 and body["role"] == "supervisor"


def from_address(client: TestClient, address: str) -> TestClient:
    """Another client of the same running app, connecting from ``address``."""
    return TestClient(client.app, client=(address, 40000))


def test_one_address_spraying_usernames_gets_429(
    setup: tuple[TestClient, Clock, Engine], caplog: pytest.LogCaptureFixture
) -> None:
    client, _, _ = setup
    attacker = from_address(client, "198.51.100.66")
    answers = [
        attacker.post("/api/login", json={"username": f"user{n}", "password": "Password1!"})
        for n in range(115)
    ]
    codes = [answer.status_code for answer in answers]
    assert codes[:MAX_ADDRESS_FAILURES] == [401] * MAX_ADDRESS_FAILURES
    assert set(codes[MAX_ADDRESS_FAILURES:]) == {429}
    assert int(answers[-1].headers["Retry-After"]) > 0
    assert "198.51.100.66" not in caplog.text and "user7" not in caplog.text
    assert login(client, "amani")[0] == 200, "other addresses are not refused"


def test_the_real_user_signs_in_from_elsewhere_after_an_attackers_failures(
    setup: tuple[TestClient, Clock, Engine],
) -> None:
    client, _, _ = setup
    attacker = from_address(client, "198.51.100.66")
    for n in range(MAX_FAILURES):
        guess = {"username": "amani", "password": f"guess number {n} ..."}
        assert attacker.post("/api/login", json=guess).status_code == 401
    right = {"username": "amani", "password": PASSWORD}
    assert attacker.post("/api/login", json=right).status_code == 429
    office = from_address(client, "203.0.113.9")
    signed_in = office.post("/api/login", json=right)  # slowed a moment, not locked out
    assert signed_in.status_code == 200 and signed_in.json()["role"] == "operator"


def test_logout_ends_the_token(setup: tuple[TestClient, Clock, Engine]) -> None:
    client, _, _ = setup
    token = login(client, "amani")[1]["token"]
    other = login(client, "amani")[1]["token"]
    out = client.post("/api/auth/logout", headers=bearer(token))
    assert out.status_code == 200 and out.json() == {"signed_out": True}
    for ended in (token, other):
        refused = client.get("/api/queue", headers=bearer(ended))
        assert refused.status_code == 401
        assert refused.json()["detail"] == "signed out or password changed; sign in again"
    assert client.post("/api/auth/logout", headers=bearer(token)).status_code == 401
    fresh = login(client, "amani")[1]["token"]
    assert client.get("/api/queue", headers=bearer(fresh)).status_code == 200


def test_changing_my_own_password(
    setup: tuple[TestClient, Clock, Engine], caplog: pytest.LogCaptureFixture
) -> None:
    client, _, engine = setup
    token = login(client, "amani")[1]["token"]
    new = "a brand new passphrase"

    def change(current: str, new: str) -> tuple[int, dict[str, str]]:
        answer = client.post(
            "/api/me/password", json={"current": current, "new": new}, headers=bearer(token)
        )
        return answer.status_code, answer.json()

    assert change("not my password at all", new)[0] == 401
    status, body = change(PASSWORD, "short")
    assert status == 422 and "at least 12" in body["detail"]
    status, body = change(PASSWORD, new)
    assert status == 200 and body["role"] == "operator"
    assert client.get("/api/queue", headers=bearer(body["token"])).status_code == 200
    assert client.get("/api/queue", headers=bearer(token)).status_code == 401
    assert login(client, "amani")[0] == 401
    status, body = login(client, "amani", new)
    assert status == 200
    assert client.get("/api/queue", headers=bearer(body["token"])).status_code == 200
    assert new not in caplog.text and PASSWORD not in caplog.text
    assert new not in database_text(engine)
    with Session(engine) as session:
        entries = session.exec(select(AuditEntry).where(col(AuditEntry.actor) == "amani")).all()
        assert [entry.action for entry in entries] == ["change_password"]
