"""The ``hotline`` command: serve, simulate, check flows and catalogs, run the worker."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import TextIO

import click

from bot.settings import ROOT, ConfigError, Settings

LANG_CHOICE = click.Choice(["en", "fr", "ln", "st"])


def _settings() -> Settings:
    try:
        return Settings()
    except Exception as exc:  # pydantic's ValidationError names the variable and the problem
        raise click.ClickException(f"invalid HOTLINE_* setting: {exc}") from None


@click.group()
@click.option("--log-level", default=None, help="DEBUG, INFO, WARNING (default: HOTLINE_LOG_LEVEL)")
def main(log_level: str | None) -> None:
    """Hotline: reporting and referral hotline against human trafficking."""
    level = (log_level or _settings().log_level).upper()
    if level not in logging.getLevelNamesMapping():
        raise click.BadParameter(f"unknown log level {level!r}; use DEBUG, INFO, WARNING or ERROR")
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("transitions").setLevel(logging.WARNING)  # one line per callback otherwise
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Run the web app (provider callbacks, health, simulator at /simulator)."""
    import uvicorn

    from bot.app import create_app
    from bot.engine.loader import FlowLoadError

    try:
        app = create_app(_settings())
    except (FlowLoadError, ConfigError) as exc:
        raise click.ClickException(f"refusing to start:\n{exc}") from None
    click.echo(f"Hotline on http://{host}:{port}  (simulator: http://{host}:{port}/simulator)")
    # No access log: callback paths carry the secret token (our handlers log without it).
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)


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
    from bot.channels.base import Renderer
    from bot.channels.console import simulate as run
    from bot.channels.sms import SmsRenderer
    from bot.channels.telegram import TelegramRenderer
    from bot.channels.ussd import UssdRenderer
    from bot.content import load_content
    from bot.conversation import Conversations, LoggingSink
    from bot.engine.loader import FlowLoadError
    from bot.sessions import MemorySessionStore

    settings = _settings()
    try:
        content = load_content(settings.flows_dir, settings.locales_dir)
    except FlowLoadError as exc:
        raise click.ClickException(f"flows refused:\n{exc}") from None
    if flow not in content.registry:
        raise click.ClickException(
            f"unknown flow {flow!r}; known: {', '.join(content.registry.names())}"
        )
    renderers: dict[str, Renderer] = {
        "ussd": UssdRenderer(content.tr),
        "sms": SmsRenderer(content.tr),
        "telegram": TelegramRenderer(content.tr),
    }
    conversations = Conversations(
        content,
        MemorySessionStore(),
        LoggingSink(),
        values={"hotline_number": settings.public_number},
    )
    inputs = None
    if input_file is not None:
        inputs = [line.rstrip("\n") for line in input_file]
    elif not sys.stdin.isatty():
        inputs = [line.rstrip("\n") for line in sys.stdin]
    asyncio.run(
        run(
            conversations,
            renderers[channel],
            lang=lang or settings.default_language,
            flow=flow,
            inputs=inputs,
            stdin=sys.stdin,
            out=sys.stdout,
        )
    )


@main.group()
def flows() -> None:
    """Flow files."""


@flows.command("check")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
def flows_check(paths: tuple[Path, ...]) -> None:
    """Validate flow files (default: the shipped flows); exit 1 listing every problem."""
    from bot.content import check_flows
    from bot.i18n.catalog import Catalogs

    settings = _settings()
    targets = list(paths) or [settings.flows_dir]
    loaded, issues = check_flows(targets, Catalogs.load(settings.locales_dir))
    for issue in issues:
        click.echo(str(issue), err=True)
    if issues:
        raise click.ClickException(f"{len(issues)} problem(s) in flows")
    states = sum(len(f.definition.states) for f in loaded)
    click.echo(f"ok: {len(loaded)} flow(s), {states} screens, 4 languages, USSD/SMS/Telegram fit")


@main.group()
def i18n() -> None:
    """Translations (gettext catalogs under locales/)."""


def _template() -> tuple[Settings, object]:
    from bot.engine.loader import flow_files
    from bot.i18n.extract import extract

    settings = _settings()
    return settings, extract(flow_files([settings.flows_dir]), ROOT / "bot", ROOT)


@i18n.command("update")
def i18n_update() -> None:
    """Extract strings from flows and code into the template and merge into every catalog."""
    from babel.messages.catalog import Catalog

    from bot.i18n.extract import update

    settings, template = _template()
    assert isinstance(template, Catalog)
    for line in update(settings.locales_dir, template):
        click.echo(line)


@i18n.command("check")
def i18n_check() -> None:
    """Fail on any missing, fuzzy or placeholder-broken entry, or a screen over its limit."""
    from babel.messages.catalog import Catalog

    from bot.content import check_flows
    from bot.i18n.catalog import Catalogs
    from bot.i18n.check import check_catalogs

    settings, template = _template()
    assert isinstance(template, Catalog)
    problems = check_catalogs(settings.locales_dir, template)
    _, issues = check_flows([settings.flows_dir], Catalogs.load(settings.locales_dir))
    problems.extend(str(i) for i in issues)
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s) in translations")
    click.echo(f"ok: {len(template)} strings complete in en, fr, ln, st; every screen fits")


@main.command()
@click.option("--burst", is_flag=True, help="Deliver what is due, then stop (for cron or tests).")
def worker(burst: bool) -> None:
    """Deliver the outbox (SMS replies, alerts) with retries: arq on Redis, else a local loop."""
    from bot.db import make_engine
    from bot.privacy import Cipher
    from bot.worker import OutboxWorker, arq_worker, make_sender

    settings = _resolved()
    if settings.redis_url:
        click.echo("hotline worker: arq job worker on Redis (deliver jobs, sweep every 5 s)")
        arq_worker(settings.redis_url, burst=burst).run()
        return
    click.echo("hotline worker: no HOTLINE_REDIS_URL, delivering from the database in this process")
    engine = make_engine(settings.database_url)
    outbox_worker = OutboxWorker(
        engine, Cipher.from_list(settings.encryption_key_list), make_sender(settings)
    )

    async def run() -> None:
        if burst:
            total = 0
            while done := await outbox_worker.run_due():
                total += done
            click.echo(f"delivered or retried {total} message(s)")
        else:
            await outbox_worker.run_forever()

    asyncio.run(run())


@main.group()
def db() -> None:
    """The database schema (Alembic migrations)."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Bring the database to the newest schema (also run at start unless HOTLINE_AUTO_MIGRATE=0)."""
    from bot.db import make_engine
    from bot.migrate import current, head, upgrade

    engine = make_engine(_settings().database_url)
    upgrade(engine)
    click.echo(f"database at {current(engine)} (newest {head()})")


def _resolved() -> Settings:
    from bot.settings import resolve_secrets

    try:
        return resolve_secrets(_settings())
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
