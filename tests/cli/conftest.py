"""Every ``hotline`` command test runs in tmp_path on copies of the shipped flows and catalogs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.core.settings import ROOT
from tests.cli.helpers import NUMBER


@pytest.fixture(autouse=True)
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Clean HOTLINE_* environment; flows and locales are copies in tmp_path, never the repo's."""
    monkeypatch.chdir(tmp_path)
    shutil.copytree(ROOT / "flows", tmp_path / "flows")  # with flows/data (places)
    assert (tmp_path / "flows" / "data" / "areas.yaml").is_file()
    shutil.copytree(ROOT / "locales", tmp_path / "locales")
    monkeypatch.setenv("HOTLINE_FLOWS_DIR", str(tmp_path / "flows"))
    monkeypatch.setenv("HOTLINE_LOCALES_DIR", str(tmp_path / "locales"))
    monkeypatch.setenv("HOTLINE_PUBLIC_NUMBER", NUMBER)
    return tmp_path
