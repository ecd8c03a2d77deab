"""A case's status as a state machine: new → triaged → active → referred → follow_up → closed.

Every change is checked here and recorded by the caller with who and when; an illegal change
is refused with a message that says what is allowed from where the case is.
"""

from __future__ import annotations

from enum import StrEnum

from bot.cases.workflow import IllegalTransition as IllegalTransition  # re-exported for callers
from bot.cases.workflow import Workflow
from bot.team.roles import SUPERVISORS  # reopen a closed case


class Status(StrEnum):
    """Where a case is in its handling."""

    NEW = "new"
    TRIAGED = "triaged"
    ACTIVE = "active"
    REFERRED = "referred"
    FOLLOW_UP = "follow_up"
    CLOSED = "closed"


class CloseReason(StrEnum):
    """Why a case was closed."""

    RESOLVED = "resolved"
    NOT_TRAFFICKING = "not_trafficking"
    NO_CONTACT = "no_contact_possible"
    DUPLICATE = "duplicate"


_OPEN = [s.value for s in Status if s != Status.CLOSED]
TRANSITIONS: list[tuple[str, list[str], str]] = [
    ("triage", ["new"], "triaged"),
    ("activate", ["triaged"], "active"),
    ("refer", ["active", "follow_up"], "referred"),
    ("follow_up", ["active", "referred"], "follow_up"),
    ("close", _OPEN, "closed"),
    ("reopen", ["closed"], "active"),
]
"""(trigger, from, to): the only changes a case may go through."""


WORKFLOW = Workflow([s.value for s in Status], TRANSITIONS)


class MoveNotAllowed(IllegalTransition):
    """The workflow has no move from where the case is to the status asked for.

    ``allowed`` lists the statuses it may move to, so a client can offer them.
    """

    def __init__(self, status: str, target: str) -> None:
        self.allowed = allowed(status)
        options = ", ".join(self.allowed) or "nothing"
        super().__init__(f"a {status} case cannot become {target} (allowed: {options})")


def allowed(status: str) -> list[str]:
    """The statuses a case may move to from ``status``."""
    return WORKFLOW.allowed(status)


def moves_for(status: str, role: str) -> list[str]:
    """The statuses someone in ``role`` may move a case to: reopening is for supervisors."""
    if status == Status.CLOSED and role not in SUPERVISORS:
        return []
    return allowed(status)


def move(status: str, target: str, *, reason: str | None = None) -> str:
    """The new status after moving a case from ``status`` to ``target``.

    MoveNotAllowed when the workflow has no such move; IllegalTransition when closing without
    one of ``CloseReason``.
    """
    trigger = WORKFLOW.trigger(status, target)
    if trigger is None:
        raise MoveNotAllowed(status, target)
    if target == Status.CLOSED and reason not in {r.value for r in CloseReason}:
        raise IllegalTransition(
            f"closing needs a reason: {', '.join(r.value for r in CloseReason)}"
        )
    return WORKFLOW.fire(status, trigger)
