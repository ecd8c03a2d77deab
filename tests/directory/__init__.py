"""Tests of ``bot.directory``: the validator, CSV import and export, search."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).parent / "data"
GOOD = DATA / "good.csv"
"""Six services in three countries, every field used (fake public phone numbers)."""
