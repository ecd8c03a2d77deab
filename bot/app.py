"""The web app factory: channels' callbacks, health, and the simulator, on the embedded default."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from admin.deps import MaybeSignedIn, SignInRequired
from admin.web import install as install_web
from bot.api import router as api_router
from bot.api.auth import Require, current_operator
from bot.auth.permissions import has_role
from bot.cases.intake import CasesSink, Limits
from bot.channels.sms.routes import router as sms_router
from bot.channels.telegram import operators as telegram_operators
from bot.channels.telegram.ambassadors import install as install_ambassadors
from bot.channels.telegram.bot import TelegramBot
from bot.channels.telegram.routes import router as telegram_router
from bot.channels.ussd.routes import router as ussd_router
from bot.content import signal
from bot.content.files import Content, load_content
from bot.content.seed import plan as seed_plan
from bot.content.seed import seed as seed_content
from bot.content.snapshot import Snapshot, stored_versions
from bot.conversation.service import Conversations
from bot.core import heap, metrics_port
from bot.core.db import engine_for, ping
from bot.core.migrate import upgrade
from bot.core.privacy import Cipher
from bot.core.settings import Settings, resolve_secrets
from bot.deps import ContentDep, DbSession, EngineDep, Now, SettingsDep, StoreDep
from bot.dev import demo
from bot.http import install as install_http
from bot.http.health import PublicHealth
from bot.http.lanes import HotlineApp
from bot.http.metrics import AppMetrics, install_metrics
from bot.http.probes import install_probes
from bot.jobs import health
from bot.jobs.escalation import escalate_forever
from bot.jobs.gauges import StateGauges
from bot.jobs.purge import purge_forever
from bot.jobs.shifts import announce_forever
from bot.jobs.stats import rollup_forever
from bot.outbox import queue
from bot.outbox.notify import ArqNotifier, NullNotifier, WakeNotifier
from bot.outbox.senders import make_sender, make_senders
from bot.outbox.worker import OutboxWorker
from bot.sessions import make_store
from bot.team.roles import STAFF

log = logging.getLogger(__name__)


def staff_by_session_or_token(
    request: Request, web: MaybeSignedIn, db: DbSession, settings: SettingsDep, now: Now
) -> None:
    """Staff signed in to the team web, or with an API bearer token; a browser without either
    is sent to sign in, anyone else gets the API's 401 (or 403 for a role that is not staff)."""
    if web is not None and has_role(web.operator, STAFF):
        return
    bearer = request.headers.get("authorization", "")
    if not bearer and "text/html" in request.headers.get("accept", ""):
        raise SignInRequired("sign in first")
    if not has_role(current_operator(request, db, settings, now), STAFF):
        raise HTTPException(status_code=403, detail="this needs the role operator")


