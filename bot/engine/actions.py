"""Actions on options, answers and state entry, by the name used in flow files (a fixed table).

Actions change only the conversation's own data and append events; they never send or write.
Each action is a one-key mapping, e.g. ``{score: indicators}``,
``{set_priority: {level: P1, rule: U1 danger now}}``, ``{emit: screening_completed}``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from bot.core.languages import LANGUAGES
from bot.engine.conditions import check_condition, holds
from bot.engine.state import PRIORITIES, Event, SessionState


@dataclass
class Scratch:
    """The conversation being changed by one step, and the events it produced."""

    state: SessionState
    events: list[Event] = field(default_factory=list)


Check = Callable[[Any], str | None]
Apply = Callable[[Any, Scratch], None]


@dataclass(frozen=True)
class ActionKind:
    """How to check an action's arguments statically and how to apply it."""

    check: Check
    apply: Apply


def check_action(action: Any) -> str | None:
    """Return why an action is malformed, or None when it is fine."""
    if not isinstance(action, dict) or len(action) != 1:
        return f"an action is a mapping with exactly one key, got {action!r}"
    ((name, args),) = action.items()
    kind = ACTIONS.get(name)
    if kind is None:
        return f"unknown action '{name}' (known: {', '.join(sorted(ACTIONS))})"
    return kind.check(args)


def apply_actions(actions: list[dict[str, Any]], scratch: Scratch) -> None:
    """Apply (validated) actions in order."""
    for action in actions:
        ((name, args),) = action.items()
        ACTIONS[name].apply(args, scratch)


def _check_record(args: Any) -> str | None:
    if not isinstance(args, dict) or set(args) != {"id", "value"}:
        return "'record' needs exactly {id: ANSWER_ID, value: VALUE}"
    return None


def _apply_record(args: Any, scratch: Scratch) -> None:
    scratch.state.answers[str(args["id"])] = str(args["value"])


def _check_score(args: Any) -> str | None:
    if isinstance(args, str) and args:
        return None
    if isinstance(args, dict) and "name" in args and set(args) <= {"name", "by"}:
        return None if isinstance(args.get("by", 1), int) else "'score' by must be a whole number"
    return "'score' needs a score name, or {name: SCORE, by: N}"


def _apply_score(args: Any, scratch: Scratch) -> None:
    name, by = (args, 1) if isinstance(args, str) else (str(args["name"]), int(args.get("by", 1)))
    scratch.state.scores[name] = scratch.state.scores.get(name, 0) + by


def _check_priority(args: Any) -> str | None:
    if not isinstance(args, dict) or not {"level", "rule"} <= set(args) <= {
        "level",
        "rule",
        "when",
    }:
        return "'set_priority' needs {level: P1..P4, rule: WHY} and may have when: CONDITION"
    if args["level"] not in PRIORITIES:
        return f"'set_priority' level must be one of {', '.join(PRIORITIES)}"
    if not isinstance(args["rule"], str) or not args["rule"].strip():
        return "'set_priority' rule must say which rule fired"
    if "when" in args:
        return check_condition(args["when"])
    return None


def _apply_priority(args: Any, scratch: Scratch) -> None:
    """Raise the priority (P1 is most urgent) when ``when`` holds; never lower it.

    At the same level the rule set first stays: list rules in the order they should win.
    """
    if "when" in args and not holds(args["when"], scratch.state):
        return
    current = scratch.state.priority
    if current is None or PRIORITIES.index(args["level"]) < PRIORITIES.index(current):
        scratch.state.priority = args["level"]
        scratch.state.rule = args["rule"]


def _check_emit(args: Any) -> str | None:
    if isinstance(args, str) and args.isidentifier():
        return None
    return "'emit' needs an event name such as case_submitted"


def _apply_emit(args: Any, scratch: Scratch) -> None:
    state = scratch.state
    payload = {
        "event_id": f"{state.sid}:{len(state.inputs)}:{args}",
        "flow": state.flow,
        "version": state.version,
        "state": state.state,
        "lang": state.lang,
        "answers": dict(state.answers),
        "scores": dict(state.scores),
        "priority": state.priority,
        "rule": state.rule,
    }
    scratch.events.append(Event(name=args, payload=payload))


def _apply_language(args: Any, scratch: Scratch) -> None:
    scratch.state.lang = args


ACTIONS: Mapping[str, ActionKind] = MappingProxyType(
    {
        "record": ActionKind(_check_record, _apply_record),
        "score": ActionKind(_check_score, _apply_score),
        "set_priority": ActionKind(_check_priority, _apply_priority),
        "emit": ActionKind(_check_emit, _apply_emit),
        "set_language": ActionKind(
            lambda a: (
                None if a in LANGUAGES else f"'set_language' must be one of {', '.join(LANGUAGES)}"
            ),
            _apply_language,
        ),
    }
)
"""Every action by the name flow files use; a fixed table, never added to at run time."""
