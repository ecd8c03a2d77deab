"""Parse flow texts into typed definitions; refuse bad ones with source, line, state and reason.

Pure: the text and the areas data are given (``bot.content`` reads them from files or, later,
from database versions); a source names where the text came from (a file path today).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import yaml
from pydantic import ValidationError

from bot.engine.areas import AreaDataError, AreaTree, area_states, expand
from bot.engine.model import FlowDefinition


@dataclass(frozen=True)
class FlowIssue:
    """One reason a flow is refused; printed as ``source:line: state 'x' [lang]: reason``."""

    source: str
    """Where the flow came from: a file path (later ``flow@version`` for stored versions)."""
    reason: str
    state: str | None = None
    lang: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        parts = [where]
        if self.state:
            parts.append(f"state '{self.state}'")
        if self.lang:
            parts.append(f"[{self.lang}]")
        return " ".join(parts) + f": {self.reason}"


@dataclass(frozen=True)
class LoadedFlow:
    """A parsed flow with its version (content hash) and where each state starts."""

    definition: FlowDefinition
    source: str
    version: str
    lines: dict[str, int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.definition.flow


class FlowYamlLoader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true/false, so ``yes:``/``no:`` answers and ``on`` stay words."""


FlowYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
FlowYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


class FlowLoadError(Exception):
    """A flow could not be loaded; carries every issue found."""

    def __init__(self, issues: list[FlowIssue]) -> None:
        super().__init__("\n".join(str(i) for i in issues))
        self.issues = issues


def load_text(text: str, source: str, areas: AreaTree | None = None) -> LoadedFlow:
    """Parse and type-check one flow's text; raise FlowLoadError with every issue found.

    ``source`` names the text in issues; ``areas`` is the areas data that ``type: area``
    states are expanded from (their flow's version changes with it).
    """
    try:
        root = yaml.compose(text, Loader=FlowYamlLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise FlowLoadError([FlowIssue(source, f"not valid YAML: {problem}", line=line)]) from None
    if root is None or not isinstance(root, yaml.MappingNode):
        raise FlowLoadError(
            [FlowIssue(source, "a flow file must be a mapping with flow, start, states")]
        )
    duplicates = list(_duplicate_keys(root, source))
    if duplicates:
        raise FlowLoadError(duplicates)
    data = yaml.load(text, Loader=FlowYamlLoader)  # noqa: S506 - a SafeLoader subclass
    try:
        definition = FlowDefinition.model_validate(data)
    except ValidationError as exc:
        raise FlowLoadError(
            [_issue_from_error(err, root, source) for err in exc.errors()]
        ) from None
    lines = _state_lines(root)
    pending = area_states(definition)
    if not pending:
        version = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
        return LoadedFlow(definition, source, version, lines)
    state = pending[0]
    if areas is None:
        raise FlowLoadError(
            [FlowIssue(source, "an area state needs the areas data", state, line=lines.get(state))]
        )
    try:
        definition = expand(definition, areas)
    except AreaDataError as exc:
        raise FlowLoadError(
            [FlowIssue(source, f"{areas.source}: {exc}", state, line=lines.get(state))]
        ) from None
    for name in definition.states:
        if name not in lines:  # a generated menu points at the area state that made it
            lines[name] = lines.get(name.split("__", 1)[0], 0)
    version = hashlib.sha256(f"{text}\n{areas.digest}".encode()).hexdigest()[:12]
    return LoadedFlow(definition, source, version, lines)


def _duplicate_keys(node: yaml.Node, source: str) -> Iterator[FlowIssue]:
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key, value in node.value:
            if key.value in seen:
                yield FlowIssue(
                    source, f"'{key.value}' is defined twice", line=key.start_mark.line + 1
                )
            seen.add(key.value)
            yield from _duplicate_keys(value, source)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _duplicate_keys(item, source)


def _state_lines(root: yaml.MappingNode) -> dict[str, int]:
    states = _child(root, "states")
    if not isinstance(states, yaml.MappingNode):
        return {}
    return {str(k.value): k.start_mark.line + 1 for k, _ in states.value}


def _child(node: yaml.Node | None, key: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if str(k.value) == str(key):
                return cast(yaml.Node, v)
    elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
        return cast(yaml.Node, node.value[key])
    return None


def _issue_from_error(err: Any, root: yaml.Node, source: str) -> FlowIssue:
    loc = tuple(err.get("loc", ()))
    state = str(loc[1]) if len(loc) > 1 and loc[0] == "states" else None
    node: yaml.Node | None = root
    line = None
    for part in loc:
        child = _child(node, part)
        if child is None:
            continue  # a union tag such as 'menu' in the error path, not in the file
        node = child
        line = child.start_mark.line + 1
    field_path = ".".join(str(p) for p in loc[2:] if p not in ("menu", "question", "text", "end"))
    if state is not None and loc[2:3] and loc[2] in ("menu", "question", "text", "end"):
        field_path = ".".join(str(p) for p in loc[3:])
    where = f"{field_path}: " if field_path else ("" if state else f"{'.'.join(map(str, loc))}: ")
    return FlowIssue(source, where + str(err.get("msg", "invalid")), state=state, line=line)
