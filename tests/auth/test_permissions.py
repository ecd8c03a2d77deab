"""Role checks as plain functions: deny by default, the roles named in the refusal."""

from __future__ import annotations

import pytest

from bot.auth.permissions import (
    Forbidden,
    check_roles,
    describe,
    has_role,
    is_admin,
    is_supervisor,
    require_role,
)
from bot.models import Operator
from bot.team.roles import ADMINS, ROLES, STAFF, SUPERVISORS


def member(role: str, *, active: bool = True) -> Operator:
    return Operator(username=role, display_name=role, role=role, lang="en", active=active)


def test_roles_are_known_and_not_empty() -> None:
    assert check_roles(("admin", "supervisor")) == frozenset(SUPERVISORS)
    with pytest.raises(ValueError, match="roles must be"):
        check_roles(("root",))
    with pytest.raises(ValueError, match="roles must be"):
        check_roles(())


def test_roles_read_least_trusted_first() -> None:
    assert describe(("admin", "supervisor")) == "supervisor or admin"
    assert describe(STAFF) == "operator or supervisor or admin"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_what_it_may(role: str) -> None:
    someone = member(role)
    assert has_role(someone, STAFF)
    assert is_supervisor(someone) is (role in SUPERVISORS)
    assert is_admin(someone) is (role in ADMINS)
    if role in SUPERVISORS:
        assert require_role(someone, SUPERVISORS) is someone
    else:
        with pytest.raises(Forbidden, match="this needs the role supervisor or admin"):
            require_role(someone, SUPERVISORS)


def test_unknown_roles_and_inactive_members_get_nothing() -> None:
    assert not has_role(member("root"), STAFF)
    assert not has_role(member("admin", active=False), ADMINS)
    with pytest.raises(Forbidden):
        require_role(member("admin", active=False), STAFF)
