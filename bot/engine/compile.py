"""Compile a flow version once into a shared ``transitions`` machine; requests borrow it.

The machine is built with ``model=None``; each request adds its own small model with
``add_model`` and removes it in ``finally`` (a machine per request costs ~5x more).
Triggers are the inputs a screen accepts: ``opt_<key>`` for menu options and
Yes/No/Skip (1/2/3), ``text`` for free text. A branch list becomes several transitions on the
same trigger with conditions, tried in order. A target in another flow becomes a
pseudo-state ``@flow:state`` that the runner follows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from transitions import Machine

from bot.engine.actions import Scratch
from bot.engine.conditions import holds
from bot.engine.loader import LoadedFlow
from bot.engine.model import (
    ANSWERS,
    Branch,
    MenuState,
    QuestionState,
    Target,
    TextState,
    branches,
    parse_target,
)

QUESTION_KEYS = {"1": "yes", "2": "no", "3": "skip"}


class SharedMachine(Machine):
    """A machine shared by every conversation of a flow version, with a lean ``add_model``.

    The stock ``add_model`` binds ~100 convenience methods (``model.trigger``, ``is_<state>``,
    ``may_<trigger>``) per model; the runner fires ``machine.events[name].trigger(model)`` and
    uses none of them, and their reference cycles cost the garbage collector on every request
    (bench/engine_step.py: median step 427 µs -> 89 µs with this and a plain ``to_dict``).
    """

    def add_model(self, model: Any, initial: Any = None) -> None:
        """Register a model and set its state, without binding convenience methods."""
        for item in model if isinstance(model, list) else [model]:
            if item not in self.models:
                state = self.initial if initial is None else initial
                assert state is not None, "a shared machine always has an initial state"
                self.set_state(state, model=item)
                self.models.append(item)


class Conversation:
    """The per-request model the machine drives: just the state name and the scratch data."""

    def __init__(self, scratch: Scratch) -> None:
        self.scratch = scratch
        self.state: str = scratch.state.state


@dataclass(frozen=True)
class CompiledFlow:
    """A flow version ready to run: its definition and its shared machine."""

    loaded: LoadedFlow
    machine: Machine

    @property
    def name(self) -> str:
        return self.loaded.name

    @property
    def version(self) -> str:
        return self.loaded.version

    @contextmanager
    def borrow(self, scratch: Scratch) -> Iterator[Conversation]:
        """Attach a conversation to the shared machine for one request, and always detach it."""
        model = Conversation(scratch)
        self.machine.add_model(model, initial=scratch.state.state)
        try:
            yield model
        finally:
            self.machine.remove_model(model)


def menu_keys(state: MenuState) -> list[str]:
    """The keys a person types for each option: explicit ones, else 1, 2, 3 in order."""
    return [opt.key or str(i) for i, opt in enumerate(state.options, start=1)]


def destination(target: str, flow: str) -> str:
    """Machine state for a target: a local state, or ``@flow:state`` for another flow."""
    target_flow, state = parse_target(target, flow)
    if target_flow == flow:
        return state if state is not None else ""
    return f"@{target_flow}:{state or ''}"


def _condition(branch: Branch) -> list[str | Callable[..., bool | None]] | None:
    when = branch.when
    if when is None:
        return None
    return [lambda event: holds(when, event.model.scratch.state)]


def compile_flow(loaded: LoadedFlow) -> CompiledFlow:
    """Build the shared machine for one (already validated) flow version."""
    definition = loaded.definition
    flow = definition.flow
    edges: list[tuple[str, str, Branch]] = []

    def add(trigger: str, source: str, target: Target) -> None:
        for branch in branches(target):
            edges.append((trigger, source, branch))

    for name, state in definition.states.items():
        if isinstance(state, MenuState):
            for key, option in zip(menu_keys(state), state.options, strict=True):
                add(f"opt_{key}", name, option.next)
        elif isinstance(state, QuestionState):
            for key, answer in QUESTION_KEYS.items():
                nxt = state.next
                target: Any = nxt.get(answer) if isinstance(nxt, dict) else nxt  # type: ignore[call-overload]
                if target is not None:
                    add(f"opt_{key}", name, target)
        elif isinstance(state, TextState):
            add("text", name, state.next)

    states: list[str] = list(definition.states)
    for _, _, branch in edges:
        dest = destination(branch.to, flow) or definition.start
        if dest.startswith("@") and dest not in states:
            states.append(dest)
    machine = SharedMachine(
        model=None,
        states=states,
        initial=definition.start,
        auto_transitions=False,
        send_event=True,
    )
    for trigger, source, branch in edges:
        machine.add_transition(
            trigger,
            source,
            destination(branch.to, flow) or definition.start,
            conditions=_condition(branch),
        )
    return CompiledFlow(loaded, machine)


assert set(QUESTION_KEYS.values()) == set(ANSWERS)
