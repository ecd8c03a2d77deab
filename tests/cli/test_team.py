"""``hotline ambassadors invite`` and ``list``: codes printed once, stored only as an HMAC."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cases import ambassadors
from bot.cases.ambassadors import ALPHABET, CODE_LENGTH, Redeemed
from bot.cli import main
from bot.core.db import make_engine
from bot.core.settings import ROOT
from tests.conftest import database_text

KEY = "c" * 32


@pytest.fixture(autouse=True)
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Clean environment, a SQLite file and a copy of the shipped flows (with the areas)."""
    monkeypatch.chdir(tmp_path)
    shutil.copytree(ROOT / "flows", tmp_path / "flows")
    monkeypatch.setenv("HOTLINE_FLOWS_DIR", str(tmp_path / "flows"))
    monkeypatch.setenv("HOTLINE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("HOTLINE_PSEUDONYM_KEY", KEY)
    monkeypatch.setenv("HOTLINE_SECRETS_FILE", str(tmp_path / "s.json"))
    return tmp_path


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def test_invite_prints_codes_once_and_stores_only_their_hmac(workdir: Path) -> None:
    result = run("ambassadors", "invite", "--area", "cd-kwilu-kikwit", "--count", "3")
    assert result.exit_code == 0, result.output
    codes = [line for line in result.stdout.splitlines() if line]
    assert len(codes) == 3
    assert all(len(c) == CODE_LENGTH and set(c) <= set(ALPHABET) for c in codes)
    assert "3 invite(s) for cd-kwilu-kikwit" in result.stderr
    engine = make_engine(f"sqlite:///{workdir / 'cli.db'}")
    try:
        stored = database_text(engine)
        assert not any(code in stored for code in codes)
        assert ambassadors.redeem(engine, KEY, codes[0], "te_one") is Redeemed.REGISTERED
        assert ambassadors.redeem(engine, KEY, codes[0], "te_two") is Redeemed.REFUSED
    finally:
        engine.dispose()
    listed = run("ambassadors", "list")
    assert listed.exit_code == 0, listed.output
    assert "te_one" in listed.output and "cd-kwilu-kikwit" in listed.output
    assert listed.output.rstrip().endswith("yes")


def test_an_unknown_area_is_refused_and_nothing_issued(workdir: Path) -> None:
    result = run("ambassadors", "invite", "--area", "cd-atlantis")
    assert result.exit_code != 0
    assert "unknown area code 'cd-atlantis'" in result.output
    assert run("ambassadors", "list").output.strip() == "no ambassadors yet"


@pytest.mark.parametrize("args", [["--count", "0"], ["--count", "101"], ["--days", "0"]])
def test_count_and_days_are_bounded(args: list[str]) -> None:
    assert run("ambassadors", "invite", *args).exit_code == 2
