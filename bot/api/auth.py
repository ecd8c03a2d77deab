"""Who is asking: argon2id passwords, signed tokens, a login rate limit, and role checks.

``POST /api/login`` with ``{"username": ..., "password": ...}`` answers
``{"token": ..., "expires_at": ..., "role": ...}``; later requests send
``Authorization: Bearer <token>``. A token is stateless::

    v1.<operator id>.<expiry, unix seconds>.<password fingerprint>.<signature>

signed with HMAC-SHA256 under a key derived from ``HOTLINE_PSEUDONYM_KEY`` for this use only,
and checked in constant time. Every request loads the operator again: a deactivated operator,
or one whose password changed (the fingerprint no longer matches), is refused at once. The
role is read from the database, never from the token.

Login: at most ``MAX_FAILURES`` failed attempts per username in ``WINDOW``; then 429 for that
username, even with the right password, until the oldest failure leaves the window. Failures
are logged with the username when it exists (never the password, never an unknown name, which
may be anything a person typed). A bearer token in a header is not sent by a browser on its
own, so the API needs no CSRF token.

Every route under ``/api/`` but the login declares its roles with ``require`` (deny by
default); a test walks the routes to keep it so.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Annotated, Any

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from bot.api.request import DbSession, Now
from bot.core.settings import Settings
from bot.deps import EngineDep, SettingsDep, StoreDep
from bot.models import Operator
from bot.sessions import SessionBusy

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api", tags=["auth"])

ROLES = ("operator", "supervisor", "admin")
STAFF = ROLES
"""Operator and up: everyone on the team."""
SUPERVISORS = ("supervisor", "admin")
ADMINS = ("admin",)

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
MIN_PASSWORD = 12
TOKEN_VERSION = "v1"  # noqa: S105 - a format tag, not a secret

HASHER = PasswordHasher(type=Type.ID)
"""argon2id with the library's defaults (RFC 9106: 64 MiB, 3 passes); tests swap in cheaper."""
_REFUSED = {"WWW-Authenticate": "Bearer"}


# --- passwords ------------------------------------------------------------------------------


def check_password_rules(password: str) -> None:
    """ValueError when a new password is too weak to protect case files."""
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > 1024:
        raise ValueError("a password is at most 1024 characters")


def hash_password(password: str) -> str:
    """An argon2id hash (salt and parameters included) of a password that passes the rules."""
    check_password_rules(password)
    return HASHER.hash(password)


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash("no such operator; spend the same time")


def verify_password(password_hash: str | None, password: str) -> bool:
    """Does ``password`` match? Costs the same time when there is no hash to check."""
    try:
        matched = HASHER.verify(password_hash or _dummy_hash(HASHER), password)
    except (VerificationError, InvalidHashError):
        return False
    return matched and password_hash is not None


# --- tokens ---------------------------------------------------------------------------------


