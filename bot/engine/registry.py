"""The set of compiled flows a process runs: the published version of each, and older ones in
use, each with its own translations and the answer formats they run with.

A publish replaces the published set whole (one reference: what a step reads is one set or the
other, never half of each); a version a running conversation needs stays reachable, the latest
``keep`` of them, so a conversation finishes on the version it started.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bot.engine.compile import CompiledFlow
from bot.engine.formats import Formats, answer_formats
from bot.i18n.translate import Translate

Texts = Mapping[str, Mapping[str, str]]
"""A flow version's own translations: language -> English source text -> text."""

KEEP = 64
"""Older flow versions kept compiled for the conversations still running on them."""


@dataclass(frozen=True)
class _Version:
    flow: CompiledFlow
    texts: Texts = field(default_factory=dict)


class FlowRegistry:
    """Flows by name and version; running sessions finish on the version they started."""

    def __init__(
        self,
        flows: Iterable[CompiledFlow] = (),
        formats: Formats | None = None,
        *,
        keep: int = KEEP,
    ) -> None:
        """``formats``: the answer formats the flows were validated with (default: those
        without areas data, ``answer_formats()``); ``keep``: how many versions that are no
        longer published stay compiled (the least recently used go first)."""
        self.formats: Formats = answer_formats() if formats is None else formats
        self.keep = keep
        self._current: dict[str, _Version] = {}
        self._older: OrderedDict[tuple[str, str], _Version] = OrderedDict()
        for flow in flows:
            self.add(flow)

    def add(self, flow: CompiledFlow, texts: Texts | None = None) -> None:
        """Make ``flow`` the current version of its name, keeping older versions reachable."""
        self.publish([(flow, texts)])

    def publish(self, flows: Iterable[tuple[CompiledFlow, Texts | None]]) -> None:
        """Make these the current versions of their names in one swap; the versions they
        replace stay reachable for the conversations running on them."""
        current = dict(self._current)
        for flow, texts in flows:
            current[flow.name] = _Version(flow, texts or {})
        published = {(v.flow.name, v.flow.version) for v in current.values()}
        for version in self._current.values():
            key = (version.flow.name, version.flow.version)
            if key not in published:
                self._remember(key, version)
        for key in published:
            self._older.pop(key, None)
        self._current = current  # the one reference a step reads the published set through

    def keep_version(self, flow: CompiledFlow, texts: Texts | None = None) -> None:
        """Keep a version that is not published (loaded for a conversation that runs on it)."""
        key = (flow.name, flow.version)
        if self._published(*key) is None:
            self._remember(key, _Version(flow, texts or {}))

    def get(self, name: str, version: str | None = None) -> CompiledFlow | None:
        """The given version of a flow, or its current one when version is None."""
        found = self._find(name, version)
        return found.flow if found is not None else None

    def texts(self, name: str, version: str) -> Texts | None:
        """A version's own translations ({} when it has none), or None when not loaded."""
        found = self._find(name, version)
        return found.texts if found is not None else None

    def translate(self, name: str, version: str, tr: Translate) -> Translate:
        """``tr`` with a flow version's own translations first, so a conversation shows its
        version's wording in every language; anything else (the words around a flow's text)
        is ``tr``'s."""
        found = self._find(name, version)
        texts = found.texts if found is not None else None
        if not texts:
            return tr

        def version_tr(lang: str, msgid: str) -> str:
            text = texts.get(lang, {}).get(msgid)
            return text if text else tr(lang, msgid)

        return version_tr

    def names(self) -> list[str]:
        """Names of the flows, sorted."""
        return sorted(self._current)

    def current(self) -> list[CompiledFlow]:
        """The current version of every flow."""
        current = self._current
        return [current[n].flow for n in sorted(current)]

    def copy(self) -> FlowRegistry:
        """A registry of its own with the same compiled flows (nothing compiled again): what
        one publishes the other does not see."""
        made = FlowRegistry(formats=self.formats, keep=self.keep)
        made._current = dict(self._current)
        made._older = OrderedDict(self._older)
        return made

    def __contains__(self, name: object) -> bool:
        return name in self._current

    def _published(self, name: str, version: str) -> _Version | None:
        found = self._current.get(name)
        return found if found is not None and found.flow.version == version else None

    def _find(self, name: str, version: str | None) -> _Version | None:
        if version is None:
            return self._current.get(name)
        found = self._published(name, version)
        if found is None:
            found = self._older.get((name, version))
            if found is not None:
                self._older.move_to_end((name, version))
        return found

    def _remember(self, key: tuple[str, str], version: _Version) -> None:
        self._older[key] = version
        self._older.move_to_end(key)
        while len(self._older) > self.keep:
            self._older.popitem(last=False)
