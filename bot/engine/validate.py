"""Static validation of flows, shared by ``hotline flows check``, start-up and the editor.

Every issue names the source (file), the state, the language where it matters, and the reason.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, replace

from bot.core.languages import LANGUAGES as LANGUAGES
from bot.engine.actions import check_action
from bot.engine.compile import menu_keys
from bot.engine.conditions import check_condition
from bot.engine.formats import Formats, answer_formats
from bot.engine.loader import FlowIssue, LoadedFlow
from bot.engine.model import (
    ANSWERS,
    RESERVED_KEYS,
    Action,
    AreaState,
    Condition,
    EndState,
    FlowDefinition,
    MenuState,
    QuestionState,
    Target,
    TextState,
    branches,
    parse_target,
)
from bot.engine.runner import render
from bot.engine.state import SessionState, Turn
from bot.i18n import ui
from bot.i18n.translate import Translate

PLACEHOLDERS = {
    "reference": "WWWW-99",
    "hotline_number": "+243 000 000 000",
    "hotline_name": "W" * 20,
    "max_length": "500",
    "status": "W" * 150,
}
"""Placeholders a flow text may use, with a worst-case sample used to measure screens."""

ScreenCheck = Callable[[Turn], str | None]
"""A channel's check of one rendered screen: why it does not fit, or None."""

_KEY = re.compile(r"^[1-9][0-9]?$")


@dataclass(frozen=True)
class Catalog:
    """What validation needs from the translations."""

    tr: Translate
    has: Callable[[str, str], bool]
    """(language, English text) -> is there a finished translation?"""


def validate(
    flows: list[LoadedFlow],
    catalog: Catalog,
    screen_checks: dict[str, ScreenCheck] | None = None,
    formats: Formats | None = None,
    *,
    texts_of: Collection[str] | None = None,
) -> list[FlowIssue]:
    """All problems in a set of flows that reference each other; empty when they may run.

    ``formats`` are the answer formats the flows will run with (default: those without areas
    data, ``answer_formats()``); a text screen naming another is refused. ``texts_of``: the
    flows whose texts and screens are checked (default: all; a draft checked among published
    versions that passed already).
    """
    known = answer_formats() if formats is None else formats
    issues: list[FlowIssue] = []
    by_name: dict[str, LoadedFlow] = {}
    for flow in flows:
        if flow.name in by_name:
            issues.append(
                FlowIssue(
                    flow.source,
                    f"flow '{flow.name}' is also defined in {by_name[flow.name].source}",
                )
            )
        by_name[flow.name] = flow
    recorded = {rid for f in flows for rid in _recorded_ids(f.definition)}
    for flow in flows:
        issues.extend(_check_flow(flow, by_name, recorded, known))
    if issues:
        return issues  # screens of a broken flow would only repeat the same problems
    for flow in flows:
        if texts_of is None or flow.name in texts_of:
            issues.extend(_check_texts(flow, catalog, screen_checks or {}))
    return issues


def _recorded_ids(definition: FlowDefinition) -> Iterator[str]:
    for name, state in definition.states.items():
        if isinstance(state, QuestionState | TextState):
            yield state.record or name
        elif isinstance(state, MenuState) and state.record:
            yield state.record
        actions: list[Action] = list(state.on_enter)
        if isinstance(state, MenuState):
            actions += [a for o in state.options for a in o.do]
        for action in actions:
            if "record" in action and isinstance(action["record"], dict):
                yield str(action["record"].get("id"))


def _edges(
    state: MenuState | QuestionState | TextState | EndState | AreaState,
) -> list[tuple[str, Target]]:
    """(what leads there, target) for each way out of a screen."""
    if isinstance(state, MenuState):
        return [
            (f"option {k}", o.next) for k, o in zip(menu_keys(state), state.options, strict=True)
        ]
    if isinstance(state, QuestionState):
        if isinstance(state.next, dict):
            return [(f"answer {a}", t) for a, t in state.next.items()]
        return [("answer", state.next)]
    if isinstance(state, TextState | AreaState):
        return [("answer", state.next)]
    return []


