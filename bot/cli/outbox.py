"""``hotline outbox show``: in development, the last texts queued, to play the demo by SMS.

The demo's phones are unassigned numbers and, without ``HOTLINE_AT_API_KEY``, nothing is sent:
this shows what an on-call operator or a partner service would read (an alert's reference, a
partner's code), naming who it is for by role, never by number. Refused in production.
"""

from __future__ import annotations

import click

from bot.cli.root import cipher_or_exit, main, migrated, resolved_or_exit, settings_or_exit


@main.group()
def outbox() -> None:
    """Messages queued to go out."""


@outbox.command("show")
@click.option("--last", default=5, show_default=True, type=click.IntRange(1, 100))
def outbox_show(last: int) -> None:
    """Development only: the last messages queued, decrypted (who for, never a number)."""
    from sqlmodel import Session, col, select

    from bot.core.privacy import DecryptError
    from bot.models import Operator, OutboundMessage
    from bot.outbox.queue import BODY

    if settings_or_exit().env == "production":
        raise click.ClickException("outbox show is for development only")
    settings = resolved_or_exit()
    cipher = cipher_or_exit(settings)
    with migrated(settings) as engine, Session(engine) as session:
        rows = session.exec(
            select(OutboundMessage).order_by(col(OutboundMessage.id).desc()).limit(last)
        ).all()
        names = {f"op_{o.id}": o.username for o in session.exec(select(Operator)).all()}
        for row in reversed(rows):
            who = names.get(row.contact) or ("service" if row.purpose == "partner" else "person")
            try:
                text = cipher.decrypt(row.body, BODY)
            except DecryptError:
                text = "(text cleared)"
            click.echo(f"#{row.id} {row.purpose} {row.channel} to {who} [{row.status}]: {text}")
