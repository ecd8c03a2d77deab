"""``hotline stats`` prints the page's tables (cases suppressed) and ``hotline demo year`` /
``demo remove`` add and delete the demo's synthetic year."""

from __future__ import annotations

import csv
import io
import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import main
from bot.core.settings import ROOT
from bot.stats.suppression import HIDDEN, LEGEND


@pytest.fixture(autouse=True)
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A SQLite file and a copy of the shipped flows (with the areas)."""
    monkeypatch.chdir(tmp_path)
    shutil.copytree(ROOT / "flows", tmp_path / "flows")
    monkeypatch.setenv("HOTLINE_FLOWS_DIR", str(tmp_path / "flows"))
    monkeypatch.setenv("HOTLINE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("HOTLINE_SECRETS_FILE", str(tmp_path / "s.json"))
    return tmp_path


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def test_the_demo_year_is_counted_suppressed_then_removed() -> None:
    added = run("demo", "year")
    assert added.exit_code == 0, added.output
    assert "synthetic cases added" in added.output
    assert "already there" in run("demo", "year").output
    year = str(date.today().year)
    shown = run("stats", "--period", year)
    assert shown.exit_code == 0, shown.output
    assert "Cases per priority" in shown.output and "Cases by province" in shown.output
    assert HIDDEN in shown.output.split() and "Kwilu, DR Congo" in shown.output
    assert LEGEND in shown.output.splitlines() and "<11" not in shown.output
    tables = shown.output[shown.output.index(LEGEND) + len(LEGEND) :]
    assert not [w for w in tables.split() if w.isdigit() and 0 < int(w) < 11]
    table = run("stats", "--period", year, "--csv")
    cells = [c for row in csv.reader(io.StringIO(table.output)) for c in row[1:]]
    assert HIDDEN in cells and not [c for c in cells if c.isdigit() and 0 < int(c) < 11]
    assert "<11" not in table.output
    removed = run("demo", "remove")
    assert removed.exit_code == 0 and "removed" in removed.output
    after = run("stats", "--period", year, "--csv").output
    rows = list(csv.reader(io.StringIO(after)))[1:]  # after the title and period
    assert {c for row in rows for c in row[1:2] if c.isdigit()} == {"0"}


def test_an_unreadable_period_is_refused() -> None:
    result = run("stats", "--period", "2026-W10")
    assert result.exit_code == 2 and "2026-Q1" in result.output
