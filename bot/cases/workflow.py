"""A status workflow: a table of (trigger, from, to) run on one shared ``transitions`` machine.

Cases and referrals both move through such tables; each keeps its own rules (reasons,
outcomes) and messages, and asks this for what is allowed and for the move itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from transitions import Machine, MachineError


class IllegalTransition(ValueError):
    """A status change the workflow does not allow."""


class _Item:
    def __init__(self, status: str) -> None:
        self.state = status


class Workflow:
    """The allowed moves between statuses, checked and applied by a shared machine."""

    def __init__(
        self, states: Sequence[str], transitions: Sequence[tuple[str, list[str], str]]
    ) -> None:
        self.transitions = list(transitions)
        self._machine = Machine(
            model=None,
            states=list(states),
            transitions=[{"trigger": t, "source": s, "dest": d} for t, s, d in transitions],
            initial=states[0],
            auto_transitions=False,
        )

    def allowed(self, status: str) -> list[str]:
        """The statuses reachable from ``status`` in one move."""
        return sorted({dest for _, sources, dest in self.transitions if status in sources})

    def trigger(self, status: str, target: str) -> str | None:
        """The trigger moving ``status`` to ``target``, or None when the table has none."""
        return next(
            (
                name
                for name, sources, dest in self.transitions
                if dest == target and status in sources
            ),
            None,
        )

    def fire(self, status: str, trigger: str) -> str:
        """Apply a trigger found by ``trigger`` to a status; returns the new status."""
        item = _Item(status)
        self._machine.add_model(item, initial=status)
        try:
            self._machine.events[trigger].trigger(item)
        except MachineError as exc:  # pragma: no cover - ``trigger`` found it in the table
            raise IllegalTransition(str(exc)) from None
        finally:
            self._machine.remove_model(item)
        return str(item.state)
