"""Stored versions of the shipped main flow for the runtime's tests: its menu's first option
reworded ("Report something" -> "Report a problem") in four languages, or only re-translated;
a fake version source, and the same versions written to a real database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.content import store
from bot.content.snapshot import StoredFlow

ROOT = Path(__file__).resolve().parents[2]
MAIN_SOURCE = (ROOT / "flows" / "main.yaml").read_text(encoding="utf-8")

OLD = "Report something"
OLD_WORDING = {
    "en": "Report something",
    "fr": "Signaler un cas",
    "ln": "Koyebisa likambo",
    "st": "Tlaleha taba",
}
"""The shipped wording of the main menu's first option (the files: what a process starts on)."""

NEW = "Report a problem"
NEW_WORDING = {
    "en": "Report a problem",
    "fr": "Signaler un probleme",
    "ln": "Koyebisa mokakatano",
    "st": "Tlaleha bothata",
}
"""Version 2's wording of that option."""

RETRANSLATED = {"fr": "Signaler une situation", "ln": "Koyebisa likama", "st": "Tlaleha boemo"}
"""Version 3: the same English as version 2, translated anew."""


def main_version(number: int) -> StoredFlow:
    """Version 2 (reworded) or 3 (re-translated only) of the main flow, as stored."""
    source = MAIN_SOURCE.replace(f"label: {OLD},", f"label: {NEW},")
    assert source != MAIN_SOURCE
    wording = NEW_WORDING if number == 2 else {"en": NEW, **RETRANSLATED}
    texts = {lang: {NEW: wording[lang]} for lang in ("fr", "ln", "st")}
    return StoredFlow("main", number, f"main-v{number}", source, texts)


@dataclass
class FakeVersions:
    """A version source in memory: what the database would hold, and what was asked of it."""

    versions: list[StoredFlow] = field(default_factory=list)
    counter: int = 0
    asked: list[tuple[str, str]] = field(default_factory=list)

    def publish(self, version: StoredFlow) -> None:
        self.versions.append(version)
        self.counter += 1

    def generation(self) -> int:
        return self.counter

    def published(self) -> list[StoredFlow]:
        latest: dict[str, StoredFlow] = {}
        for version in sorted(self.versions, key=lambda v: v.number):
            latest[version.flow] = version
        return list(latest.values())

    def by_digest(self, flow: str, digest: str) -> StoredFlow | None:
        self.asked.append((flow, digest))
        return next((v for v in self.versions if (v.flow, v.digest) == (flow, digest)), None)


def write_version(engine: Engine, version: StoredFlow) -> int:
    """Store a version as a publish does (the row, then the counter moved on); the generation."""
    translations: store.Translations = {
        lang: {
            msgid: store.Entry(text, store.Status.REVIEWED, "tester")
            for msgid, text in entries.items()
        }
        for lang, entries in version.texts.items()
    }
    with Session(engine) as session:
        store.add_version(
            session,
            store.Version(
                flow=version.flow,
                number=version.number,
                source=version.source,
                translations=translations,
                digest=version.digest,
                published_by="tester",
                published_at=datetime(2026, 12, 1, tzinfo=UTC),
                note="",
                restored_from=None,
            ),
        )
        generation = store.bump_signal(session)
        session.commit()
    return generation