def create_app(settings: Settings | None = None, *, content: Content | None = None) -> FastAPI:
    """Build the app; broken flows or missing production secrets refuse to start here.

    ``content``: flows and catalogs already loaded and validated (tests share one); by default
    they are loaded from ``settings.flows_dir`` and ``settings.locales_dir``.
    """
    settings = resolve_secrets(settings or Settings())
    loaded_here = content is None  # tests share content: they seed the versions they need
    if content is None:
        content = load_content(
            settings.flows_dir, settings.locales_dir, toll_free=settings.toll_free
        )
    cipher = Cipher.from_list(settings.encryption_key_list)
    store = make_store(settings.redis_url, cipher=cipher)  # sessions sealed with the app's keys
    engine = engine_for(settings)
    if settings.auto_migrate:
        upgrade(engine)
    if loaded_here:  # issue 14: on first start the files become version 1 of every flow
        seed_content(engine, settings.flows_dir, settings.locales_dir)
    worker = OutboxWorker(engine, cipher, make_sender(settings), senders=make_senders(settings))
    # Content: the files' at start, then what is published (bot.content.snapshot, .signal);
    # the files' flows named by the digests they are seeded under (compiled once).
    seeded = seed_plan(settings.flows_dir, settings.locales_dir) if loaded_here else ()
    digests = {file.flow: digest for file, digest in seeded}
    snapshot = Snapshot(content, stored_versions(engine), digests=digests)
    content = snapshot.current()
    if settings.demo and settings.demo_password is not None:
        demo.seed(
            engine, cipher, password=settings.demo_password.get_secret_value(), today=date.today()
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tasks: list[asyncio.Task[None]] = []
        arq: ArqNotifier | None = None
        await signal.first_look(snapshot)  # what was published before this process started
        follow = signal.follow(
            snapshot, redis_url=settings.redis_url, poll_seconds=settings.content_poll_seconds
        )
        content_task = asyncio.create_task(follow, name="content-signal")
        if settings.redis_url:
            arq = ArqNotifier(settings.redis_url)
            app.state.notifier = arq  # deliveries, escalations, purge: `hotline worker` (arq)
        else:
            tasks = [
                asyncio.create_task(worker.run_forever(), name="outbox-worker"),
                asyncio.create_task(
                    escalate_forever(engine, cipher, content.tr, lambda: app.state.notifier),
                    name="escalations",
                ),
                asyncio.create_task(purge_forever(engine), name="retention-purge"),
                asyncio.create_task(
                    announce_forever(
                        engine,
                        cipher,
                        content.tr,
                        lambda: app.state.notifier,
                        notice=timedelta(minutes=settings.shift_notice_minutes),
                    ),
                    name="shift-announcements",
                ),
                asyncio.create_task(rollup_forever(engine), name="stats-rollup"),
            ]
        telegram: TelegramBot | None = app.state.telegram
        if telegram is not None:
            await telegram.start()
        scrape_port = (  # HOTLINE_METRICS_PORT: /metrics on a port of its own
            await metrics_port.serve_or_warn(
                settings.metrics_host, settings.metrics_port, metrics.render, token=metrics_token
            )
            if settings.metrics_port
            else None
        )
        heap.settle()  # start-up's objects are never walked by the collector again
        log.info(
            "hotline up: %d flows, sessions in %s, outbox delivered %s",
            len(content.registry.names()),
            "redis" if settings.redis_url else "memory",
            "by `hotline worker` (arq)" if arq else "in this process",
        )
        try:
            yield
        finally:
            if scrape_port is not None:
                scrape_port.close()
            content_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await content_task
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if arq is not None:
                await arq.close()
            if telegram is not None:
                await telegram.stop()
            await store.close()
            engine.dispose()

    production = settings.env == "production"
    app = HotlineApp(
        title="Hotline",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None if production else "/openapi.json",  # no public schema in production
        # No OpenTelemetry here (metrics are Prometheus'): FastAPI otherwise asks the global
        # providers on every request whether to trace it, 2% of a USSD request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    install_http(app, production=production)
    # Observability: /metrics behind HOTLINE_METRICS_TOKEN (or on HOTLINE_METRICS_PORT), probes.
    metrics_token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    metrics = AppMetrics(
        StateGauges(engine, store, stale_after=settings.worker_stale_after),
        lambda: [(flow.name, flow.version) for flow in app.state.content.registry.current()],
    )
    app.state.metrics = metrics
    install_metrics(app, metrics, token=metrics_token)
    install_probes(app)
    staff_only = [Depends(Require(STAFF))]  # a bearer token of the operator API
    app.state.settings = settings
    app.state.content = content
    app.state.snapshot = snapshot
    app.state.store = store
    app.state.engine = engine
    app.state.cipher = cipher
    app.state.worker = worker
    app.state.notifier = WakeNotifier(worker) if not settings.redis_url else NullNotifier()
    app.state.conversations = Conversations(
        content,
        store,
        CasesSink(
            engine,
            cipher,
            content.tr,
            lambda: app.state.notifier,
            limits=Limits.from_settings(settings),
            store=store,
        ),
        ttl=settings.session_ttl,
        ttls={"sms": settings.sms_session_ttl, "telegram": settings.telegram_session_ttl},
        values=settings.screen_values,
        language_ttl=max(0, settings.language_memory_days) * 86400,
    )
    app.state.telegram = (
        TelegramBot(settings, content, app.state.conversations, store)
        if settings.telegram_token and settings.telegram_token.get_secret_value().strip()
        else None
    )
    if app.state.telegram is not None:
        telegram_operators.install(
            app.state.telegram, engine=engine, cipher=cipher, settings=settings
        )
    install_ambassadors(app.state.telegram, settings, engine)

    @app.get("/healthz")
    async def healthz(
        settings: SettingsDep, content: ContentDep, store: StoreDep, engine: EngineDep
    ) -> JSONResponse:
        """Is every part this process needs answering? 503 when one is not."""
        sessions_ok = await store.ping()
        database_ok = await run_in_threadpool(ping, engine)  # a down database must not block
        messages = await run_in_threadpool(queue.counts, engine) if database_ok else {}
        delivery = (
            await run_in_threadpool(
                health.report,
                engine,
                max_lag=settings.delivery_max_lag,
                stale_after=settings.worker_stale_after,
            )
            if database_ok
            else None
        )
        delivery_ok = delivery is not None and delivery["ok"]
        body = {
            "status": "ok" if sessions_ok and database_ok and delivery_ok else "degraded",
            "flows": content.registry.names(),
            "sessions": "redis" if settings.redis_url else "memory",
            "sessions_ok": sessions_ok,
            "database_ok": database_ok,
            "outbox": messages,
            "delivery": delivery,
        }
        return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)

    # Production: /healthz says only up or down; the details are for staff (bearer token).
    app.add_api_route("/healthz/details", healthz, methods=["GET"], dependencies=staff_only)
    if production:
        app.add_middleware(PublicHealth)

    from admin.simulator import router as simulator_router

    # Production: the simulator is for staff, signed in to the team web or with a token.
    simulator_access = [Depends(staff_by_session_or_token)] if production else []
    app.include_lane(ussd_router, "/ussd/")  # every keypress: around the framework's layers
    app.include_router(sms_router)
    app.include_router(telegram_router)
    app.include_router(simulator_router, dependencies=simulator_access)
    app.include_router(api_router)
    install_web(app)  # the team web: sign-in, queue and the screens of admin.routes
    return app