def _check_flow(
    flow: LoadedFlow, by_name: dict[str, LoadedFlow], recorded: set[str], formats: Formats
) -> Iterator[FlowIssue]:
    definition = flow.definition

    def issue(state: str, reason: str) -> FlowIssue:
        return FlowIssue(flow.source, reason, state=state, line=flow.lines.get(state))

    local_edges: dict[str, set[str]] = {name: set() for name in definition.states}
    leaves_flow: set[str] = set()
    for name, state in definition.states.items():
        edges = _edges(state)
        if not isinstance(state, EndState) and not edges:
            yield issue(name, "dead end: a menu with no options (nothing leads on)")
        if isinstance(state, MenuState):
            yield from (issue(name, r) for r in _key_problems(state))
        if isinstance(state, TextState) and state.format and state.format not in formats:
            yield issue(
                name, f"unknown format '{state.format}' (known: {', '.join(sorted(formats))})"
            )
        if isinstance(state, AreaState):
            yield issue(name, "an area state must be expanded from the areas data by the loader")
        if isinstance(state, QuestionState) and isinstance(state.next, dict):
            missing = [a for a in ANSWERS if a not in state.next]
            if missing:
                yield issue(name, f"dead end: no way forward for answer {', '.join(missing)}")
        for action in _actions(state):
            problem = check_action(action)
            if problem:
                yield issue(name, problem)
        for via, target in edges:
            paths = branches(target)
            if paths and paths[-1].when is not None:
                yield issue(
                    name,
                    f"dead end: {via} has no branch without 'when', so nothing "
                    "leads on when no condition holds",
                )
            for branch in paths:
                if branch.when is not None:
                    yield from (issue(name, r) for r in _condition_problems(branch.when, recorded))
                target_flow, target_state = parse_target(branch.to, flow.name)
                if target_flow == flow.name:
                    dest = target_state or definition.start
                    if dest not in definition.states:
                        yield issue(name, f"{via} goes to unknown state '{dest}'")
                    else:
                        local_edges[name].add(dest)
                    continue
                leaves_flow.add(name)
                other = by_name.get(target_flow)
                if other is None:
                    yield issue(name, f"{via} goes to unknown flow '{target_flow}'")
                elif target_state and target_state not in other.definition.states:
                    yield issue(
                        name,
                        f"{via} goes to unknown state '{target_state}' in flow '{target_flow}'",
                    )
    reachable = _reach(definition.start, local_edges)
    for name in definition.states:
        if name not in reachable:
            yield issue(name, f"unreachable: nothing leads here from '{definition.start}'")
    ends = {n for n, s in definition.states.items() if isinstance(s, EndState)} | leaves_flow
    can_finish = _reach_back(ends, local_edges)
    for name in definition.states:
        if name in reachable and name not in can_finish and local_edges[name]:
            yield issue(name, "a loop with no way out: no end screen can be reached from here")


def _actions(
    state: MenuState | QuestionState | TextState | EndState | AreaState,
) -> Iterator[Action]:
    yield from state.on_enter
    if isinstance(state, MenuState):
        for option in state.options:
            yield from option.do
    elif isinstance(state, QuestionState):
        for actions in state.do.values():
            yield from actions
    elif isinstance(state, TextState):
        yield from state.do


def _key_problems(state: MenuState) -> Iterator[str]:
    seen: set[str] = set()
    for key in menu_keys(state):
        if key in RESERVED_KEYS:
            yield f"option key '{key}' is reserved (0 exit, 00 back, 98 more)"
        elif not _KEY.match(key):
            yield f"option key '{key}' must be a number from 1 to 97"
        if key in seen:
            yield f"duplicate option key '{key}'"
        seen.add(key)


