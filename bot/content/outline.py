"""Structured edits of a draft's YAML text: states and options added, removed, reordered,
texts changed, targets chosen from a list — for admins who never write YAML.

How: the text is loaded into a plain mapping (key order kept), the mapping is changed, and the
YAML is written again in one consistent style, the style of ``flows/*.yaml``: a state per block
with a blank line between, one option per line in flow style. The comment lines at the top of
the file are kept; comments inside the states are not (PyYAML does not keep them, and ruamel is
not in the stack) — the source view of the editor still lets anyone edit the text itself.
Anchors (``&how``/``*how``) are written out in full. Each edit is a pure function of the text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

from bot.engine.loader import FlowYamlLoader
from bot.engine.model import ANSWERS

STATE_TYPES = ("menu", "question", "text", "end")
"""The kinds of screen an admin may add (area states are written in the source view)."""
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}")
WIDTH = 10_000
"""No line folding: one option per line, whatever its length."""


class OutlineError(ValueError):
    """An edit that cannot be made (unknown state, a name taken...); the text is unchanged."""


class _Dumper(yaml.SafeDumper):
    """Safe YAML out; strings YAML 1.1 would read as booleans (yes, no, on) are quoted."""


def load(source: str) -> dict[str, Any]:
    """The flow's text as a plain mapping (OutlineError when it is not a flow mapping)."""
    try:
        data = yaml.load(source, Loader=FlowYamlLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise OutlineError(f"not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("states"), dict):
        raise OutlineError("a flow is a mapping with flow, start and states")
    return data


def header(source: str) -> str:
    """The comment lines at the top of a flow's text (kept when it is written again)."""
    lines = []
    for line in source.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line)
    return "".join(f"{line}\n" for line in lines)


def _flow(value: Any) -> str:
    """A value on one line, in flow style."""
    text: str = yaml.dump(
        value,
        Dumper=_Dumper,
        default_flow_style=True,
        sort_keys=False,
        width=WIDTH,
        allow_unicode=True,
    )
    return text.strip().removesuffix("...").strip()


def _block(value: dict[str, Any], indent: int) -> list[str]:
    """A mapping as one ``key: value`` line per key, each value on its line in flow style."""
    return [f"{' ' * indent}{_flow(key)}: {_flow(item)}" for key, item in value.items()]


def dump(data: dict[str, Any], top: str = "") -> str:
    """Write a flow mapping in the house style, with ``top`` (comment lines) first."""
    lines = [top.rstrip("\n")] if top.strip() else []
    for key, value in data.items():
        if key != "states":
            lines.extend(_block({key: value}, 0))
            continue
        lines.append("states:")
        for number, (name, state) in enumerate(value.items()):
            if number:
                lines.append("")
            lines.append(f"  {_flow(name) if not NAME.fullmatch(str(name)) else name}:")
            if not isinstance(state, dict):
                lines.extend(_block({"_": state}, 4)[0:1])
                continue
            rest = {k: v for k, v in state.items() if k != "options"}
            if rest:
                lines.extend(_block(rest, 4))
            if "options" in state:
                options = state["options"]
                if isinstance(options, list) and options:
                    lines.append("    options:")
                    lines.extend(f"      - {_flow(o)}" for o in options)
                else:
                    lines.extend(_block({"options": options}, 4))
    return "\n".join(lines) + "\n"


def edit(source: str, change: Callable[[dict[str, Any]], None]) -> str:
    """Apply ``change`` to the loaded mapping and write the text again (header kept)."""
    data = load(source)
    change(data)
    return dump(data, header(source))


def _state(data: dict[str, Any], name: str) -> dict[str, Any]:
    states: dict[str, Any] = data["states"]
    state = states.get(name)
    if not isinstance(state, dict):
        raise OutlineError(f"no state '{name}'")
    return state


def _options(data: dict[str, Any], name: str) -> list[Any]:
    options = _state(data, name).get("options")
    if not isinstance(options, list):
        raise OutlineError(f"state '{name}' has no options")
    return options


def _option(data: dict[str, Any], name: str, index: int) -> dict[str, Any]:
    options = _options(data, name)
    if not 0 <= index < len(options) or not isinstance(options[index], dict):
        raise OutlineError(f"state '{name}' has no option {index + 1}")
    option: dict[str, Any] = options[index]
    return option


# --- texts -----------------------------------------------------------------------------------


def set_text(source: str, state: str, text: str) -> str:
    """Change a state's text (English, the source of its translations)."""
    return edit(source, lambda d: _state(d, state).__setitem__("text", _clean(text)))


def set_label(source: str, state: str, index: int, label: str) -> str:
    """Change an option's label."""
    return edit(source, lambda d: _option(d, state, index).__setitem__("label", _clean(label)))


def _clean(text: str) -> str:
    """A text as stored: line breaks the browser sent normalised, ends trimmed, never empty."""
    cleaned = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not cleaned:
        raise OutlineError("a text cannot be empty")
    return cleaned


# --- targets ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Way:
    """One way out of a screen an admin can point elsewhere: ``option:2``, ``answer:yes``,
    ``next``; with ``branch`` for one branch of a conditional target."""

    where: str
    branch: int | None = None


def _set_in(holder: dict[str, Any], key: str, target: str, branch: int | None) -> None:
    current = holder.get(key)
    if branch is None:
        holder[key] = target
        return
    if not isinstance(current, list) or not 0 <= branch < len(current):
        raise OutlineError(f"no branch {branch + 1} there")
    current[branch]["to"] = target


def set_target(source: str, state: str, way: Way, target: str) -> str:
    """Point one way out of a screen at ``target`` (``state``, ``flow:`` or ``flow:state``)."""
    if not target or not re.fullmatch(r"[A-Za-z0-9_]*(:[A-Za-z0-9_]*)?", target):
        raise OutlineError(f"not a target: {target!r}")

    def change(data: dict[str, Any]) -> None:
        kind, _, which = way.where.partition(":")
        node = _state(data, state)
        if kind == "option":
            _set_in(_option(data, state, int(which) - 1), "next", target, way.branch)
        elif kind == "answer" and which in ANSWERS:
            nxt = node.get("next")
            if not isinstance(nxt, dict):  # one target for every answer: split it per answer
                nxt = {answer: nxt for answer in ANSWERS}
                node["next"] = nxt
            _set_in(nxt, which, target, way.branch)
        elif kind == "next" and "next" in node:
            _set_in(node, "next", target, way.branch)
        else:
            raise OutlineError(f"state '{state}' has no way out called '{way.where}'")

    return edit(source, change)


# --- states ----------------------------------------------------------------------------------


def new_state(kind: str, text: str, target: str) -> dict[str, Any]:
    """A screen of ``kind`` with ``text``, leading to ``target`` (an end screen leads nowhere)."""
    if kind == "menu":
        return {"type": "menu", "text": text, "options": [{"label": "OK", "next": target}]}
    if kind in ("question", "text"):
        return {"type": kind, "text": text, "next": target}
    if kind == "end":
        return {"type": "end", "text": text}
    raise OutlineError(f"unknown kind of screen '{kind}'")


def add_state(source: str, name: str, kind: str, text: str, after: str | None = None) -> str:
    """Add a screen after ``after`` (at the end when None); it leads where ``after`` is."""
    if not NAME.fullmatch(name):
        raise OutlineError(
            f"'{name}' cannot name a state: a letter, then letters, digits or _ (40 at most)"
        )

    def change(data: dict[str, Any]) -> None:
        states: dict[str, Any] = data["states"]
        if name in states:
            raise OutlineError(f"there is already a state '{name}'")
        if after is not None and after not in states:
            raise OutlineError(f"no state '{after}'")
        made = new_state(kind, _clean(text), after or str(data.get("start", name)))
        items = list(states.items())
        at = len(items) if after is None else [n for n, _ in items].index(after) + 1
        items.insert(at, (name, made))
        data["states"] = dict(items)

    return edit(source, change)


def leading_to(data: dict[str, Any], name: str) -> list[str]:
    """The states with a way out to ``name`` in this flow (other than itself)."""
    found = []
    for other, state in data["states"].items():
        if other != name and name in _targets(state):
            found.append(str(other))
    return found


def _targets(node: Any) -> set[str]:
    """Every state named as a local target anywhere under a state (next, to)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("next", "to"):
                found |= _named(value)
            if key in ("options", "next", "to") or isinstance(value, list | dict):
                found |= _targets(value)
    elif isinstance(node, list):
        for item in node:
            found |= _targets(item)
    return found


def _named(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value} if ":" not in value else set()
    if isinstance(value, dict):
        return {v for v in value.values() if isinstance(v, str) and ":" not in v}
    return set()


def remove_state(source: str, name: str) -> str:
    """Remove a screen nothing leads to (its start cannot be removed)."""

    def change(data: dict[str, Any]) -> None:
        _state(data, name)
        if data.get("start") == name:
            raise OutlineError(f"'{name}' is where the flow starts: it cannot be removed")
        sources = leading_to(data, name)
        if sources:
            raise OutlineError(
                f"'{name}' cannot be removed while {', '.join(sources)} lead(s) there: "
                "point them elsewhere first"
            )
        del data["states"][name]

    return edit(source, change)


def move_state(source: str, name: str, delta: int) -> str:
    """Move a screen up (delta -1) or down (+1) in the outline (where it leads is unchanged)."""

    def change(data: dict[str, Any]) -> None:
        _state(data, name)
        items = list(data["states"].items())
        at = [n for n, _ in items].index(name)
        to = max(0, min(len(items) - 1, at + delta))
        items.insert(to, items.pop(at))
        data["states"] = dict(items)

    return edit(source, change)


# --- options ---------------------------------------------------------------------------------


def add_option(source: str, state: str, label: str, target: str) -> str:
    """Add an option at the end of a menu."""

    def change(data: dict[str, Any]) -> None:
        _options(data, state).append({"label": _clean(label), "next": target})

    return edit(source, change)


def remove_option(source: str, state: str, index: int) -> str:
    """Remove an option (a menu keeps at least one)."""

    def change(data: dict[str, Any]) -> None:
        options = _options(data, state)
        _option(data, state, index)
        if len(options) == 1:
            raise OutlineError(f"state '{state}' needs at least one option")
        options.pop(index)

    return edit(source, change)


def move_option(source: str, state: str, index: int, delta: int) -> str:
    """Move an option up or down; the numbers people type follow the order (unless keyed)."""

    def change(data: dict[str, Any]) -> None:
        options = _options(data, state)
        _option(data, state, index)
        to = max(0, min(len(options) - 1, index + delta))
        options.insert(to, options.pop(index))

    return edit(source, change)


def targets(data: dict[str, Any], starts: dict[str, str]) -> list[str]:
    """What a way out may be pointed at: this flow's states, then each other flow (its start,
    ``flow:``), from ``starts`` (flow name -> its title)."""
    own = str(data.get("flow", ""))
    return [*map(str, data["states"]), *(f"{f}:" for f in starts if f != own)]
