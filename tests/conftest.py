"""Shared fixtures: real services when present; in CI a missing service fails, never skips."""

from __future__ import annotations

import os

import pytest


def require_services() -> bool:
    """True when a missing Redis/PostgreSQL must fail the run (CI sets it), not skip."""
    return os.environ.get("HOTLINE_REQUIRE_SERVICES", "") not in ("", "0", "false")


def service_missing(what: str, detail: str) -> None:
    """Fail (in CI) or skip (on a laptop) a test whose service is not reachable."""
    message = f"{what} not reachable: {detail}"
    if require_services():
        pytest.fail(message + " (HOTLINE_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(message)


REDIS_URL = os.environ.get("HOTLINE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
POSTGRES_URL = os.environ.get(
    "HOTLINE_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
