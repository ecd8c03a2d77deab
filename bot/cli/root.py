"""The ``hotline`` command group and what its commands share: settings, errors as messages."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from bot.core.languages import LANGUAGES
from bot.core.logconfig import configure as configure_logs
from bot.core.settings import ConfigError, Settings, resolve_secrets

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from bot.core.privacy import Cipher

LANG_CHOICE = click.Choice(LANGUAGES)


def settings_or_exit() -> Settings:
    try:
        return Settings()
    except Exception as exc:  # pydantic's ValidationError names the variable and the problem
        raise click.ClickException(f"invalid HOTLINE_* setting: {exc}") from None


@click.group()
@click.option("--log-level", default=None, help="DEBUG, INFO, WARNING (default: HOTLINE_LOG_LEVEL)")
def main(log_level: str | None) -> None:
    """Hotline: reporting and referral hotline against human trafficking."""
    settings = settings_or_exit()
    level = (log_level or settings.log_level).upper()
    if level not in logging.getLevelNamesMapping():
        raise click.BadParameter(f"unknown log level {level!r}; use DEBUG, INFO, WARNING or ERROR")
    configure_logs(level, settings.log_style)  # HOTLINE_LOG_FORMAT: json or text


def resolved_or_exit() -> Settings:
    try:
        return resolve_secrets(settings_or_exit())
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def cipher_or_exit(settings: Settings) -> Cipher:
    """The key ring of HOTLINE_ENCRYPTION_KEYS, or a message naming the setting."""
    from bot.core.privacy import Cipher

    try:
        return Cipher.from_list(settings.encryption_key_list)
    except ValueError as exc:
        raise click.ClickException(f"HOTLINE_ENCRYPTION_KEYS: {exc}") from None


@contextmanager
def migrated(settings: Settings) -> Iterator[Engine]:
    """The database at the newest schema for one command, disposed after it."""
    from bot.core.db import engine_for
    from bot.core.migrate import upgrade

    engine = engine_for(settings)
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
