"""The case-write bench runs on SQLite and reports CPU, wall time and statements per case."""

from __future__ import annotations

import re

import pytest

from bench import case_write


def test_it_writes_cases_and_prints_the_figures(capsys: pytest.CaptureFixture[str]) -> None:
    case_write.main(["--sqlite", "--cases", "12", "--warmup", "4"])
    out = capsys.readouterr().out
    assert "SQLite: 12 cases" in out
    assert re.search(r"CPU per case\s+p50 \d+\.\d+ ms", out)
    statements = re.search(r"statements per case (\d+\.\d)", out)
    assert statements is not None
    assert 3.0 <= float(statements.group(1)) <= 6.0  # lookup, case, timeline line (+ P1 team)
