"""Signed bearer tokens: a derived key, tampering refused, and checks against the account."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.auth.tokens import (
    TokenRefused,
    check_token,
    derive_key,
    end_sessions,
    expiry_after,
    fingerprint,
    issue_token,
    read_token,
    token_key,
)
from bot.models import Operator
from tests.api import PASSWORD_HASH, make_settings
from tests.cases.helpers import T0

KEY = b"k" * 32


def test_the_signing_key_is_derived_not_the_pseudonym_key(tmp_path: Path) -> None:
    settings = make_settings("sqlite://", tmp_path)
    key = token_key(settings)
    assert settings.pseudonym_key is not None
    assert key != settings.pseudonym_key.get_secret_value().encode()
    assert len(key) == 32
    assert key != derive_key(settings, b"something else")


def test_no_pseudonym_key_no_token_key(tmp_path: Path) -> None:
    settings = make_settings("sqlite://", tmp_path).model_copy(update={"pseudonym_key": None})
    with pytest.raises(RuntimeError, match="HOTLINE_PSEUDONYM_KEY"):
        token_key(settings)


def operator(operator_id: int = 7, hashed: str | None = "hash-1") -> Operator:
    return Operator(
        id=operator_id,
        username="amani",
        display_name="Amani",
        role="operator",
        lang="fr",
        password_hash=hashed,
    )


def test_a_token_reads_back_its_claims() -> None:
    expires = datetime(2026, 11, 22, 20, 0, tzinfo=UTC)
    token = issue_token(KEY, operator(), expires_at=expires)
    version, operator_id, expiry, _, _ = token.split(".")
    assert (version, operator_id, expiry) == ("v1", "7", str(int(expires.timestamp())))
    claims = read_token(KEY, token)
    assert claims is not None
    assert (claims.operator_id, claims.expires_at) == (7, expires)


def test_tampered_or_foreign_tokens_read_as_nothing() -> None:
    token = issue_token(KEY, operator(), expires_at=T0)
    version, operator_id, expiry, fingerprint, signature = token.split(".")
    for bad in (
        f"{version}.8.{expiry}.{fingerprint}.{signature}",
        f"{version}.{operator_id}.{int(expiry) + 86400}.{fingerprint}.{signature}",
        f"v2.{operator_id}.{expiry}.{fingerprint}.{signature}",
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        "v1.1.2",
        "",
        "garbage",
    ):
        assert read_token(KEY, bad) is None, bad
    assert read_token(b"o" * 32, token) is None


def test_the_fingerprint_follows_the_password() -> None:
    before = issue_token(KEY, operator(hashed="hash-1"), expires_at=T0).split(".")[3]
    after = issue_token(KEY, operator(hashed="hash-2"), expires_at=T0).split(".")[3]
    assert before != after
    assert "hash" not in before


def test_expiry_is_whole_seconds_after_now() -> None:
    now = T0 + timedelta(microseconds=900_000)
    assert expiry_after(now, 12) == T0 + timedelta(hours=12)


def stored(engine: Engine) -> Operator:
    with Session(engine) as session:
        amani = operator(operator_id=1, hashed=PASSWORD_HASH)
        session.add(amani)
        session.commit()
        session.refresh(amani)
        return amani


def refusal(session: Session, token: str, now: datetime = T0) -> str:
    """Why ``check_token`` refuses the token."""
    with pytest.raises(TokenRefused) as refused:
        check_token(session, KEY, token, now=now)
    return str(refused.value)


def test_check_token_names_why_a_token_is_refused(engine: Engine) -> None:
    amani = stored(engine)
    token = issue_token(KEY, amani, expires_at=T0 + timedelta(hours=1))
    with Session(engine) as session:
        assert check_token(session, KEY, token, now=T0).username == "amani"
        assert refusal(session, token + "x") == "invalid token"
        assert refusal(session, token, T0 + timedelta(hours=1)) == "token expired; sign in again"
        found = session.get(Operator, amani.id)
        assert found is not None
        found.password_hash = "a new hash"
        session.add(found)
        session.flush()
        assert refusal(session, token) == "signed out or password changed; sign in again"
        found.active = False
        session.add(found)
        session.flush()
        assert refusal(session, token) == "account not active"
        ghost = issue_token(KEY, operator(operator_id=999), expires_at=T0 + timedelta(hours=1))
        assert refusal(session, ghost) == "account not active"


def test_ending_sessions_ends_earlier_tokens_and_not_later_ones(engine: Engine) -> None:
    amani = stored(engine)
    before = issue_token(KEY, amani, expires_at=T0 + timedelta(hours=1))
    with Session(engine) as session:
        found = session.get(Operator, amani.id)
        assert found is not None and found.session_epoch == 0
        end_sessions(found)
        session.add(found)
        session.commit()
        session.refresh(found)
        assert refusal(session, before) == "signed out or password changed; sign in again"
        after = issue_token(KEY, found, expires_at=T0 + timedelta(hours=1))
        assert check_token(session, KEY, after, now=T0).username == "amani"


def test_epoch_zero_signs_as_before_epochs_existed() -> None:
    """Tokens issued before the upgrade keep working until they expire."""
    assert fingerprint(KEY, "hash-1") == fingerprint(KEY, "hash-1", 0)
    assert fingerprint(KEY, "hash-1", 1) != fingerprint(KEY, "hash-1", 0)
