"""``hotline telegram set-webhook|fake-api``: the Telegram bot's setup and a local Bot API."""

from __future__ import annotations

import asyncio

import click

from bot.cli.root import main, resolved_or_exit


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

    settings = resolved_or_exit()
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
