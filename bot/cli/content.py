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
