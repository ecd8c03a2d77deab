"""A flow drawn by the server as SVG: states as boxes, options and answers as arrows.

A simple layered layout, no JavaScript library: each state sits on the row of its shortest
distance from the start (states nothing reaches on a last row), in outline order within a row.
Arrows go down to a later row, or around on the right when they go back up; a way into another
flow ends on a small box naming that flow. Each box links to the state in the outline
(``#state-<name>``). Colours and sizes come from the page's stylesheet by class.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from bot.engine.compile import menu_keys
from bot.engine.model import (
    AreaState,
    FlowDefinition,
    MenuState,
    QuestionState,
    Target,
    TextState,
    branches,
    parse_target,
)

BOX_W = 168
BOX_H = 46
GAP_X = 28
GAP_Y = 56
MARGIN = 16
TEXT_CHARS = 24


@dataclass(frozen=True)
class Edge:
    """One arrow: from a state, how (``1``, ``yes``, ``*``), to a state or ``flow:``."""

    source: str
    label: str
    target: str


def edges(definition: FlowDefinition) -> list[Edge]:
    """Every way out of every state, one per branch, targets in this flow as state names and
    others as ``flow:`` (so one box stands for each other flow)."""
    found: list[Edge] = []
    for name, state in definition.states.items():
        ways: list[tuple[str, Target]] = []
        if isinstance(state, MenuState):
            ways = [(k, o.next) for k, o in zip(menu_keys(state), state.options, strict=True)]
        elif isinstance(state, QuestionState) and isinstance(state.next, dict):
            ways = list(state.next.items())
        elif isinstance(state, QuestionState | TextState | AreaState):
            ways = [("*", state.next)]  # type: ignore[list-item]
        for label, target in ways:
            for branch in branches(target):
                flow, dest = parse_target(branch.to, definition.flow)
                to = (dest or definition.start) if flow == definition.flow else f"{flow}:"
                label_text = label if branch.when is None else f"{label}?"
                found.append(Edge(name, label_text, to))
    return _merged(found)


def _merged(found: list[Edge]) -> list[Edge]:
    """One arrow per (source, target), its labels joined: ``1,2`` rather than two arrows."""
    labels: dict[tuple[str, str], list[str]] = {}
    for edge in found:
        keep = labels.setdefault((edge.source, edge.target), [])
        if edge.label not in keep:
            keep.append(edge.label)
    return [Edge(s, ",".join(v), t) for (s, t), v in labels.items()]


def layers(definition: FlowDefinition, found: list[Edge]) -> list[list[str]]:
    """States (and other flows' boxes) by row: shortest distance from the start."""
    depth = {definition.start: 0}
    todo = [definition.start]
    following: dict[str, list[str]] = {}
    for edge in found:
        following.setdefault(edge.source, []).append(edge.target)
    while todo:
        current = todo.pop(0)
        for nxt in following.get(current, []):
            if nxt not in depth:
                depth[nxt] = depth[current] + 1
                todo.append(nxt)
    last = max(depth.values(), default=0) + 1
    order = [*definition.states, *dict.fromkeys(e.target for e in found if e.target.endswith(":"))]
    rows: dict[int, list[str]] = {}
    for name in order:
        rows.setdefault(depth.get(name, last), []).append(name)
    return [rows[r] for r in sorted(rows)]


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= TEXT_CHARS else flat[: TEXT_CHARS - 1] + "…"


def svg(
    definition: FlowDefinition, *, title: str = "", issues: frozenset[str] = frozenset()
) -> str:
    """The flow as an SVG document fragment (``<svg>``), states with issues marked."""
    found = edges(definition)
    rows = layers(definition, found)
    widest = max(len(r) for r in rows)
    width = MARGIN * 2 + widest * BOX_W + (widest - 1) * GAP_X + GAP_X * 2
    height = MARGIN * 2 + len(rows) * BOX_H + (len(rows) - 1) * GAP_Y
    where: dict[str, tuple[int, int]] = {}
    for r, row in enumerate(rows):
        offset = (widest - len(row)) * (BOX_W + GAP_X) // 2
        for c, name in enumerate(row):
            where[name] = (MARGIN + offset + c * (BOX_W + GAP_X), MARGIN + r * (BOX_H + GAP_Y))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="flow-graph" viewBox="0 0 {width} '
        f'{height}" width="{width}" height="{height}" role="img" aria-label={quoteattr(title)}>',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" '
        'class="head"/></marker></defs>',
    ]
    parts.extend(_arrow(e, where, width) for e in found if e.source in where and e.target in where)
    for name, (x, y) in where.items():
        parts.append(_box(definition, name, x, y, name in issues))
    parts.append("</svg>")
    return "\n".join(parts)


def _arrow(edge: Edge, where: dict[str, tuple[int, int]], width: int) -> str:
    (x1, y1), (x2, y2) = where[edge.source], where[edge.target]
    label = escape(edge.label)
    if y2 > y1:  # down to a later row
        sx, sy, tx, ty = x1 + BOX_W // 2, y1 + BOX_H, x2 + BOX_W // 2, y2
        path = f"M{sx},{sy} C{sx},{sy + GAP_Y // 2} {tx},{ty - GAP_Y // 2} {tx},{ty}"
        lx, ly = (sx + tx) // 2, (sy + ty) // 2
    elif edge.source == edge.target:  # a screen shown again
        sx, sy = x1 + BOX_W, y1 + BOX_H // 3
        path = f"M{sx},{sy} c24,-18 24,30 0,{BOX_H // 3}"
        lx, ly = sx + 20, sy
    else:  # back up, or along the same row: around on the right
        sx, sy, tx, ty = x1 + BOX_W, y1 + BOX_H // 2, x2 + BOX_W, y2 + BOX_H // 2
        bend = min(width - 4, max(sx, tx) + GAP_X)
        path = f"M{sx},{sy} C{bend},{sy} {bend},{ty} {tx},{ty}"
        lx, ly = bend - 6, (sy + ty) // 2
    return (
        f'<g class="edge"><path d="{path}" marker-end="url(#arrow)"/>'
        f'<text x="{lx + 3}" y="{ly - 3}">{label}</text></g>'
    )


def _box(definition: FlowDefinition, name: str, x: int, y: int, flagged: bool) -> str:
    state = definition.states.get(name)
    if state is None:  # another flow
        flow = name.rstrip(":")
        return (
            f'<g class="other-flow"><rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" '
            f'rx="22"/><text x="{x + BOX_W // 2}" y="{y + BOX_H // 2 + 5}" '
            f'text-anchor="middle">→ {escape(flow)}</text></g>'
        )
    kind = state.type
    classes = (
        f"state {kind}"
        + (" flagged" if flagged else "")
        + (" start" if name == definition.start else "")
    )
    return (
        f'<a href="#state-{escape(name)}" class={quoteattr(classes)}>'
        f"<title>{escape(name)}: {escape(state.text)}</title>"
        f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="4"/>'
        f'<text x="{x + 8}" y="{y + 18}" class="name">{escape(name)} · {kind}</text>'
        f'<text x="{x + 8}" y="{y + 36}">{escape(_short(state.text))}</text></a>'
    )
