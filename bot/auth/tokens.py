"""Signed bearer tokens: issue, read, and check one against the operator it names.

A token is stateless::

    v1.<operator id>.<expiry, unix seconds>.<password fingerprint>.<signature>

signed with HMAC-SHA256 under a key derived from ``HOTLINE_PSEUDONYM_KEY`` for this use only,
and checked in constant time. ``check_token`` loads the operator again: a deactivated operator
is refused at once, and so is a token whose fingerprint no longer matches — it covers the
password hash and the operator's session epoch, which signing out, a password change and a
deactivation move on (``end_sessions``), so reactivating an operator revives none of their
old tokens. The role is read from the database, never from the token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session

from bot.core.settings import Settings
from bot.models import Operator

log = logging.getLogger(__name__)

TOKEN_VERSION = "v1"  # noqa: S105 - a format tag, not a secret


class TokenRefused(Exception):
    """A token that opens nothing; the message says why, in words fit for the person."""


def derive_key(settings: Settings, purpose: bytes) -> bytes:
    """HMAC(pseudonym key, purpose): a key for one use, unrelated to any other."""
    secret = settings.pseudonym_key.get_secret_value() if settings.pseudonym_key else ""
    if not secret.strip():
        raise RuntimeError(f"no HOTLINE_PSEUDONYM_KEY to derive the {purpose.decode()} key from")
    return hmac.new(secret.encode(), purpose, hashlib.sha256).digest()


def token_key(settings: Settings) -> bytes:
    """The signing key: HMAC(pseudonym key, "api-token"), so it is used for nothing else."""
    return derive_key(settings, b"api-token")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def fingerprint(key: bytes, password_hash: str | None, epoch: int = 0) -> str:
    """Changes when the password or the session epoch does (so do the tokens); reveals nothing
    about either. Epoch 0 signs as tokens did before epochs existed."""
    material = b"password:" + (password_hash or "").encode()
    if epoch:
        material += b"\nepoch:" + str(epoch).encode()
    return _b64(hmac.new(key, material, hashlib.sha256).digest()[:9])


def session_fingerprint(key: bytes, operator: Operator) -> str:
    """The fingerprint an operator's tokens carry now."""
    return fingerprint(key, operator.password_hash, operator.session_epoch)


def end_sessions(operator: Operator) -> None:
    """Every token issued to ``operator`` so far stops working (the caller commits)."""
    operator.session_epoch = (operator.session_epoch or 0) + 1


def _sign(key: bytes, payload: str) -> str:
    return _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())


def issue_token(key: bytes, operator: Operator, *, expires_at: datetime) -> str:
    """A token for ``operator`` valid until ``expires_at``."""
    assert operator.id is not None
    payload = ".".join(
        (
            TOKEN_VERSION,
            str(operator.id),
            str(int(expires_at.timestamp())),
            session_fingerprint(key, operator),
        )
    )
    return f"{payload}.{_sign(key, payload)}"


@dataclass(frozen=True)
class Claims:
    """What a token, once its signature checks out, says."""

    operator_id: int
    expires_at: datetime
    fingerprint: str


def read_token(key: bytes, token: str) -> Claims | None:
    """The token's claims if its signature is good (constant-time), else None; expiry unchecked."""
    payload, _, signature = token.rpartition(".")
    if not hmac.compare_digest(_sign(key, payload).encode(), signature.encode()):
        return None
    parts = payload.split(".")
    if len(parts) != 4 or parts[0] != TOKEN_VERSION:
        return None
    _, operator_id, expiry, print_ = parts
    if not operator_id.isdigit() or not expiry.isdigit():
        return None
    return Claims(int(operator_id), datetime.fromtimestamp(int(expiry), UTC), print_)


def expiry_after(now: datetime, hours: int) -> datetime:
    """When a token issued ``now`` for ``hours`` stops working (whole seconds, as it is signed)."""
    return datetime.fromtimestamp(int(now.timestamp()) + hours * 3600, UTC)


def check_token(session: Session, key: bytes, token: str, *, now: datetime) -> Operator:
    """The active operator ``token`` speaks for, or TokenRefused saying why not."""
    claims = read_token(key, token)
    if claims is None:
        log.warning("API request with a bad token refused")
        raise TokenRefused("invalid token")
    if claims.expires_at <= now:
        raise TokenRefused("token expired; sign in again")
    operator = session.get(Operator, claims.operator_id)
    if operator is None or not operator.active:
        log.warning("API token of inactive or removed operator %s refused", claims.operator_id)
        raise TokenRefused("account not active")
    if not hmac.compare_digest(
        session_fingerprint(key, operator).encode(), claims.fingerprint.encode()
    ):
        raise TokenRefused("signed out or password changed; sign in again")
    return operator
