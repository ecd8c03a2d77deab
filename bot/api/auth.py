"""The API's side of signing in: bearer tokens on requests, role checks, ``POST /api/login``,
``POST /api/auth/logout``.

``POST /api/login`` with ``{"username": ..., "password": ...}`` answers
``{"token": ..., "expires_at": ..., "role": ...}``; later requests send
``Authorization: Bearer <token>``. ``POST /api/auth/logout`` ends every token of the operator
(tokens are stateless: signing out moves the operator's session epoch on). The rules (argon2id
passwords behind the hashing gate, signed tokens, the sign-in throttle per address, per
username from an address and per username, roles) live in ``bot.auth``; this module only turns
their errors into HTTP answers: 401 (with ``WWW-Authenticate: Bearer``), 403, 429 (with
``Retry-After``), 503 (with ``Retry-After`` when too many passwords are being checked at once).
The client address is the connection's (uvicorn puts a trusted proxy's ``X-Forwarded-For``
there). A bearer token in a header is not sent by a browser on its own, so the API needs no
CSRF token.

Every route under ``/api/`` but the login declares its roles with ``require`` (deny by
default); a test walks the routes to keep it so.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from bot.api.request import DbSession, Now
from bot.auth.hashing import HashingBusy
from bot.auth.lookups import LookupThrottle, TooManyLookups
from bot.auth.passwords import MAX_PASSWORD
from bot.auth.permissions import Forbidden, check_roles, describe, require_role
from bot.auth.signin import WrongCredentials, sign_in
from bot.auth.throttle import LoginThrottle, TooManyFailures
from bot.auth.tokens import (
    TokenRefused,
    check_token,
    derive_key,
    end_sessions,
    expiry_after,
    issue_token,
    token_key,
)
from bot.deps import EngineDep, SettingsDep, StoreDep
from bot.models import Operator
from bot.sessions import SessionBusy
from bot.team.roles import ADMINS, STAFF, SUPERVISORS

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api", tags=["auth"])

_REFUSED = {"WWW-Authenticate": "Bearer"}


# --- who is asking --------------------------------------------------------------------------


def _unauthorised(detail: str = "sign in first") -> HTTPException:
    return HTTPException(status_code=401, detail=detail, headers=_REFUSED)


def current_operator(request: Request, db: DbSession, settings: SettingsDep, now: Now) -> Operator:
    """The active operator whose valid token came with the request, or 401."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorised()
    try:
        return check_token(db, token_key(settings), token.strip(), now=now)
    except TokenRefused as exc:
        raise _unauthorised(str(exc)) from None


CurrentOperator = Annotated[Operator, Depends(current_operator)]


class Require:
    """A dependency that lets through only operators with one of ``roles`` (else 403)."""

    def __init__(self, roles: tuple[str, ...]) -> None:
        self.roles = check_roles(roles)

    async def __call__(self, operator: CurrentOperator) -> Operator:
        """The operator, when their role is one of ours (async: no thread for a comparison)."""
        try:
            return require_role(operator, self.roles)
        except Forbidden as exc:
            log.warning("%s (%s) refused: needs %s", operator.username, operator.role, self)
            raise HTTPException(status_code=403, detail=str(exc)) from None

    def __str__(self) -> str:
        return describe(self.roles)


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
    password: str = Field(min_length=1, max_length=MAX_PASSWORD)


class TokenOut(BaseModel):
    """A signed token and when it stops working."""

    token: str
    expires_at: datetime
    role: str


def client_address(request: Request) -> str | None:
    """The address the request came from (the proxy's word for it when uvicorn trusts it)."""
    return request.client.host if request.client else None


async def checked_sign_in(
    request: Request,
    engine: EngineDep,
    store: StoreDep,
    key: bytes,
    username: str,
    password: str,
    now: datetime,
) -> Operator:
    """``bot.auth.signin.sign_in`` from this request's address, its refusals as HTTP answers."""
    try:
        return await sign_in(
            engine,
            LoginThrottle(store, key),
            username,
            password,
            now=now,
            address=client_address(request),
        )
    except TooManyFailures as exc:
        raise HTTPException(
            status_code=429, detail=str(exc), headers={"Retry-After": str(exc.retry_after)}
        ) from None
    except WrongCredentials as exc:
        raise _unauthorised(str(exc)) from None
    except HashingBusy as exc:
        raise HTTPException(
            status_code=503, detail=str(exc), headers={"Retry-After": str(exc.retry_after)}
        ) from None
    except SessionBusy:
        raise HTTPException(
            status_code=503, detail="busy; try again", headers={"Retry-After": "1"}
        ) from None


async def limit_case_lookups(
    request: Request, settings: SettingsDep, store: StoreDep, now: Now
) -> AsyncIterator[None]:
    """Count a case reference that names no case (404) against the client's address; past
    ``bot.auth.lookups.MAX_MISSES`` every look-up from it is refused (429, ``Retry-After``)."""
    throttle = LookupThrottle(store, derive_key(settings, b"case-lookup"))
    try:
        async with throttle.lookup(client_address(request), now=now) as lookup:
            try:
                yield
            except HTTPException as exc:
                if exc.status_code == 404 and await lookup.missed() >= throttle.max_misses:
                    log.warning("case look-ups refused for an address: too many misses")
                raise
    except TooManyLookups as exc:
        raise HTTPException(
            status_code=429, detail=str(exc), headers={"Retry-After": str(exc.retry_after)}
        ) from None
    except SessionBusy:
        raise HTTPException(
            status_code=503, detail="busy; try again", headers={"Retry-After": "1"}
        ) from None


CaseLookup = Depends(limit_case_lookups)
"""Limits case look-ups by reference per client address (a route's ``dependencies``)."""


def new_token(settings: SettingsDep, operator: Operator, now: datetime) -> TokenOut:
    """A fresh token for ``operator``, valid ``HOTLINE_API_TOKEN_HOURS``."""
    expires_at = expiry_after(now, settings.api_token_hours)
    token = issue_token(token_key(settings), operator, expires_at=expires_at)
    return TokenOut(token=token, expires_at=expires_at, role=operator.role)


@router.post("/login")
async def login(
    request: Request,
    body: LoginBody,
    settings: SettingsDep,
    engine: EngineDep,
    store: StoreDep,
    now: Now,
) -> TokenOut:
    """Exchange a username and password for a token (throttled per address and username)."""
    operator = await checked_sign_in(
        request, engine, store, token_key(settings), body.username, body.password, now
    )
    return new_token(settings, operator, now)


class LoggedOut(BaseModel):
    """Every token of the operator stopped working."""

    signed_out: bool


@router.post("/auth/logout")
def logout(me: Staff, db: DbSession) -> LoggedOut:
    """Sign out: this token and every other token of mine stop working at once."""
    end_sessions(me)
    db.add(me)
    db.commit()
    log.info("%s signed out", me.username)
    return LoggedOut(signed_out=True)
