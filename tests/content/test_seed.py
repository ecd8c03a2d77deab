"""The files become version 1 of every flow, once, even when two processes start together."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from bot.content import versions
from bot.content.folder import ImportRefused
from bot.content.seed import seed
from bot.content.store import FILES, Status, generation
from bot.models import FlowDraft, FlowVersion
from tests.conftest import ROOT
from tests.content.conftest import SEEDED_AT


def counts(engine: Engine) -> tuple[int, int]:
    with Session(engine) as session:
        found = session.exec(select(func.count()).select_from(FlowVersion)).one()
        drafts = session.exec(select(func.count()).select_from(FlowDraft)).one()
    return found, drafts


def test_the_files_become_version_one_of_every_flow(db: Session) -> None:
    files = sorted(p.stem for p in (ROOT / "flows").glob("*.yaml"))
    assert [s.flow for s in versions.list_flows(db)] == files
    main = versions.get_version(db, "main", 1)
    assert main.source == (ROOT / "flows" / "main.yaml").read_text(encoding="utf-8")
    assert (main.published_by, main.published_at, main.restored_from) == (FILES, SEEDED_AT, None)
    assert generation(db) == 1
    assert versions.get_draft(db, "main").base_number == 1


def test_review_comments_become_needs_review_and_the_rest_reviewed(db: Session) -> None:
    st = versions.get_version(db, "main", 1).translations["st"]
    assert st["Report something"].status is Status.REVIEWED
    assert (st["Report something"].text, st["Report something"].by) == ("Tlaleha taba", FILES)
    check = st["Check my situation"]
    assert check.status is Status.NEEDS_REVIEW
    assert check.note is not None and check.note.startswith('"Hlahloba boemo ba ka"')
    assert "en" not in versions.get_version(db, "main", 1).translations


def test_seeding_again_adds_nothing(seeded: Engine) -> None:
    before = counts(seeded)
    assert seed(seeded, ROOT / "flows", ROOT / "locales") == []
    assert counts(seeded) == before
    with Session(seeded) as session:
        assert generation(session) == 1


def test_two_processes_starting_together_seed_once(engine: Engine) -> None:
    results: list[list[str]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run() -> None:
        start.wait()
        try:
            results.append(seed(engine, ROOT / "flows", ROOT / "locales"))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(len(r) for r in results) == [0, 7]
    assert counts(engine) == (7, 7)


def test_a_new_flow_file_is_seeded_and_stored_flows_are_left_alone(
    seeded: Engine, tmp_path: Path
) -> None:
    shutil.copytree(ROOT / "flows", tmp_path / "flows")
    main = tmp_path / "flows" / "main.yaml"
    main.write_text(main.read_text(encoding="utf-8").replace("Language choice", "Changed"))
    follow = (tmp_path / "flows" / "follow.yaml").read_text(encoding="utf-8")
    (tmp_path / "flows" / "follow2.yaml").write_text(
        follow.replace("flow: follow", "flow: follow2"), encoding="utf-8"
    )
    assert seed(seeded, tmp_path / "flows", ROOT / "locales") == ["follow2"]
    with Session(seeded) as session:
        assert "Changed" not in versions.get_version(session, "main", 1).source
        assert versions.get_version(session, "follow2", 1).published_by == FILES
        assert generation(session) == 2


def test_broken_files_are_refused_with_file_and_reason(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "bad.yaml").write_text("flow: [", encoding="utf-8")
    with pytest.raises(ImportRefused, match=r"bad\.yaml:1: not valid YAML"):
        seed(engine, tmp_path / "flows", ROOT / "locales")
    assert counts(engine) == (0, 0)


def test_the_app_seeds_the_versions_at_its_first_start(tmp_path: Path) -> None:
    from bot.app import create_app
    from bot.core.db import make_engine
    from tests.conftest import make_settings

    settings = make_settings(tmp_path)
    create_app(settings)
    engine = make_engine(settings.database_url)
    try:
        assert counts(engine) == (7, 7)
    finally:
        engine.dispose()
