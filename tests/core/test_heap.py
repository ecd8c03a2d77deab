"""The collector is set once per process, when the first app has started."""

from __future__ import annotations

import gc
from pathlib import Path

from fastapi.testclient import TestClient

from bot.core import heap
from tests.conftest import make_app, make_settings


def test_a_started_app_has_frozen_start_up_and_collects_less_often(tmp_path: Path) -> None:
    with TestClient(make_app(make_settings(tmp_path))):
        assert gc.get_threshold() == (heap.YOUNG, heap.MIDDLE, heap.OLD)
        assert gc.get_freeze_count() > 0
        assert heap.settle() is False  # once per process, whichever app came first
