"""``hotline users``, ``ambassadors`` and ``directory``: the team, ambassadors and services."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bot.cli.root import (
    LANG_CHOICE,
    cipher_or_exit,
    main,
    migrated,
    resolved_or_exit,
    settings_or_exit,
)
from bot.team.roles import ROLES


@main.group()
def directory() -> None:
    """The service directory (CSV: name, organisation, service_type, areas, phones, ...)."""


@directory.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def directory_import(file: Path) -> None:
    """Add or update services from FILE.csv; a single bad row and nothing is imported."""
    from bot.directory.csv_io import import_csv

    with migrated(settings_or_exit()) as engine:
        result = import_csv(engine, file)
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
    from bot.directory.csv_io import export_csv

    with migrated(settings_or_exit()) as engine:
        text = export_csv(engine)
    if file is None:
        click.echo(text, nl=False)
        return
    file.write_text(text, encoding="utf-8")
    click.echo(f"directory written to {file}", err=True)


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
    settings = resolved_or_exit()
    cipher = cipher_or_exit(settings)
    with migrated(settings) as engine, Session(engine) as session:
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
    from bot.engine.areas import AreaDataError

    settings = resolved_or_exit()
    assert settings.pseudonym_key is not None  # resolve_secrets generates or requires it
    tree = None
    if area is not None:
        try:
            tree = read_areas(Path(settings.flows_dir) / AREAS_FILE)
        except AreaDataError as exc:
            raise click.ClickException(str(exc)) from None
    try:
        with migrated(settings) as engine:
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

    with migrated(settings_or_exit()) as engine:
        rows = list_ambassadors(engine)
    if not rows:
        click.echo("no ambassadors yet")
        return
    click.echo(f"{'pseudonym':<12} {'area':<28} {'registered':<10} active")
    for row in rows:
        click.echo(
            f"{row.contact_prefix:<12} {row.area or '-':<28} "
            f"{row.registered_at:%Y-%m-%d} {'yes' if row.active else 'no'}"
        )
