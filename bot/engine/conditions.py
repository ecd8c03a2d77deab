"""Conditions on branches, by the name used in flow files (a fixed table).

Each condition is a one-key mapping, e.g. ``{answer: {id: U1, is: yes}}``,
``{score: {name: indicators, at_least: 2}}``, ``{all: [...]}``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from bot.core.languages import LANGUAGES
from bot.engine.state import PRIORITIES, SessionState

CHANNELS = ("ussd", "sms", "telegram")
"""The channels a ``channel`` condition may name."""

Check = Callable[[Any], str | None]
Test = Callable[[Any, SessionState], bool]


@dataclass(frozen=True)
class ConditionKind:
    """How to check a condition's arguments statically and how to evaluate it."""

    check: Check
    test: Test


def check_condition(condition: Any) -> str | None:
    """Return why a condition is malformed, or None when it is fine."""
    if not isinstance(condition, dict) or len(condition) != 1:
        return f"a condition is a mapping with exactly one key, got {condition!r}"
    ((name, args),) = condition.items()
    kind = CONDITIONS.get(name)
    if kind is None:
        return f"unknown condition '{name}' (known: {', '.join(sorted(CONDITIONS))})"
    return kind.check(args)


def holds(condition: dict[str, Any], state: SessionState) -> bool:
    """Evaluate a (validated) condition against the conversation so far."""
    ((name, args),) = condition.items()
    return CONDITIONS[name].test(args, state)


def _values(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _check_answer(args: Any) -> str | None:
    if not isinstance(args, dict) or set(args) != {"id", "is"}:
        return "'answer' needs exactly {id: ANSWER_ID, is: VALUE or [VALUES]}"
    return None


def _check_score(args: Any) -> str | None:
    if not isinstance(args, dict) or "name" not in args:
        return "'score' needs {name: SCORE, at_least: N and/or at_most: N}"
    bounds = set(args) - {"name"}
    if not bounds or not bounds <= {"at_least", "at_most"}:
        return "'score' needs at_least and/or at_most"
    if not all(isinstance(args[b], int) for b in bounds):
        return "'score' bounds must be whole numbers"
    return None


def _test_score(args: Any, state: SessionState) -> bool:
    value = state.scores.get(str(args["name"]), 0)
    return bool(value >= args.get("at_least", value) and value <= args.get("at_most", value))


def _check_priority(args: Any) -> str | None:
    if args not in PRIORITIES:
        return f"'priority' must be one of {', '.join(PRIORITIES)}"
    return None


def _check_list(args: Any) -> str | None:
    if not isinstance(args, list) or not args:
        return "'all' and 'any' take a non-empty list of conditions"
    for item in args:
        problem = check_condition(item)
        if problem:
            return problem
    return None


CONDITIONS: Mapping[str, ConditionKind] = MappingProxyType(
    {
        "answer": ConditionKind(
            _check_answer,
            lambda a, s: s.answers.get(str(a["id"])) in _values(a["is"]),
        ),
        "score": ConditionKind(_check_score, _test_score),
        "priority": ConditionKind(_check_priority, lambda a, s: s.priority == a),
        "language": ConditionKind(
            lambda a: None if a in LANGUAGES else "'language' must be en, fr, ln or st",
            lambda a, s: s.lang == a,
        ),
        "channel": ConditionKind(
            lambda a: None if a in CHANNELS else f"'channel' must be {', '.join(CHANNELS)}",
            lambda a, s: s.channel == a,
        ),
        "all": ConditionKind(_check_list, lambda a, s: all(holds(c, s) for c in a)),
        "any": ConditionKind(_check_list, lambda a, s: any(holds(c, s) for c in a)),
        "not": ConditionKind(check_condition, lambda a, s: not holds(a, s)),
    }
)
"""Every condition by the name flow files use; a fixed table, never added to at run time."""