def token_key(settings: Settings) -> bytes:
    """The signing key: HMAC(pseudonym key, "api-token"), so it is used for nothing else."""
    secret = settings.pseudonym_key.get_secret_value() if settings.pseudonym_key else ""
    if not secret.strip():
        raise RuntimeError("no HOTLINE_PSEUDONYM_KEY to derive the API token key from")
    return hmac.new(secret.encode(), b"api-token", hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _fingerprint(key: bytes, password_hash: str | None) -> str:
    """Changes when the password does (so do the tokens); reveals nothing about it."""
    digest = hmac.new(key, b"password:" + (password_hash or "").encode(), hashlib.sha256)
    return _b64(digest.digest()[:9])


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
            _fingerprint(key, operator.password_hash),
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
    _, operator_id, expiry, fingerprint = parts
    if not operator_id.isdigit() or not expiry.isdigit():
        return None
    return Claims(int(operator_id), datetime.fromtimestamp(int(expiry), UTC), fingerprint)


# --- who is asking --------------------------------------------------------------------------


def _unauthorised(detail: str = "sign in first") -> HTTPException:
    return HTTPException(status_code=401, detail=detail, headers=_REFUSED)


def current_operator(request: Request, db: DbSession, settings: SettingsDep, now: Now) -> Operator:
    """The active operator whose valid token came with the request, or 401."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorised()
    key = token_key(settings)
    claims = read_token(key, token.strip())
    if claims is None:
        log.warning("API request with a bad token refused")
        raise _unauthorised("invalid token")
    if claims.expires_at <= now:
        raise _unauthorised("token expired; sign in again")
    operator = db.get(Operator, claims.operator_id)
    if operator is None or not operator.active:
        log.warning("API token of inactive or removed operator %s refused", claims.operator_id)
        raise _unauthorised("account not active")
    if not hmac.compare_digest(
        _fingerprint(key, operator.password_hash).encode(), claims.fingerprint.encode()
    ):
        raise _unauthorised("password changed; sign in again")
    return operator


CurrentOperator = Annotated[Operator, Depends(current_operator)]


class Require:
    """A dependency that lets through only operators with one of ``roles`` (else 403)."""

    def __init__(self, roles: tuple[str, ...]) -> None:
        unknown = [role for role in roles if role not in ROLES]
        if not roles or unknown:
            raise ValueError(f"roles must be some of {', '.join(ROLES)}; got {roles!r}")
        self.roles = frozenset(roles)

    async def __call__(self, operator: CurrentOperator) -> Operator:
        """The operator, when their role is one of ours (async: no thread for a comparison)."""
        if operator.role not in self.roles:
            log.warning("%s (%s) refused: needs %s", operator.username, operator.role, self)
            raise HTTPException(status_code=403, detail=f"this needs the role {self}")
        return operator

    def __str__(self) -> str:
        return " or ".join(role for role in ROLES if role in self.roles)


def require(*roles: str) -> Any:
    """Depends on an operator with one of ``roles``: ``Annotated[Operator, require(...)]``."""
    return Depends(Require(roles))


Staff = Annotated[Operator, require(*STAFF)]
"""An operator, supervisor or admin."""
Supervisor = Annotated[Operator, require(*SUPERVISORS)]
"""A supervisor or admin."""
Admin = Annotated[Operator, require(*ADMINS)]
"""An admin."""


# --- login ----------------------------------------------------------------------------------


class LoginBody(BaseModel):
    """Credentials."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class TokenOut(BaseModel):
    """A signed token and when it stops working."""

    token: str
    expires_at: datetime
    role: str


def _failures_key(settings: Settings, username: str) -> str:
    """The store key counting a username's failures (a keyed hash: any typed text is safe)."""
    name = hmac.new(token_key(settings), b"login:" + username.encode(), hashlib.sha256)
    return "api:login-failures:" + name.hexdigest()[:32]


def _check_credentials(engine: Engine, username: str, password: str) -> Operator | None:
    """The active operator with these credentials (rehashing an outdated hash), else None."""
    with Session(engine) as session:
        operator = session.exec(select(Operator).where(col(Operator.username) == username)).first()
        stored = operator.password_hash if operator is not None else None
        if not verify_password(stored, password) or operator is None or not operator.active:
            return None
        if stored and HASHER.check_needs_rehash(stored):
            operator.password_hash = HASHER.hash(password)
            session.add(operator)
            session.commit()
            session.refresh(operator)
        session.expunge(operator)
        return operator


def _known(engine: Engine, username: str) -> bool:
    with Session(engine) as session:
        found = session.exec(select(Operator.id).where(col(Operator.username) == username))
        return found.first() is not None


@router.post("/login")
async def login(
    body: LoginBody, settings: SettingsDep, engine: EngineDep, store: StoreDep, now: Now
) -> TokenOut:
    """Exchange a username and password for a token (rate limited per username)."""
    username = body.username.strip().lower()
    key = _failures_key(settings, username)
    window = int(WINDOW.total_seconds())
    try:
        async with store.lock(key, timeout=30.0, wait=10.0):
            stamp = now.timestamp()
            state = await store.get(key) or {}
            failures = [float(t) for t in state.get("at", []) if float(t) > stamp - window]
            if len(failures) >= MAX_FAILURES:
                wait = max(1, math.ceil(min(failures) + window - stamp))
                log.warning("login refused: too many failures for a username (%d s left)", wait)
                raise HTTPException(
                    status_code=429,
                    detail=f"too many failed sign-ins; try again in {math.ceil(wait / 60)} min",
                    headers={"Retry-After": str(wait)},
                )
            operator = await run_in_threadpool(_check_credentials, engine, username, body.password)
            if operator is None:
                failures.append(stamp)
                await store.set(key, {"at": failures}, ttl=window)
                known = await run_in_threadpool(_known, engine, username)
                log.warning(
                    "login failed for %s (%d of %d in %d min)",
                    username if known else "an unknown username",
                    len(failures),
                    MAX_FAILURES,
                    window // 60,
                )
                raise _unauthorised("wrong username or password")
            if failures:
                await store.delete(key)
    except SessionBusy:
        raise HTTPException(status_code=503, detail="busy; try again") from None
    expiry = int((now + timedelta(hours=settings.api_token_hours)).timestamp())
    expires_at = datetime.fromtimestamp(expiry, UTC)
    token = issue_token(token_key(settings), operator, expires_at=expires_at)
    log.info("%s (%s) signed in", operator.username, operator.role)
    return TokenOut(token=token, expires_at=expires_at, role=operator.role)
