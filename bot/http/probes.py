"""Liveness and readiness for an orchestrator and the on-call engineer: ``/livez``, ``/readyz``.

- ``/livez``: the process answers (nothing else is asked): restart it when this fails.
- ``/readyz``: the database answers, Redis answers when configured, a worker has beaten within
  ``HOTLINE_WORKER_STALE_AFTER`` (once one has run), and no outbox message or escalation has
  been due for longer than ``HOTLINE_DELIVERY_MAX_LAG``.

Both answer ``{"status": "up"}`` (200) or ``{"status": "down"}`` (503) and nothing more; with
``Authorization: Bearer <HOTLINE_METRICS_TOKEN>`` ``/readyz`` adds each check and its problems.
A failing readiness is logged (what failed, never a request value). ``/healthz`` stays as it was.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from bot.core.db import ping
from bot.core.metrics import authorised
from bot.deps import EngineDep, SettingsDep, StoreDep
from bot.jobs import health

log = logging.getLogger(__name__)


def up_or_down(ok: bool, details: dict[str, Any] | None = None) -> JSONResponse:
    """200 ``{"status": "up"}`` or 503 ``{"status": "down"}``, with details if given."""
    body: dict[str, Any] = {"status": "up" if ok else "down"}
    if details is not None:
        body["checks"] = details
    return JSONResponse(body, status_code=200 if ok else 503, headers={"Cache-Control": "no-store"})


def install_probes(app: FastAPI) -> None:
    """Add ``GET /livez`` and ``GET /readyz``."""

    @app.get("/livez", include_in_schema=False)
    async def livez() -> JSONResponse:
        """The process answers."""
        return up_or_down(True)

    @app.get("/readyz", include_in_schema=False)
    async def readyz(
        request: Request, settings: SettingsDep, store: StoreDep, engine: EngineDep
    ) -> JSONResponse:
        """Database, Redis (if configured), worker heartbeat and due work: up or down."""
        checks: dict[str, Any] = {}
        checks["database"] = await run_in_threadpool(ping, engine)
        if settings.redis_url:
            checks["redis"] = await store.ping()
        delivery: dict[str, Any] | None = None
        if checks["database"]:
            try:
                delivery = await run_in_threadpool(
                    health.report,
                    engine,
                    max_lag=settings.delivery_max_lag,
                    stale_after=settings.worker_stale_after,
                )
            except Exception as exc:  # the database went away meanwhile
                log.warning("readiness: delivery not readable (%s)", type(exc).__name__)
        checks["delivery"] = delivery is not None and bool(delivery["ok"])
        problems: list[str] = [name for name, ok in checks.items() if not ok]
        if delivery is not None:
            checks["delivery_problems"] = delivery["problems"]
            checks["outbox_due_seconds"] = delivery["outbox_due_seconds"]
            checks["escalation_due_seconds"] = delivery["escalation_due_seconds"]
            checks["workers"] = len(delivery["workers"])
        ok = not problems
        if not ok:
            why = "; ".join(delivery["problems"]) if delivery else ""
            log.warning("not ready: %s%s", ", ".join(problems), f" ({why})" if why else "")
        token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
        detailed = authorised(request.headers.get("authorization"), token)
        return up_or_down(ok, checks if detailed else None)
