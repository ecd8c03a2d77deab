"""``hotline stats`` (the statistics page's tables in the terminal, or as CSV) and
``hotline demo year|remove`` (the demo's synthetic year of cases)."""

from __future__ import annotations

import click

from bot.cli.root import main, migrated, settings_or_exit


def _place_names(tree: object) -> dict[str, str]:
    from bot.engine.areas import AreaTree

    names: dict[str, str] = {}
    if isinstance(tree, AreaTree):
        for country in tree.countries:
            names[country.code] = country.name
            for province in country.areas:
                names[province.code] = f"{province.name}, {country.name}"
    return names


@main.command()
@click.option("--period", "-p", default="", help="2026-03, 2026-Q1 or 2026 (default: this month)")
@click.option("--csv", "as_csv", is_flag=True, help="The case tables as CSV on stdout.")
def stats(period: str, as_csv: bool) -> None:
    """Print the period's figures: the service in full, the cases suppressed ([c])."""
    from sqlmodel import Session

    from bot.content.files import areas_beside
    from bot.core.clock import utcnow
    from bot.stats.cases import case_figures, province_map
    from bot.stats.exports import RULE, to_csv
    from bot.stats.periods import BadPeriod, Period
    from bot.stats.report import service_lines, table_lines

    settings = settings_or_exit()
    now = utcnow()
    try:
        chosen = Period.parse(period) if period else Period.month_of(now.date())
    except BadPeriod as exc:
        raise click.BadParameter(str(exc), param_hint="--period") from None
    tree = areas_beside(settings.flows_dir)
    names = _place_names(tree)

    def place(code: str) -> str:
        return names.get(code, code)

    with migrated(settings) as engine, Session(engine) as session:
        from bot.stats.rollup import year_counts

        counts = year_counts(session, chosen.year, now=now)
        figures = case_figures(session, chosen, province_map(tree), counts=counts)
        if as_csv:
            click.echo(to_csv(figures, place), nl=False)
            return
        from bot.stats.service import service_figures

        service = service_figures(session, chosen, now=now, counts=counts)
    click.echo(f"Hotline statistics {chosen}")
    click.echo("")
    for line in service_lines(service):
        click.echo(line)
    click.echo("")
    click.echo(RULE)
    for table in figures.tables:
        click.echo("")
        for line in table_lines(table, place):
            click.echo(line)


@main.group()
def demo() -> None:
    """The demo's synthetic year of cases (added with the demo team, marked demo)."""


@demo.command("year")
def demo_year_add() -> None:
    """Add the demo year (about 1,500 invented closed cases) unless it is there."""
    from datetime import date

    from bot.dev import demo_year

    with migrated(settings_or_exit()) as engine:
        added = demo_year.seed(engine, today=date.today(), again=True)
    click.echo(f"demo year: {added} synthetic cases added" if added else "demo year already there")


@demo.command("remove")
def demo_remove() -> None:
    """Delete the demo year's cases and everything recorded on them."""
    from bot.dev import demo_year

    with migrated(settings_or_exit()) as engine:
        removed = demo_year.remove(engine)
    click.echo(f"demo year: {removed} synthetic cases removed")
