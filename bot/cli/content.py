"""``hotline flows check`` and ``hotline i18n update|check``: the flows and their catalogs."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli.root import main, settings_or_exit
from bot.core.settings import ROOT, Settings


@main.group()
def flows() -> None:
    """Flow files."""


@flows.command("check")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
def flows_check(paths: tuple[Path, ...]) -> None:
    """Validate flow files (default: the shipped flows); exit 1 listing every problem."""
    from bot.content.files import check_flows
    from bot.i18n.catalog import Catalogs

    settings = settings_or_exit()
    targets = list(paths) or [settings.flows_dir]
    loaded, issues = check_flows(targets, Catalogs.load(settings.locales_dir))
    for issue in issues:
        click.echo(str(issue), err=True)
    if issues:
        raise click.ClickException(f"{len(issues)} problem(s) in flows")
    states = sum(len(f.definition.states) for f in loaded)
    click.echo(f"ok: {len(loaded)} flow(s), {states} screens, 4 languages, USSD/SMS/Telegram fit")


@flows.command("export")
@click.argument("target", type=click.Path(file_okay=False, path_type=Path))
def flows_export(target: Path) -> None:
    """Write the published version of every flow to TARGET/flows and TARGET/locales, the layout
    of the repository (status of each translation as a translator comment)."""
    from sqlmodel import Session

    from bot.cli.root import migrated
    from bot.content.files import AREAS_FILE
    from bot.content.folder import write_folder
    from bot.content.seed import seed
    from bot.content.store import published

    settings = settings_or_exit()
    with migrated(settings) as engine:
        seed(engine, settings.flows_dir, settings.locales_dir)
        with Session(engine) as session:
            stored = published(session)
    lines = write_folder(
        target, stored, locales=settings.locales_dir, areas_file=settings.flows_dir / AREAS_FILE
    )
    for line in lines:
        click.echo(line)


@flows.command("import")
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--by", default="files", show_default=True, help="Who imports (audit trail).")
@click.option(
    "--replace-drafts", is_flag=True, help="Replace drafts that have edits nobody published."
)
def flows_import(source: Path, by: str, replace_drafts: bool) -> None:
    """Make the flows of SOURCE/flows (translations from SOURCE/locales) their flows' drafts;
    refused whole, nothing imported, when a file is malformed. Publish them after."""
    from sqlmodel import Session

    from bot.cli.root import migrated
    from bot.content.assemble import load_base
    from bot.content.folder import ImportRefused, read_folder
    from bot.content.imports import import_drafts
    from bot.content.seed import seed
    from bot.content.versions import draft_issues
    from bot.core.clock import utcnow

    settings = settings_or_exit()
    base = load_base(settings.flows_dir, settings.locales_dir, settings.toll_free)
    folder = source / "flows" if (source / "flows").is_dir() else source
    now = utcnow()
    try:
        found = read_folder(folder, source / "locales", by=by, now=now, areas=base.areas)
        with migrated(settings) as engine:
            seed(engine, settings.flows_dir, settings.locales_dir)
            with Session(engine) as session:
                drafts = import_drafts(session, found, by=by, now=now, replace=replace_drafts)
                issues = {d.flow: draft_issues(session, d.flow, base) for d in drafts}
                session.commit()
    except ImportRefused as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        raise click.ClickException(
            f"import refused: {len(exc.problems)} problem(s); nothing was imported"
        ) from None
    for draft in drafts:
        found_issues = issues[draft.flow]
        for issue in found_issues:
            click.echo(str(issue), err=True)
        state = f"{len(found_issues)} issue(s)" if found_issues else "ready to publish"
        click.echo(f"{draft.flow}: draft revision {draft.revision}, {state}")


@flows.command("publish")
@click.argument("names", nargs=-1, required=True)
@click.option("--note", default="", help="What changed, for the history.")
@click.option("--by", default="files", show_default=True, help="Who publishes (audit trail).")
def flows_publish(names: tuple[str, ...], note: str, by: str) -> None:
    """Publish the drafts of the flows NAMES as their next versions (after the checks)."""
    from sqlmodel import Session

    from bot.cli.root import migrated
    from bot.content.assemble import load_base
    from bot.content.signal import announce
    from bot.content.store import generation
    from bot.content.versions import NotPublishable, UnknownFlow, get_draft, publish
    from bot.core.clock import utcnow

    settings = settings_or_exit()
    base = load_base(settings.flows_dir, settings.locales_dir, settings.toll_free)
    with migrated(settings) as engine, Session(engine) as session:
        for name in names:
            try:
                draft = get_draft(session, name)
                version = publish(
                    session,
                    flow=name,
                    revision=draft.revision,
                    note=note,
                    by=by,
                    now=utcnow(),
                    base=base,
                )
            except UnknownFlow as exc:
                raise click.ClickException(str(exc)) from None
            except NotPublishable as exc:
                for issue in exc.issues:
                    click.echo(str(issue), err=True)
                raise click.ClickException(f"{name} not published") from None
            session.commit()
            announce(settings.redis_url, generation(session))  # every app process serves it
            click.echo(f"{name}: version {version.number} published")


@main.group()
def i18n() -> None:
    """Translations (gettext catalogs under locales/)."""


def _template() -> tuple[Settings, object]:
    from bot.content.extract import extract
    from bot.content.files import flow_files

    settings = settings_or_exit()
    return settings, extract(flow_files([settings.flows_dir]), ROOT / "bot", ROOT)


def _web_template() -> object:
    from bot.content.extract import extract_web

    return extract_web(ROOT / "admin", ROOT)


@i18n.command("update")
def i18n_update() -> None:
    """Extract strings from flows, code and the team web into the templates and merge them into
    every catalog (``messages`` and ``web``)."""
    from babel.messages.catalog import Catalog

    from bot.content.extract import WEB_DOMAIN, update

    settings, template = _template()
    web = _web_template()
    assert isinstance(template, Catalog) and isinstance(web, Catalog)
    for line in update(settings.locales_dir, template):
        click.echo(line)
    for line in update(settings.locales_dir, web, WEB_DOMAIN):
        click.echo(line)


@i18n.command("check")
def i18n_check() -> None:
    """Fail on any missing, fuzzy or placeholder-broken entry, or a screen over its limit."""
    from babel.messages.catalog import Catalog

    from bot.content.extract import WEB_DOMAIN
    from bot.content.files import check_flows
    from bot.i18n.catalog import Catalogs
    from bot.i18n.check import check_catalogs

    settings, template = _template()
    web = _web_template()
    assert isinstance(template, Catalog) and isinstance(web, Catalog)
    problems = check_catalogs(settings.locales_dir, template)
    problems.extend(check_catalogs(settings.locales_dir, web, WEB_DOMAIN))
    catalogs = Catalogs.load(settings.locales_dir)
    _, issues = check_flows([settings.flows_dir], catalogs)
    problems.extend(str(i) for i in issues)
    # On call by SMS: alerts, partner codes and shift notices each fit one SMS part.
    from bot.i18n import ui
    from bot.i18n.check import check_one_part

    problems.extend(check_one_part(catalogs.gettext, ui.ONE_PART, ui.ONE_PART_SAMPLES))
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s) in translations")
    click.echo(
        f"ok: {len(template)} strings complete in en, fr, ln, st (and {len(web)} of the team "
        f"web); every screen fits; {len(ui.ONE_PART)} on-call SMS texts fit one part each"
    )
