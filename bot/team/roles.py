"""The roles of the hotline team, defined once: what each may do is decided by ``bot.auth``.

An operator handles cases; a supervisor also keeps the rota, sees audits and may override the
consent gate; an admin also manages the team, flows and the directory (DESIGN §1).
"""

from __future__ import annotations

from typing import Final, Literal

Role = Literal["operator", "supervisor", "admin"]
"""A role, as a type (pydantic models validate against it)."""

ROLES: Final[tuple[Role, ...]] = ("operator", "supervisor", "admin")
"""Every role, least to most trusted."""
STAFF: Final[tuple[Role, ...]] = ROLES
"""Operator and up: everyone on the team."""
SUPERVISORS: Final[tuple[Role, ...]] = ("supervisor", "admin")
"""Supervisor and up."""
ADMINS: Final[tuple[Role, ...]] = ("admin",)
"""Admins only."""


def is_role(role: object) -> bool:
    """Is ``role`` one of ours?"""
    return isinstance(role, str) and role in ROLES
