"""Who is asking, and may they: the team web's dependencies, as typed ``Annotated`` aliases.

Every team web route declares its roles (the API's: ``bot.team.roles``) with one of
``Staff``/``Supervisor``/``Admin`` (or ``allow(...)``), or says it is open to anyone with
``dependencies=[PUBLIC]``; ``tests/admin/test_access.py`` walks every route to keep it so
(deny by default). The role dependency also checks the CSRF token of every unsafe request, so
a state-changing route cannot forget it.

Refusals are exceptions ``admin.web`` turns into pages: ``SignInRequired`` (a GET goes to the
sign-in page and comes back after; anything else is 403), ``NotAllowed`` (403),
``admin.csrf.CsrfRefused`` (403).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from admin import csrf, session
from bot.auth import web_sessions
from bot.auth.permissions import check_roles, describe, has_role
from bot.deps import DbSession, Now, SettingsDep
from bot.models import Operator
from bot.team.roles import ADMINS, STAFF, SUPERVISORS

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class SignInRequired(Exception):
    """No live session: sign in first (the message says why, e.g. it expired)."""


class NotAllowed(Exception):
    """Signed in, but the role is not one of those the route declares."""


@dataclass(frozen=True)
class WebUser:
    """The signed-in team member of this request, and the session they came with."""

    operator: Operator
    """Their row, in the request's database session (``DbSession``)."""
    session_id: str

    @property
    def id(self) -> int:
        assert self.operator.id is not None
        return self.operator.id

    @property
    def username(self) -> str:
        return self.operator.username

    @property
    def role(self) -> str:
        return self.operator.role

    @property
    def lang(self) -> str:
        return self.operator.lang


def signed_in(request: Request, db: DbSession, settings: SettingsDep, now: Now) -> WebUser | None:
    """The team member whose live session cookie came with the request, or None.

    An ended session's row is deleted; why it ended is kept for the sign-in page. Plain (not
    async): it reads the database, so FastAPI runs it in a thread.
    """
    session_id = session.read(request, settings)
    if not session_id:
        return None
    try:
        operator = web_sessions.check(db, session_id, now=now, timeouts=session.timeouts(settings))
    except web_sessions.SessionEnded as exc:
        db.commit()
        request.state.session_ended = str(exc)
        return None
    if db.dirty:
        db.commit()
        db.refresh(operator)
    user = WebUser(operator, session_id)
    request.state.web_reader = user  # a refusal's page still speaks their language
    return user


MaybeSignedIn = Annotated[WebUser | None, Depends(signed_in)]
"""The signed-in team member, or None (pages open to anyone that change when signed in)."""


class Allow:
    """Lets through a signed-in member with one of ``roles`` (an unsafe request only with its
    CSRF token); refuses everyone else."""

    def __init__(self, roles: Iterable[str]) -> None:
        self.roles = check_roles(roles)

    async def __call__(
        self, request: Request, user: MaybeSignedIn, settings: SettingsDep
    ) -> WebUser:
        if user is None:
            raise SignInRequired(getattr(request.state, "session_ended", "sign in first"))
        if not has_role(user.operator, self.roles):
            log.warning(
                "%s (%s) refused %s: needs %s", user.username, user.role, request.url.path, self
            )
            raise NotAllowed(f"this needs the role {self}")
        if request.method not in SAFE_METHODS:
            await csrf.check(request, settings, user.session_id)
        request.state.web_user = user
        return user

    def __str__(self) -> str:
        return describe(self.roles)


def allow(*roles: str) -> Any:
    """Depends on a signed-in member with one of ``roles``: ``Annotated[WebUser, allow(...)]``."""
    return Depends(Allow(roles))


Staff = Annotated[WebUser, allow(*STAFF)]
"""An operator, supervisor or admin."""
Supervisor = Annotated[WebUser, allow(*SUPERVISORS)]
"""A supervisor or admin."""
Admin = Annotated[WebUser, allow(*ADMINS)]
"""An admin."""


async def public() -> None:
    """Marks a route open to anyone (the sign-in page, static files): ``dependencies=[PUBLIC]``."""


PUBLIC = Depends(public)


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _dependants(sub)


def declared(route: APIRoute) -> frozenset[str] | Literal["public"] | None:
    """The roles a route declares, "public", or None when it declares nothing (a bug)."""
    roles: set[str] = set()
    found = False
    for sub in _dependants(route.dependant):
        if isinstance(sub.call, Allow):
            roles = roles & sub.call.roles if found else set(sub.call.roles)
            found = True
        elif sub.call is public:
            return "public"
    return frozenset(roles) if found else None


@dataclass(frozen=True)
class WebRoute:
    """One method and path of the team web, with its route."""

    method: str
    path: str
    route: APIRoute


def web_routes(app: FastAPI) -> list[WebRoute]:
    """Every (method, path) the team web answers: the routes of ``admin.routes``' modules."""
    found: list[WebRoute] = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and route.endpoint.__module__.startswith("admin.routes."):
            found.extend(
                WebRoute(method, context.path or route.path, route)
                for method in sorted(context.methods or ())
            )
    return found