def _condition_problems(condition: Condition, recorded: set[str]) -> Iterator[str]:
    problem = check_condition(condition)
    if problem:
        yield problem
        return
    ((name, args),) = condition.items()
    if name == "answer" and str(args["id"]) not in recorded:
        yield f"condition tests answer '{args['id']}' that no screen records"
    elif name in ("all", "any"):
        for item in args:
            yield from _condition_problems(item, recorded)
    elif name == "not":
        yield from _condition_problems(args, recorded)


def _reach(start: str, edges: dict[str, set[str]]) -> set[str]:
    seen = {start}
    todo = [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _reach_back(goals: set[str], edges: dict[str, set[str]]) -> set[str]:
    reverse: dict[str, set[str]] = {}
    for src, dests in edges.items():
        for dest in dests:
            reverse.setdefault(dest, set()).add(src)
    seen = set(goals)
    todo = list(goals)
    while todo:
        for prev in reverse.get(todo.pop(), ()):
            if prev not in seen:
                seen.add(prev)
                todo.append(prev)
    return seen


def flow_texts(definition: FlowDefinition) -> Iterator[tuple[str, str]]:
    """(state, English text) for every string of a flow that is shown to a person translated."""
    for name, state in definition.states.items():
        yield name, state.text
        if isinstance(state, MenuState):
            for option in state.options:
                if option.translate:
                    yield name, option.label


def placeholder_problem(text: str) -> str | None:
    """Why a text's ``{placeholders}`` cannot be filled, or None."""
    try:
        names = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
    except ValueError as exc:
        return f"broken placeholder in {text!r}: {exc}"
    unknown = [n for n in names if n not in PLACEHOLDERS]
    if unknown:
        return (
            f"unknown placeholder {{{unknown[0]}}} in {text!r} "
            f"(known: {', '.join(sorted(PLACEHOLDERS))})"
        )
    return None


def _check_texts(
    flow: LoadedFlow, catalog: Catalog, screen_checks: dict[str, ScreenCheck]
) -> Iterator[FlowIssue]:
    definition = flow.definition

    def issue(state: str, reason: str, lang: str | None = None) -> FlowIssue:
        return FlowIssue(flow.source, reason, state=state, lang=lang, line=flow.lines.get(state))

    broken: set[str] = set()
    for state, text in flow_texts(definition):
        problem = placeholder_problem(text)
        if problem:
            broken.add(state)
            yield issue(state, problem)
        for lang in LANGUAGES[1:]:
            if not catalog.has(lang, text):
                broken.add(state)
                yield issue(state, f"missing translation of {text!r}", lang)
    for name in definition.states:
        if name in broken:
            continue
        for lang in LANGUAGES:
            turn = render(definition, _worst_case(flow, name, lang), catalog.tr).format(
                PLACEHOLDERS
            )
            hint = ui.HINT_TEXT if turn.expects == "text" else ui.HINT_CHOICE
            hinted = replace(turn, notice=catalog.tr(lang, hint))
            for channel, check in screen_checks.items():
                problem = check(turn)
                if problem:
                    yield issue(name, f"{channel} screen {problem}", lang)
                elif not turn.end and (problem := check(hinted)):
                    yield issue(name, f"{channel} screen with its hint {problem}", lang)
    for state, text in flow_texts(definition):
        if state in broken:
            continue
        for lang in LANGUAGES[1:]:
            if placeholder_problem(catalog.tr(lang, text)) or _names(
                catalog.tr(lang, text)
            ) != _names(text):
                yield issue(state, f"translation of {text!r} has other placeholders", lang)


def _names(text: str) -> set[str]:
    try:
        return {f for _, f, _, _ in string.Formatter().parse(text) if f}
    except ValueError:
        return {"<broken>"}


def _worst_case(flow: LoadedFlow, state: str, lang: str) -> SessionState:
    """A saved state on this screen with 'back' available, so navigation labels are counted."""
    return SessionState(flow.name, flow.version, state, lang, inputs=["1"], origin=[])
