"""``hotline serve``, ``simulate``, ``worker`` and ``db upgrade``: running the hotline."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from datetime import date
from typing import TextIO

import click

from bot.cli.root import LANG_CHOICE, cipher_or_exit, main, resolved_or_exit, settings_or_exit
from bot.core.settings import ConfigError, Settings


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Run the web app (provider callbacks, health, simulator at /simulator)."""
    import uvicorn

    from bot.app import create_app
    from bot.engine.loader import FlowLoadError

    try:
        app = create_app(settings_or_exit())
    except (FlowLoadError, ConfigError) as exc:
        raise click.ClickException(f"refusing to start:\n{exc}") from None
    if app.state.settings.demo:  # `make run`: a year of synthetic cases for the statistics page
        from bot.dev import demo_year

        demo_year.seed(app.state.engine, today=date.today())
    click.echo(f"Hotline on http://{host}:{port}  (simulator: http://{host}:{port}/simulator)")
    # No uvicorn access log: callback paths carry the secret token. bot.http.access writes one
    # line per request with the route template instead; log_config=None keeps our log format.
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)


@main.command()
@click.option(
    "--channel", type=click.Choice(["ussd", "sms", "telegram"]), default="ussd", show_default=True
)
@click.option(
    "--lang",
    type=LANG_CHOICE,
    default=None,
    help="Language the conversation starts in (default: HOTLINE_DEFAULT_LANGUAGE).",
)
@click.option("--flow", default="main", show_default=True, help="Flow to start.")
@click.option(
    "--input",
    "input_file",
    type=click.File("r", encoding="utf-8"),
    default=None,
    help="Read inputs from a file (one per line), '-' for stdin.",
)
def simulate(channel: str, lang: str | None, flow: str, input_file: TextIO | None) -> None:
    """Walk flows in the terminal exactly as a channel shows them, with screen sizes."""
    from bot.channels.renderers import renderer
    from bot.content.files import load_content
    from bot.conversation.dryrun import DryRunSink
    from bot.conversation.service import Conversations
    from bot.conversation.simulate import simulate as run
    from bot.engine.loader import FlowLoadError
    from bot.sessions import MemorySessionStore

    settings = settings_or_exit()
    try:
        content = load_content(
            settings.flows_dir, settings.locales_dir, toll_free=settings.toll_free
        )
    except FlowLoadError as exc:
        raise click.ClickException(f"flows refused:\n{exc}") from None
    if flow not in content.registry:
        raise click.ClickException(
            f"unknown flow {flow!r}; known: {', '.join(content.registry.names())}"
        )
    conversations = Conversations(
        content,
        MemorySessionStore(),
        DryRunSink(content.tr),
        values=settings.screen_values,
    )
    inputs = None
    if input_file is not None:
        inputs = [line.rstrip("\n") for line in input_file]
    elif not sys.stdin.isatty():
        inputs = [line.rstrip("\n") for line in sys.stdin]
    asyncio.run(
        run(
            conversations,
            renderer(channel, content.tr),
            lang=lang or settings.default_language,
            flow=flow,
            inputs=inputs,
            stdin=sys.stdin,
            out=sys.stdout,
        )
    )


@main.command()
@click.option("--burst", is_flag=True, help="Deliver what is due, then stop (for cron or tests).")
def worker(burst: bool) -> None:
    """Deliver the outbox (SMS replies, alerts), escalate and purge: from the database, with arq
    jobs on Redis when it answers."""
    from bot.core.db import engine_for
    from bot.i18n.catalog import Catalogs
    from bot.jobs.runner import SWEEP_SECONDS, Runner
    from bot.outbox.senders import make_sender, make_senders
    from bot.outbox.worker import OutboxWorker

    settings = resolved_or_exit()
    cipher = cipher_or_exit(settings)
    engine = engine_for(settings)  # the pool and threads of HOTLINE_DB_*, like the app's
    outbox_worker = OutboxWorker(
        engine,
        cipher,
        make_sender(settings),
        senders=make_senders(settings),
        poll=SWEEP_SECONDS,
    )
    if burst:
        click.echo(
            "hotline worker --burst: delivering from the database what is due, then stopping"
        )

        async def drain() -> None:
            total = 0
            while done := await outbox_worker.run_due():
                total += done
            click.echo(f"delivered or retried {total} message(s)")

        asyncio.run(drain())
        engine.dispose()
        return
    if settings.redis_url:
        click.echo(
            "hotline worker: delivering from the database (sweep every 5 s), escalations and "
            "purge; deliver jobs from Redis, reconnecting whenever it goes away"
        )
    else:
        click.echo(
            "hotline worker: no HOTLINE_REDIS_URL, delivering from the database in this process"
        )
    runner = Runner(
        engine,
        outbox_worker,
        Catalogs.load(settings.locales_dir).gettext,
        redis_url=settings.redis_url,
    )

    async def run() -> None:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, task.cancel)
        scrape = await worker_metrics(settings)  # HOTLINE_METRICS_PORT: this worker's /metrics
        try:
            with contextlib.suppress(asyncio.CancelledError):
                await runner.run()
        finally:
            if scrape is not None:
                scrape.close()
        click.echo("hotline worker stopped")

    asyncio.run(run())
    engine.dispose()


async def worker_metrics(settings: Settings) -> asyncio.Server | None:
    """This worker's ``/metrics`` on ``HOTLINE_METRICS_PORT``; None when unset or taken (the
    worker delivers all the same: a port clash must not stop deliveries)."""
    from bot.core import metrics_port
    from bot.core.metrics import exposition

    if not settings.metrics_port:
        return None
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None

    async def render() -> bytes:
        return exposition()

    return await metrics_port.serve_or_warn(
        settings.metrics_host, settings.metrics_port, render, token=token
    )


@main.group()
def db() -> None:
    """The database schema (Alembic migrations)."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Bring the database to the newest schema (also run at start unless HOTLINE_AUTO_MIGRATE=0)."""
    from bot.core.db import make_engine
    from bot.core.migrate import current, head, upgrade

    engine = make_engine(settings_or_exit().database_url)
    upgrade(engine)
    click.echo(f"database at {current(engine)} (newest {head()})")
