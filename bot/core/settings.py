"""Settings from ``HOTLINE_*`` environment variables; secrets never come from code or the repo.

In the embedded default (``HOTLINE_ENV=development``) a missing secret is generated once and
kept in a local file (``HOTLINE_SECRETS_FILE``, mode 0600) with a warning. In production a
missing secret stops start-up with a message naming the variables.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.core.languages import LANGUAGES, Language

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]

GENERATED = (
    "callback_token",
    "pseudonym_key",
    "encryption_keys",
    "telegram_webhook_secret",
    "demo_password",
)
"""Secrets the embedded default may generate: random, meaningless outside this install."""


PUBLIC_NAME = r"^[A-Za-z0-9][A-Za-z0-9 .,'&()-]*$"
"""Letters, digits, spaces and plain punctuation: GSM-7 on every phone, in every language."""


class ConfigError(Exception):
    """Settings that cannot run (e.g. production without its secrets)."""


class Settings(BaseSettings):
    """Everything the hotline reads from the environment (prefix ``HOTLINE_``)."""

    model_config = SettingsConfigDict(env_prefix="HOTLINE_", extra="ignore")

    env: Literal["development", "production"] = "development"
    database_url: str = "sqlite:///hotline.db"
    redis_url: str | None = None
    callback_token: SecretStr | None = None
    pseudonym_key: SecretStr | None = None
    encryption_keys: SecretStr | None = None
    at_username: str = "sandbox"
    at_api_key: SecretStr | None = None
    at_sender_id: str | None = None
    ussd_service_codes: str = ""
    telegram_token: SecretStr | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_api_base: str | None = None
    default_language: Language = "en"
    default_region: Annotated[str, Field(pattern=r"^([A-Za-z]{2})?$")] = ""
    """ISO country (e.g. ``CD``) of a phone number written in national form (``0812…``)."""
    public_number: Annotated[str, Field(min_length=3, max_length=16)] = "0800 000 000"
    """At most 16 characters: every screen is checked with a number that long."""
    public_name: Annotated[str, Field(min_length=2, max_length=20, pattern=PUBLIC_NAME)] = (
        "Helpline"
    )
    """The hotline's name on screens (``{hotline_name}``): neutral, never the crime; at most 20
    plain GSM-7 characters, so every screen is checked with a name that long."""
    toll_free: bool = False
    """Is the public number free to call? Only then do screens say the help is free."""
    demo: bool = False
    demo_password: SecretStr | None = None
    session_ttl: int = 300
    sms_session_ttl: int = 1800
    language_memory_days: int = 90  # days a contact's chosen language is remembered; 0: off
    telegram_session_ttl: int = 1800
    sms_hourly_limit: int = 20
    case_hourly_limit: int = 5  # cases one contact may file per hour, on every channel
    lookup_hourly_limit: int = 10  # report look-ups (follow a report) per contact per hour
    alert_group_seconds: int = 120  # an operator's later alerts in this window go as one
    alert_shift_budget: int = 30  # pages per shift; past it only the supervisor's summary
    sms_keywords: str = ""
    partner_code_days: int = Field(default=30, ge=1, le=365)
    """Days a partner service's referral code (reply CODE ACCEPT / DECLINE / DONE) works."""
    shift_notice_minutes: int = Field(default=60, ge=1, le=24 * 60)
    """Minutes before a shift without an active primary starts that its supervisor is told."""
    delivery_max_lag: int = 120
    """Seconds a due outbox message or escalation may wait before /healthz fails."""
    worker_stale_after: int = 60
    """Seconds without a worker heartbeat (once a worker has run) before /healthz fails."""
    retention_closed_days: int = 730
    retention_contact_days: int = 30
    consent_withdraw_grace_days: int = Field(default=7, ge=0)
    """Days a number stays after contact consent is withdrawn (0: deleted at once)."""
    api_token_hours: int = 12
    web_idle_minutes: int = Field(default=30, ge=1)
    """Minutes without a request after which a team web session ends."""
    web_session_hours: int = Field(default=12, ge=1)
    """Hours after sign-in at which a team web session ends, however active."""
    web_live_seconds: int = Field(default=300, ge=1)
    """Seconds a live queue's event stream stays open before the browser reconnects."""
    web_live_check_seconds: float = Field(default=3.0, gt=0)
    """Seconds between two checks for a change of the queue, per open stream."""
    auto_migrate: bool = True
    flows_dir: Path = ROOT / "flows"
    locales_dir: Path = ROOT / "locales"
    secrets_file: Path = Path(".hotline-secrets.json")
    log_level: str = "INFO"
    # observability (bot.core.logconfig, bot.core.metrics, bot.http.probes)
    log_format: Literal["json", "text"] | None = None
    """Log lines as JSON or text; unset: JSON in production, text in development."""
    metrics_token: SecretStr | None = Field(default=None, min_length=16)
    """Bearer token for ``/metrics`` on the app's port and the details of ``/readyz`` (16
    characters at least: ``hotline keys new`` prints one)."""
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    """A port of its own for ``/metrics`` (app and worker); unset: none."""
    metrics_host: str = "127.0.0.1"
    """Address the metrics port listens on (``0.0.0.0`` inside a container network)."""
    db_pool_size: int = Field(default=5, ge=1)
    """Connections the engine keeps open to PostgreSQL (SQLAlchemy's pool_size)."""
    db_max_overflow: int = Field(default=10, ge=0)
    """Connections opened beyond ``db_pool_size`` at busy times, closed again after."""
    db_pool_timeout: float = Field(default=30.0, gt=0)
    """Seconds a thread waits for a free connection before its work fails."""
    db_threads: int = Field(default=0, ge=0)
    """Threads for the database work of requests (reports, look-ups); 0: 1 on SQLite (writes
    are one at a time anyway), else the smaller of ``db_pool_size`` and 4."""
    db_queue_wait: float = Field(default=5.0, gt=0)
    """Seconds a report may wait for a database thread; past it, it is not started: the person
    gets a neutral "try again" screen and nothing is kept (Africa's Talking gives up after 10 s)."""
    content_poll_seconds: float = Field(default=1.0, gt=0)
    """Seconds between two looks for a publish (one cheap query) when there is no Redis to
    announce it; with Redis, a publish is announced at once and looked for every 30 s."""

    @property
    def screen_values(self) -> dict[str, str]:
        """What screens fill in for ``{hotline_number}`` and ``{hotline_name}``."""
        return {"hotline_number": self.public_number, "hotline_name": self.public_name}

    @property
    def log_style(self) -> str:
        """``json`` or ``text``: as set, else JSON in production and text in development."""
        if self.log_format is not None:
            return self.log_format
        return "json" if self.env == "production" else "text"

    @property
    def service_codes(self) -> list[str]:
        """USSD service codes this deployment answers (empty = any)."""
        return [c.strip() for c in self.ussd_service_codes.split(",") if c.strip()]

    @property
    def sms_keyword_map(self) -> dict[str, str]:
        """Extra SMS keywords (``WORD=lang,...``) on top of HELP, AIDE, LISALISI, THUSO."""
        found: dict[str, str] = {}
        for item in self.sms_keywords.split(","):
            word, _, lang = item.partition("=")
            if word.strip() and lang.strip() in LANGUAGES:
                found[word.strip().upper()] = lang.strip()
        return found

    @property
    def encryption_key_list(self) -> list[str]:
        """Encryption keys, newest first."""
        raw = self.encryption_keys.get_secret_value() if self.encryption_keys else ""
        return [k.strip() for k in raw.split(",") if k.strip()]


