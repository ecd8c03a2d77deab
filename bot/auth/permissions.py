"""Who may do what, by role: plain checks that deny by default (DESIGN §9).

The roles are ``bot.team.roles``'s. A web layer declares a route's roles once
(``bot.api.auth.require``) and turns ``Forbidden`` into its own refusal.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.models import Operator
from bot.team.roles import ADMINS, ROLES, SUPERVISORS


class Forbidden(Exception):
    """The operator's role is not one of those an action needs."""


def check_roles(roles: Iterable[str]) -> frozenset[str]:
    """``roles`` as a set, when it is a non-empty set of known roles; else ValueError."""
    given = tuple(roles)
    unknown = [role for role in given if role not in ROLES]
    if not given or unknown:
        raise ValueError(f"roles must be some of {', '.join(ROLES)}; got {given!r}")
    return frozenset(given)


def describe(roles: Iterable[str]) -> str:
    """``roles`` in words, least trusted first: ``supervisor or admin``."""
    wanted = set(roles)
    return " or ".join(role for role in ROLES if role in wanted)


def has_role(operator: Operator, roles: Iterable[str]) -> bool:
    """Is ``operator`` active and in one of ``roles``? (An unknown role is in none.)"""
    return operator.active and operator.role in ROLES and operator.role in set(roles)


def require_role(operator: Operator, roles: Iterable[str]) -> Operator:
    """``operator`` when in one of ``roles``, else Forbidden naming the roles needed."""
    wanted = check_roles(roles)
    if not has_role(operator, wanted):
        raise Forbidden(f"this needs the role {describe(wanted)}")
    return operator


def is_supervisor(operator: Operator) -> bool:
    """Supervisor or admin: keeps the rota, sees the audit, may override the consent gate."""
    return has_role(operator, SUPERVISORS)


def is_admin(operator: Operator) -> bool:
    """Admin: manages the team, the flows and the directory."""
    return has_role(operator, ADMINS)
