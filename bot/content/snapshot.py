"""The published content a process serves, swapped whole when a new version is published.

A process starts on the files' content (validated), then serves the set published in the
database: the latest version of each flow, compiled once, with that version's own translations
(the words around the flows, e.g. "Back", stay the files' catalogs). A publish elsewhere is
followed by ``refresh`` (``bot.content.signal`` says when); the registry swaps the published set
in one reference, so a step reads one set or the other. A conversation saved on a version this
process lacks gets it loaded by digest (compiled once, kept among the registry's older
versions): it finishes on the version it started on, wording and translations alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, TypeVar

from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.content import store
from bot.content.files import Content
from bot.engine.compile import CompiledFlow, compile_flow
from bot.engine.loader import FlowLoadError, load_text
from bot.engine.registry import Texts

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class StoredFlow:
    """One stored flow version as the runtime needs it: its YAML, digest and translations."""

    flow: str
    number: int
    digest: str
    source: str
    texts: Texts = field(default_factory=dict)


class VersionSource(Protocol):
    """Where published versions are read from (the database; a fake in tests). Blocking: the
    snapshot calls it in a thread."""

    def generation(self) -> int:
        """The publish counter: it moves on with every publish and rollback."""
        ...

    def published(self) -> list[StoredFlow]:
        """The latest version of every flow that has one."""
        ...

    def by_digest(self, flow: str, digest: str) -> StoredFlow | None:
        """A version of a flow by its digest, or None when no version has it."""
        ...


def texts_of(translations: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, str]]:
    """A version's translations (language -> msgid -> entry with a ``text``, and a ``finished``
    that says whether a person may be shown it) as language -> msgid -> text."""
    return {
        lang: {msgid: e.text for msgid, e in entries.items() if e.finished}
        for lang, entries in translations.items()
    }


class Snapshot:
    """The process's content: the files' at start, then what is published, kept current."""

    def __init__(
        self,
        base: Content,
        source: VersionSource | None,
        *,
        digests: Mapping[str, str] | None = None,
    ) -> None:
        """``base``: the validated files' content (its registry is copied, never changed);
        ``digests``: the digest each of its flows is stored under (the seed's version 1), so
        that a stored version that is the files' is not compiled again, and conversations save
        the digest every process can load."""
        self.source = source
        self.generation: int | None = None
        self._lock = asyncio.Lock()
        self._loading: dict[tuple[str, str], asyncio.Future[None]] = {}
        fetch = self._fetch if source is not None else None
        registry = base.registry.copy()
        named = [
            (_named(flow, digests[flow.name]), None)
            for flow in registry.current()
            if digests and digests.get(flow.name, flow.version) != flow.version
        ]
        registry.publish(named)
        self._content = replace(base, registry=registry, fetch=fetch)

    def current(self) -> Content:
        """What this process serves now (one object for good; its registry follows publishes)."""
        return self._content

    async def refresh(self) -> bool:
        """Serve the published set if it moved on since the last look; True when it did."""
        if self.source is None:
            return False
        source = self.source
        async with self._lock:
            generation = await _blocking(source.generation)
            if generation == self.generation:
                return False
            stored = await _blocking(source.published)
            registry = self._content.registry
            new = [s for s in stored if registry.get(s.flow, s.digest) is None]
            compiled = dict(await _blocking(self._compile_all, new))
            flows: list[tuple[CompiledFlow, Texts | None]] = []
            for one in stored:
                flow = compiled.get((one.flow, one.digest)) or registry.get(one.flow, one.digest)
                if flow is not None:
                    flows.append((flow, self._texts(one)))
            registry.publish(flows)
            self.generation = generation
            log.info(
                "content generation %d: %s",
                generation,
                ", ".join(f"{s.flow} v{s.number}" for s in stored) or "the files",
            )
            return True

    async def _fetch(self, wanted: list[tuple[str, str]]) -> None:
        """Load versions this process lacks (one load per version, however many ask)."""
        waits: list[asyncio.Future[None]] = []
        for key in wanted:
            pending = self._loading.get(key)
            if pending is None:
                pending = self._loading[key] = asyncio.ensure_future(self._load(*key))
                pending.add_done_callback(self._loaded(key))
            waits.append(pending)
        await asyncio.gather(*(asyncio.shield(w) for w in waits))  # a caller gone: not others'

    def _loaded(self, key: tuple[str, str]) -> Callable[[asyncio.Future[None]], None]:
        def forget(_: asyncio.Future[None]) -> None:
            self._loading.pop(key, None)

        return forget

    async def _load(self, flow: str, digest: str) -> None:
        assert self.source is not None
        registry = self._content.registry
        if registry.get(flow, digest) is not None:
            return
        try:
            stored = await _blocking(self.source.by_digest, flow, digest)
            if stored is None:
                log.warning("no stored version %s of flow %s: it starts again", digest, flow)
                return
            compiled = dict(await _blocking(self._compile_all, [stored]))
        except Exception:  # a database away: the conversation starts again, nothing breaks
            log.exception("could not load version %s of flow %s", digest, flow)
            return
        made = compiled.get((flow, digest))
        if made is not None:
            registry.keep_version(made, self._texts(stored))
            log.info(
                "loaded %s v%d (%s) for a conversation running on it", flow, stored.number, digest
            )

    def _compile_all(self, stored: list[StoredFlow]) -> list[tuple[tuple[str, str], CompiledFlow]]:
        """Compile stored versions (validated when published: not again), keyed as stored."""
        made: list[tuple[tuple[str, str], CompiledFlow]] = []
        for one in stored:
            try:
                loaded = load_text(one.source, f"{one.flow}@{one.number}", self._content.areas)
            except FlowLoadError as exc:
                log.error("stored %s v%d does not load: %s", one.flow, one.number, exc)
                continue
            # The stored digest names the version (its source, areas data and wording), as the
            # sessions that run on it saved it.
            loaded = replace(loaded, version=one.digest)
            made.append(((one.flow, one.digest), compile_flow(loaded)))
        return made

    def _texts(self, stored: StoredFlow) -> Texts:
        """A version's translations, but where a toll-free deployment says "free" instead
        (``Catalogs.variants``) the files' catalogs keep their say."""
        variants = self._content.catalogs.variants
        if not variants:
            return stored.texts
        return {
            lang: {m: t for m, t in entries.items() if m not in variants}
            for lang, entries in stored.texts.items()
        }


class DatabaseVersions:
    """The versions stored in the database (``bot.content.store``), as the snapshot reads them."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def generation(self) -> int:
        """The publish counter (one row read by its key: cheap enough to ask every second)."""
        with Session(self.engine) as session:
            return store.generation(session)

    def published(self) -> list[StoredFlow]:
        """The latest version of every flow."""
        with Session(self.engine) as session:
            return [_stored(v) for v in store.published(session)]

    def by_digest(self, flow: str, digest: str) -> StoredFlow | None:
        """A version by the digest a session saved."""
        with Session(self.engine) as session:
            found = store.version_by_digest(session, flow, digest)
        return _stored(found) if found is not None else None


async def _blocking(work: Callable[..., T], *args: Any) -> T:
    """Run blocking work in a thread; cancelled (the app stopping), wait for the thread to
    finish first, so no database connection is still out when the engine is disposed."""
    running = asyncio.ensure_future(asyncio.to_thread(work, *args))
    try:
        return await asyncio.shield(running)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await running
        raise


def _named(flow: CompiledFlow, digest: str) -> CompiledFlow:
    """The same compiled flow (its machine shared) under the digest it is stored under."""
    return replace(flow, loaded=replace(flow.loaded, version=digest))


def _stored(version: store.Version) -> StoredFlow:
    return StoredFlow(
        version.flow, version.number, version.digest, version.source, texts_of(version.translations)
    )


def stored_versions(engine: Engine) -> DatabaseVersions | None:
    """The database's versions, or None when it has no tables for them (not migrated)."""
    return DatabaseVersions(engine) if inspect(engine).has_table("content_signal") else None
