"""A case's status as a state machine: new → triaged → active → referred → follow_up → closed.

Every change is checked here and recorded by the caller with who and when; an illegal change
is refused with a message that says what is allowed from where the case is.
"""

from __future__ import annotations

from enum import StrEnum

from transitions import Machine, MachineError


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


class IllegalTransition(ValueError):
    """A status change the workflow does not allow."""


class _Case:
    def __init__(self, status: str) -> None:
        self.state = status


_MACHINE = Machine(
    model=None,
    states=[s.value for s in Status],
    transitions=[{"trigger": t, "source": src, "dest": dest} for t, src, dest in TRANSITIONS],
    initial=Status.NEW.value,
    auto_transitions=False,
)


def allowed(status: str) -> list[str]:
    """The statuses a case may move to from ``status``."""
    return sorted({dest for _, sources, dest in TRANSITIONS if status in sources})


def move(status: str, target: str, *, reason: str | None = None) -> str:
    """The new status after moving a case from ``status`` to ``target``, or IllegalTransition."""
    if target == Status.CLOSED and reason not in {r.value for r in CloseReason}:
        raise IllegalTransition(
            f"closing needs a reason: {', '.join(r.value for r in CloseReason)}"
        )
    trigger = next(
        (name for name, sources, dest in TRANSITIONS if dest == target and status in sources),
        None,
    )
    if trigger is None:
        options = ", ".join(allowed(status)) or "nothing"
        raise IllegalTransition(f"a {status} case cannot become {target} (allowed: {options})")
    case = _Case(status)
    _MACHINE.add_model(case, initial=status)
    try:
        _MACHINE.events[trigger].trigger(case)
    except MachineError as exc:  # pragma: no cover - guarded by the table above
        raise IllegalTransition(str(exc)) from None
    finally:
        _MACHINE.remove_model(case)
    return str(case.state)
