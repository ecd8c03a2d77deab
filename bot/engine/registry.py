"""The set of compiled flows a process runs: the current version of each, and older ones in use,
with the answer formats they run with."""

from __future__ import annotations

from collections.abc import Iterable

from bot.engine.compile import CompiledFlow
from bot.engine.formats import Formats, answer_formats


class FlowRegistry:
    """Flows by name and version; running sessions finish on the version they started."""

    def __init__(self, flows: Iterable[CompiledFlow] = (), formats: Formats | None = None) -> None:
        """``formats``: the answer formats the flows were validated with (default: those
        without areas data, ``answer_formats()``)."""
        self.formats: Formats = answer_formats() if formats is None else formats
        self._current: dict[str, CompiledFlow] = {}
        self._versions: dict[tuple[str, str], CompiledFlow] = {}
        for flow in flows:
            self.add(flow)

    def add(self, flow: CompiledFlow) -> None:
        """Make ``flow`` the current version of its name, keeping older versions reachable."""
        self._current[flow.name] = flow
        self._versions[(flow.name, flow.version)] = flow

    def get(self, name: str, version: str | None = None) -> CompiledFlow | None:
        """The given version of a flow, or its current one when version is None."""
        if version is None:
            return self._current.get(name)
        return self._versions.get((name, version))

    def names(self) -> list[str]:
        """Names of the flows, sorted."""
        return sorted(self._current)

    def current(self) -> list[CompiledFlow]:
        """The current version of every flow."""
        return [self._current[n] for n in self.names()]

    def __contains__(self, name: object) -> bool:
        return name in self._current