def _new_secret(name: str) -> str:
    if name == "encryption_keys":
        return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    return secrets.token_urlsafe(32)


def _missing(settings: Settings, name: str) -> bool:
    """Unset, empty or blank (e.g. ``HOTLINE_PSEUDONYM_KEY=`` from an unset shell variable)."""
    if name == "encryption_keys":
        return not settings.encryption_key_list
    value: SecretStr | None = getattr(settings, name)
    return value is None or not value.get_secret_value().strip()


def resolve_secrets(settings: Settings) -> Settings:
    """Fill missing secrets: from the local file in development; refuse in production."""
    missing = [name for name in GENERATED if _missing(settings, name)]
    if settings.env == "production":
        required = [name for name in missing if name != "demo_password"]
        if settings.demo:
            raise ConfigError("HOTLINE_DEMO adds demo operators and rota: never in production")
        if _missing(settings, "at_api_key"):
            required.append("at_api_key")
        if settings.at_username == "sandbox":
            required.append("at_username")
        if _missing(settings, "telegram_token") and "telegram_webhook_secret" in required:
            required.remove("telegram_webhook_secret")
        if required:
            names = ", ".join("HOTLINE_" + n.upper() for n in required)
            raise ConfigError(f"production mode needs these settings in the environment: {names}")
        return settings
    if not missing:
        return settings
    path = settings.secrets_file
    stored: dict[str, str] = {}
    if path.exists():
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"cannot read development secrets in {path} ({exc}); fix or delete the file"
            ) from None
    created = [name for name in missing if name not in stored]
    for name in created:
        stored[name] = _new_secret(name)
    if created:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # also when the file existed with looser permissions
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(stored, handle, indent=2)
        log.warning(
            "generated development secrets %s in %s; set HOTLINE_* variables in production",
            ", ".join(created),
            path,
        )
    values = {name: SecretStr(stored[name]) for name in missing}
    return settings.model_copy(update=values)
