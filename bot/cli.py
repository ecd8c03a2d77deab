"""The ``hotline`` command: serve, simulate, check flows and catalogs, run the worker."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import TextIO

import click

from bot.core.languages import LANGUAGES
from bot.core.settings import ROOT, ConfigError, Settings
from bot.team.roles import ROLES

LANG_CHOICE = click.Choice(LANGUAGES)


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
    from bot.channels.renderers import renderer
    from bot.content.files import load_content
    from bot.conversation.dryrun import DryRunSink
    from bot.conversation.service import Conversations
    from bot.conversation.simulate import simulate as run
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
    conversations = Conversations(
        content,
        MemorySessionStore(),
        DryRunSink(content.tr),
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
            renderer(channel, content.tr),
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
    from bot.content.files import check_flows
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
    from bot.content.extract import extract
    from bot.content.files import flow_files

    settings = _settings()
    return settings, extract(flow_files([settings.flows_dir]), ROOT / "bot", ROOT)


@i18n.command("update")
def i18n_update() -> None:
    """Extract strings from flows and code into the template and merge into every catalog."""
    from babel.messages.catalog import Catalog

    from bot.content.extract import update

    settings, template = _template()
    assert isinstance(template, Catalog)
    for line in update(settings.locales_dir, template):
        click.echo(line)


@i18n.command("check")
def i18n_check() -> None:
    """Fail on any missing, fuzzy or placeholder-broken entry, or a screen over its limit."""
    from babel.messages.catalog import Catalog

    from bot.content.files import check_flows
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
    from bot.core.db import make_engine
    from bot.core.privacy import Cipher
    from bot.jobs.arq import arq_worker
    from bot.outbox.senders import make_sender, make_senders
    from bot.outbox.worker import OutboxWorker

    settings = _resolved()
    if settings.redis_url:
        click.echo("hotline worker: arq job worker on Redis (deliver jobs, sweep every 5 s)")
        arq_worker(settings.redis_url, burst=burst).run()
        return
    click.echo("hotline worker: no HOTLINE_REDIS_URL, delivering from the database in this process")
    engine = make_engine(settings.database_url)
    outbox_worker = OutboxWorker(
        engine,
        Cipher.from_list(settings.encryption_key_list),
        make_sender(settings),
        senders=make_senders(settings),
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
    from bot.core.db import make_engine
    from bot.core.migrate import current, head, upgrade

    engine = make_engine(_settings().database_url)
    upgrade(engine)
    click.echo(f"database at {current(engine)} (newest {head()})")


def _resolved() -> Settings:
    from bot.core.settings import resolve_secrets

    try:
        return resolve_secrets(_settings())
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


# --- retention and keys (bot.governance) ---------------------------------------------------------


@main.command()
@click.option("--dry-run", is_flag=True, help="Count what would be cleared; change nothing.")
def purge(dry_run: bool) -> None:
    """Apply retention: clear old contact data, anonymise long-closed cases (run it daily)."""
    from bot.core.clock import utcnow
    from bot.core.db import make_engine
    from bot.core.migrate import upgrade
    from bot.governance.retention import purge as run_purge

    settings = _settings()
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        report = run_purge(
            engine,
            now=utcnow(),
            contact_days=settings.retention_contact_days,
            closed_days=settings.retention_closed_days,
            dry_run=dry_run,
        )
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        engine.dispose()
    click.echo(
        f"{'dry run, nothing changed' if dry_run else 'purged'} (contact data "
        f"{settings.retention_contact_days} days, closed cases "
        f"{settings.retention_closed_days} days):"
    )
    for name, count in report.counts().items():
        click.echo(f"  {name}: {count}")


@main.group()
def keys() -> None:
    """Encryption keys (HOTLINE_ENCRYPTION_KEYS, newest first)."""


@keys.command("new")
def keys_new() -> None:
    """Print a fresh key to put first in HOTLINE_ENCRYPTION_KEYS (then run `keys rotate`)."""
    from bot.core.privacy import new_key

    click.echo(new_key())
    click.echo(
        "put it first in HOTLINE_ENCRYPTION_KEYS (NEW,OLD), restart, run `hotline keys rotate`; "
        "drop OLD only once rotation reports 0 unreadable",
        err=True,
    )


@keys.command("rotate")
@click.option("--batch", default=500, show_default=True, type=click.IntRange(min=1))
def keys_rotate(batch: int) -> None:
    """Re-encrypt every stored secret under the first key of HOTLINE_ENCRYPTION_KEYS."""
    from bot.core.db import make_engine
    from bot.core.migrate import upgrade
    from bot.core.privacy import Cipher
    from bot.governance.keys import rotate

    settings = _resolved()
    try:
        cipher = Cipher.from_list(settings.encryption_key_list)
    except ValueError as exc:
        raise click.ClickException(f"HOTLINE_ENCRYPTION_KEYS: {exc}") from None
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        report = rotate(engine, cipher, batch=batch)
    finally:
        engine.dispose()
    click.echo(f"rotated {report.total} value(s) to key {report.key}:")
    for name, count in report.rotated.items():
        click.echo(f"  {name}: {count}")
    if report.unreadable:
        for where in report.unreadable:
            click.echo(f"no configured key opens {where}", err=True)
        raise click.ClickException(
            f"{len(report.unreadable)} value(s) no configured key opens; "
            "keep the old keys until they are resolved"
        )


@main.group()
def directory() -> None:
    """The service directory (CSV: name, organisation, service_type, areas, phones, ...)."""


@directory.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def directory_import(file: Path) -> None:
    """Add or update services from FILE.csv; a single bad row and nothing is imported."""
    from bot.core.db import make_engine
    from bot.core.migrate import upgrade
    from bot.directory.csv_io import import_csv

    engine = make_engine(_settings().database_url)
    try:
        upgrade(engine)
        result = import_csv(engine, file)
    finally:
        engine.dispose()
    for error in result.errors:
        click.echo(error, err=True)
    if not result.ok:
        raise click.ClickException(f"{len(result.errors)} problem(s); nothing imported")
    line = f"imported: {result.added} added, {result.updated} updated"
    click.echo(line + (f" ({result.unchanged} unchanged)" if result.unchanged else ""))


@directory.command("export")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
def directory_export(file: Path | None) -> None:
    """Write the whole directory as CSV to FILE, or to standard output."""
    from bot.core.db import make_engine
    from bot.core.migrate import upgrade
    from bot.directory.csv_io import export_csv

    engine = make_engine(_settings().database_url)
    try:
        upgrade(engine)
        text = export_csv(engine)
    finally:
        engine.dispose()
    if file is None:
        click.echo(text, nl=False)
        return
    file.write_text(text, encoding="utf-8")
    click.echo(f"directory written to {file}", err=True)


# --- the team (bot.team.operators) ----------------------------------------------------------


@main.group()
def users() -> None:
    """The hotline team: operators, supervisors and admins who sign in to the API."""


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--name", required=True, help="The name the team sees.")
@click.option("--lang", type=LANG_CHOICE, default="en", show_default=True)
@click.option(
    "--phone-stdin",
    is_flag=True,
    help="Also read an on-call phone number (for SMS alerts) from stdin, after the password.",
)
def users_add(username: str, role: str, name: str, lang: str, phone_stdin: bool) -> None:
    """Add a member of the team; the password comes from stdin, never the command line.

    At a terminal it is asked twice, hidden. Piped, the first line is the password and, with
    --phone-stdin, the second the phone number (stored encrypted).
    """
    from sqlmodel import Session

    from bot.core.db import make_engine
    from bot.core.migrate import upgrade
    from bot.core.privacy import Cipher
    from bot.team.operators import add_operator

    stdin = sys.stdin
    phone: str | None = None
    if stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        if phone_stdin:
            phone = click.prompt("On-call phone number", hide_input=True)
    else:
        password = stdin.readline().rstrip("\r\n")
        if phone_stdin:
            phone = stdin.readline().strip()
            if not phone:
                raise click.ClickException(
                    "--phone-stdin: no number on the line after the password"
                )
    if not password:
        raise click.ClickException("no password on standard input")
    settings = _resolved()
    try:
        cipher = Cipher.from_list(settings.encryption_key_list)
    except ValueError as exc:
        raise click.ClickException(f"HOTLINE_ENCRYPTION_KEYS: {exc}") from None
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        with Session(engine) as session:
            try:
                operator = add_operator(
                    session,
                    cipher,
                    username=username,
                    role=role,
                    display_name=name,
                    password=password,
                    lang=lang,
                    phone=phone,
                    actor="cli",
                )
            except ValueError as exc:  # a bad field, or the username is taken
                raise click.ClickException(str(exc)) from None
            session.commit()
            click.echo(f"added {operator.username} as {role}")
    finally:
        engine.dispose()


# --- migrant ambassadors (bot.cases.ambassadors) ------------------------------------------


@main.group()
def ambassadors() -> None:
    """Migrant ambassadors on Telegram: single-use invites and who is registered."""


@ambassadors.command("invite")
@click.option("--area", default=None, help="Area code the ambassador covers, e.g. cd-kwilu-kikwit.")
@click.option("--count", default=1, show_default=True, type=click.IntRange(1, 100))
@click.option("--days", default=14, show_default=True, type=click.IntRange(1, 365))
def ambassadors_invite(area: str | None, count: int, days: int) -> None:
    """Print COUNT new single-use invite codes, valid DAYS days.

    Each code is printed once and cannot be read back later (only its HMAC is stored). Give
    each code to one trained ambassador: they open t.me/<bot>?start=CODE or send /start CODE.
    """
    from bot.cases.ambassadors import issue
    from bot.content.files import AREAS_FILE, read_areas
    from bot.core.db import make_engine
    from bot.core.migrate import upgrade
    from bot.engine.areas import AreaDataError

    settings = _resolved()
    assert settings.pseudonym_key is not None  # resolve_secrets generates or requires it
    tree = None
    if area is not None:
        try:
            tree = read_areas(Path(settings.flows_dir) / AREAS_FILE)
        except AreaDataError as exc:
            raise click.ClickException(str(exc)) from None
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        issued = issue(
            engine,
            settings.pseudonym_key.get_secret_value(),
            tree=tree,
            area=area,
            count=count,
            days=days,
        )
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        engine.dispose()
    for invite in issued:
        click.echo(invite.code)
    where = f" for {issued[0].area}" if issued[0].area else ""
    click.echo(
        f"{len(issued)} invite(s){where}, single use, valid until "
        f"{issued[0].expires_at:%Y-%m-%d %H:%M} UTC; shown only now",
        err=True,
    )


@ambassadors.command("list")
def ambassadors_list() -> None:
    """List ambassadors: pseudonym prefix, area, registered date, active (no Telegram ids)."""
    from bot.cases.ambassadors import list_ambassadors
    from bot.core.db import make_engine
    from bot.core.migrate import upgrade

    engine = make_engine(_settings().database_url)
    try:
        upgrade(engine)
        rows = list_ambassadors(engine)
    finally:
        engine.dispose()
    if not rows:
        click.echo("no ambassadors yet")
        return
    click.echo(f"{'pseudonym':<12} {'area':<28} {'registered':<10} active")
    for row in rows:
        click.echo(
            f"{row.contact_prefix:<12} {row.area or '-':<28} "
            f"{row.registered_at:%Y-%m-%d} {'yes' if row.active else 'no'}"
        )


# --- the Telegram bot (bot.channels.telegram.bot) ------------------------------------------


@main.group()
def telegram() -> None:
    """The Telegram bot (HOTLINE_TELEGRAM_TOKEN)."""


@telegram.command("set-webhook")
@click.argument("url")
@click.option("--drop-pending", is_flag=True, help="Drop updates Telegram holds for the bot.")
def telegram_set_webhook(url: str, drop_pending: bool) -> None:
    """Have Telegram post updates to URL (https://HOST/telegram/webhook) with the secret header."""
    from telegram.error import TelegramError

    from bot.channels.telegram.bot import ALLOWED_UPDATES, make_bot
    from bot.outbox.senders.telegram_logs import mask

    settings = _resolved()
    if not settings.telegram_token or not settings.telegram_token.get_secret_value().strip():
        raise click.ClickException("HOTLINE_TELEGRAM_TOKEN is not set")
    if not url.startswith("https://") and not settings.telegram_api_base:
        raise click.ClickException("Telegram only posts to https:// URLs")
    if not url.rstrip("/").endswith("/telegram/webhook"):
        click.echo("note: this app receives updates at /telegram/webhook", err=True)
    secret = settings.telegram_webhook_secret
    assert secret is not None  # resolve_secrets generates it in development, requires it else
    bot = make_bot(settings)

    async def register() -> None:
        async with bot:
            await bot.set_webhook(
                url,
                secret_token=secret.get_secret_value(),
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=drop_pending,
            )

    try:
        asyncio.run(register())
    except TelegramError as exc:
        token = settings.telegram_token.get_secret_value()
        raise click.ClickException(f"Telegram refused: {mask(str(exc), token)}") from None
    click.echo(f"webhook set: {url} (with the secret of HOTLINE_TELEGRAM_WEBHOOK_SECRET)")


@telegram.command("fake-api")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8081, show_default=True, type=int)
@click.option(
    "--webhook",
    default=None,
    help="Where to post updates (http://127.0.0.1:8000/telegram/webhook); else what "
    "setWebhook registers (hotline telegram set-webhook).",
)
@click.option(
    "--secret",
    default=None,
    envvar="HOTLINE_TELEGRAM_WEBHOOK_SECRET",
    show_envvar=True,
    help="Secret header sent with each update (setWebhook may set it too).",
)
def telegram_fake_api(host: str, port: int, webhook: str | None, secret: str | None) -> None:
    """A local fake of the Telegram Bot API, with a control API that plays the person.

    Point the app at it with HOTLINE_TELEGRAM_API_BASE=http://HOST:PORT. Then
    POST /_user/CHAT/text {"text": "/start"}, POST /_user/CHAT/tap {"label": "English"},
    GET /_user/CHAT/messages. Nothing reaches Telegram.
    """
    import uvicorn

    from bot.dev.fake_botapi import create_fake

    click.echo(
        f"Fake Bot API on http://{host}:{port}  (HOTLINE_TELEGRAM_API_BASE=http://{host}:{port})"
    )
    click.echo(f"webhook: {webhook or 'not set yet (setWebhook sets it)'}")
    # No access log: Bot API paths carry the token.
    uvicorn.run(
        create_fake(webhook, secret), host=host, port=port, log_level="info", access_log=False
    )
