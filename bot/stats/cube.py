"""Counts over several dimensions with every subtotal, suppressed together as one set of tables.

A dimension is a small tree: leaves (a province, a type, a month) under parents (all
provinces; a quarter, then the year). A ``Cube`` holds the count of every combination of
nodes, one per dimension, and the lines (``bot.stats.suppression.Line``) that tie each
parent to its children along each dimension. Cubes that share a margin (every table shares
"all cases per month") are suppressed *together* (``suppress_all``), so a cell hidden in one
table is hidden wherever it appears and no table gives away what another hides.

A key names a cell by its non-root nodes only, sorted by dimension, so the same figure has
the same key in every cube: ``(("time", "2026-03"),)`` is all cases of March 2026 in any cube.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import product

from bot.stats.suppression import Count, Line, shown, suppress

ROOT = "*"
"""The node of a dimension that stands for all of it (the total)."""

Key = tuple[tuple[str, str], ...]
"""A cell: (dimension, node) for each dimension not at its root, in the cube's order."""


@dataclass(frozen=True)
class Dimension:
    """A named tree of nodes: each node's parent (the root has none)."""

    name: str
    parents: Mapping[str, str]
    """child -> parent, for every node but the root."""

    @classmethod
    def flat(cls, name: str, leaves: Iterable[str]) -> Dimension:
        """Leaves directly under the total."""
        return cls(name, {leaf: ROOT for leaf in leaves})

    def children(self, node: str) -> list[str]:
        """A node's children, in the order they were given."""
        return [child for child, parent in self.parents.items() if parent == node]

    def nodes(self) -> list[str]:
        """Every node, the root first."""
        return [ROOT, *self.parents]

    def leaves(self) -> list[str]:
        """The nodes without children, in order."""
        inner = set(self.parents.values())
        return [node for node in self.parents if node not in inner]

    def ancestors(self, leaf: str) -> list[str]:
        """The leaf and every node above it, up to the root."""
        found = [leaf]
        while found[-1] != ROOT:
            found.append(self.parents[found[-1]])
        return found


def key_of(dims: Sequence[Dimension], nodes: Sequence[str]) -> Key:
    """The key of one combination of nodes (roots left out), by dimension name."""
    return tuple(sorted((d.name, n) for d, n in zip(dims, nodes, strict=True) if n != ROOT))


@dataclass
class Cube:
    """The counts of every combination of nodes of ``dims``, from counts of leaves."""

    dims: tuple[Dimension, ...]
    values: dict[Key, int] = field(default_factory=dict)

    @classmethod
    def of(cls, dims: Sequence[Dimension], leaf_counts: Mapping[tuple[str, ...], int]) -> Cube:
        """Add every leaf count (a tuple of leaves, one per dimension) into every subtotal."""
        dims = tuple(dims)
        values: Counter[Key] = Counter()
        for combo in product(*(d.nodes() for d in dims)):
            values[key_of(dims, combo)] = 0
        for leaves, count in leaf_counts.items():
            above = (d.ancestors(leaf) for d, leaf in zip(dims, leaves, strict=True))
            for combo in product(*above):
                values[key_of(dims, combo)] += count
        return cls(dims, dict(values))

    def lines(self) -> Iterator[Line[Key]]:
        """Each parent and its children, along each dimension, for every node of the others."""
        for i, dim in enumerate(self.dims):
            others = [d.nodes() for d in self.dims]
            inner = [node for node in dim.nodes() if dim.children(node)]
            for parent in inner:
                children = dim.children(parent)
                others[i] = [parent]
                for combo in product(*others):
                    nodes = list(combo)
                    members = []
                    for child in children:
                        nodes[i] = child
                        members.append(key_of(self.dims, nodes))
                    yield Line(tuple(members), key_of(self.dims, combo))


@dataclass(frozen=True)
class Suppressed:
    """Counts of one or more cubes after suppression: ``count(key)`` is what may be shown."""

    values: Mapping[Key, int]
    hidden: frozenset[Key]

    def count(self, key: Key) -> Count:
        """The figure for ``key`` as it may be shown (0 for a combination never counted)."""
        value = self.values.get(key, 0)
        return shown(value, key in self.hidden)

    def at(self, **nodes: str) -> Count:
        """The figure for dimension=node pairs (a dimension left out: its total)."""
        return self.count(tuple(sorted((n, node) for n, node in nodes.items() if node != ROOT)))


def suppress_all(cubes: Iterable[Cube]) -> Suppressed:
    """Suppress the cubes together: a key shared by two cubes is one figure, hidden in both."""
    values: dict[Key, int] = {}
    lines: list[Line[Key]] = []
    for cube in cubes:
        for key, value in cube.values.items():
            if values.setdefault(key, value) != value:
                raise ValueError(f"two cubes disagree on {key}")
        lines.extend(cube.lines())
    return Suppressed(values, suppress(values, lines))
