"""``hotline purge`` and ``hotline keys new|rotate``: retention and key rotation."""

from __future__ import annotations

import click

from bot.cli.root import cipher_or_exit, main, migrated, resolved_or_exit, settings_or_exit


@main.command()
@click.option("--dry-run", is_flag=True, help="Count what would be cleared; change nothing.")
def purge(dry_run: bool) -> None:
    """Apply retention: clear old contact data, anonymise long-closed cases (run it daily)."""
    from bot.core.clock import utcnow
    from bot.governance.retention import purge as run_purge

    settings = settings_or_exit()
    try:
        with migrated(settings) as engine:
            report = run_purge(
                engine,
                now=utcnow(),
                contact_days=settings.retention_contact_days,
                closed_days=settings.retention_closed_days,
                dry_run=dry_run,
            )
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
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
    from bot.governance.keys import rotate

    settings = resolved_or_exit()
    cipher = cipher_or_exit(settings)
    with migrated(settings) as engine:
        report = rotate(engine, cipher, batch=batch)
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
def phones() -> None:
    """Stored phone numbers (operators' phones, consented contact numbers)."""


@phones.command("normalise")
def phones_normalise() -> None:
    """Re-spell stored phone numbers in E.164 (once, after upgrading; HOTLINE_DEFAULT_REGION
    reads national spellings)."""
    from bot.governance.phones import normalise_stored

    settings = resolved_or_exit()
    cipher = cipher_or_exit(settings)
    with migrated(settings) as engine:
        report = normalise_stored(engine, cipher, region=settings.default_region or None)
    click.echo(f"phone numbers: {report.summary()}")
