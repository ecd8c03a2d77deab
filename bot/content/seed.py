"""The files in flows/ and locales/ become version 1 of every flow not yet stored (first start).

Idempotent, and safe when two processes start at once: the versions, drafts and signal are
added in one transaction; the loser of a race finds them committed and adds nothing. A flow
already stored is never changed by the files again (``hotline flows import`` does that, as a
draft).
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, select

from bot.content.assemble import digest_of, load_base, parse
from bot.content.folder import FileFlow, read_folder
from bot.content.store import FILES, Draft, Version, add_version, draft_row, write_draft
from bot.core.clock import utcnow
from bot.models.content import ContentSignal, FlowVersion

log = logging.getLogger(__name__)

NOTE = "the files in flows/ and locales/"
ATTEMPTS = 3


@functools.cache
def plan(flows: Path, locales: Path) -> tuple[tuple[FileFlow, str], ...]:
    """Each flow of the files with its digest, read once per process (ImportRefused if broken)."""
    areas = load_base(flows, locales).areas
    found = []
    for flow in read_folder(flows, locales, by=FILES, now=None, areas=areas):
        loaded = parse(flow.source, flow.path, areas)
        found.append((flow, digest_of(loaded, flow.translations)))
    return tuple(found)


def seed(engine: Engine, flows: Path, locales: Path, now: datetime | None = None) -> list[str]:
    """Store version 1 (by ``files``) and a draft of each flow of the files not yet stored;
    the names stored (none when every flow already was)."""
    todo = plan(flows, locales)
    for attempt in range(ATTEMPTS):
        try:
            return _seed(engine, todo, now or utcnow())
        except (IntegrityError, OperationalError):  # another process seeded at the same time
            if attempt == ATTEMPTS - 1:
                raise
            log.info("content seeded by another process at the same time; checking again")
    return []  # pragma: no cover - the loop returns or raises


def _seed(engine: Engine, todo: tuple[tuple[FileFlow, str], ...], now: datetime) -> list[str]:
    with Session(engine) as session:
        stored = set(session.exec(select(FlowVersion.flow).distinct()).all())
        added: list[str] = []
        for flow, digest in todo:
            if flow.flow in stored:
                continue
            version = Version(
                flow=flow.flow,
                number=1,
                source=flow.source,
                translations=flow.translations,
                digest=digest,
                published_by=FILES,
                published_at=now,
                note=NOTE,
                restored_from=None,
            )
            add_version(session, version)
            if draft_row(session, flow.flow) is None:
                draft = Draft(flow.flow, 1, 1, flow.source, flow.translations, FILES, now)
                write_draft(session, draft, expected=None)
            added.append(flow.flow)
        if session.get(ContentSignal, 1) is None:
            session.add(ContentSignal(id=1, generation=1, updated_at=now))
        elif added:
            signal = session.exec(select(ContentSignal).where(col(ContentSignal.id) == 1)).one()
            signal.generation += 1
            signal.updated_at = now
            session.add(signal)
        session.commit()
    if added:
        log.info("content: version 1 of %s from the files", ", ".join(added))
    return added
