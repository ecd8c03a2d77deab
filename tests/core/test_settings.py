"""Settings: HOTLINE_* variables, embedded defaults, and secrets that never come from the repo."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.core.settings import GENERATED, ConfigError, Settings, resolve_secrets

PRODUCTION = {
    "HOTLINE_ENV": "production",
    "HOTLINE_CALLBACK_TOKEN": "test-callback-token-not-real",
    "HOTLINE_PSEUDONYM_KEY": "test-pseudonym-key-not-real",
    "HOTLINE_ENCRYPTION_KEYS": "test-key-new,test-key-old",
    "HOTLINE_AT_USERNAME": "hotline-test",
    "HOTLINE_AT_API_KEY": "test-at-api-key-not-real",
}


pytestmark = pytest.mark.usefixtures("in_tmp_path")  # relative files land in tmp_path


def production(monkeypatch: pytest.MonkeyPatch, **overrides: str | None) -> None:
    """Set a complete production environment, then apply overrides (None unsets)."""
    for name, value in {**PRODUCTION, **overrides}.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)


def test_defaults_are_the_embedded_setup() -> None:
    """With no environment at all: SQLite file, in-process sessions, English, development."""
    settings = Settings()
    assert settings.env == "development"
    assert settings.database_url.startswith("sqlite:///")
    assert settings.redis_url is None
    assert settings.default_language == "en"
    assert settings.service_codes == []
    assert settings.encryption_key_list == []
    assert settings.flows_dir.joinpath("main.yaml").is_file()
    assert settings.locales_dir.joinpath("messages.pot").is_file()


def test_reads_hotline_prefixed_variables_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """HOTLINE_DATABASE_URL configures the app; a bare DATABASE_URL does not."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://other@127.0.0.1/other")
    monkeypatch.setenv("HOTLINE_DATABASE_URL", "postgresql://postgres@127.0.0.1/hotline")
    monkeypatch.setenv("HOTLINE_REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("HOTLINE_DEFAULT_LANGUAGE", "ln")
    monkeypatch.setenv("HOTLINE_SESSION_TTL", "120")
    settings = Settings()
    assert settings.database_url == "postgresql://postgres@127.0.0.1/hotline"
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert settings.default_language == "ln"
    assert settings.session_ttl == 120


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("HOTLINE_DEFAULT_LANGUAGE", "sw"),
        ("HOTLINE_ENV", "staging"),
        ("HOTLINE_SESSION_TTL", "five minutes"),
    ],
)
def test_invalid_values_are_refused_naming_the_field(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    """A typo in a setting stops start-up instead of silently running with a default."""
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert variable.removeprefix("HOTLINE_").lower() in str(caught.value)


@pytest.mark.parametrize(
    ("raw", "codes"),
    [
        ("", []),
        ("*384*1#", ["*384*1#"]),
        (" *384*1# , *384*2#,, ", ["*384*1#", "*384*2#"]),
    ],
)
def test_service_codes_are_split_on_commas(
    monkeypatch: pytest.MonkeyPatch, raw: str, codes: list[str]
) -> None:
    """HOTLINE_USSD_SERVICE_CODES is a comma list; blanks and spaces are dropped."""
    monkeypatch.setenv("HOTLINE_USSD_SERVICE_CODES", raw)
    assert Settings().service_codes == codes


def test_encryption_keys_newest_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rotated keys are a comma list, newest first, and stay secret in the settings' repr."""
    monkeypatch.setenv("HOTLINE_ENCRYPTION_KEYS", " key-new-xyz , key-old-xyz ,")
    settings = Settings()
    assert settings.encryption_key_list == ["key-new-xyz", "key-old-xyz"]
    assert "key-new-xyz" not in repr(settings)
    assert "key-new-xyz" not in str(settings.model_dump())


def test_development_generates_missing_secrets_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """First start writes a 0600 file and warns naming it; the next start reuses the same values."""
    path = tmp_path / "secrets.json"
    with caplog.at_level(logging.WARNING, logger="bot.core.settings"):
        first = resolve_secrets(Settings(secrets_file=path))
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    values = {}
    for name in GENERATED:
        secret = getattr(first, name)
        assert secret is not None
        values[name] = secret.get_secret_value()
        assert len(values[name]) >= 32
    assert len(set(values.values())) == len(values), "each secret is drawn separately"
    assert json.loads(path.read_text(encoding="utf-8")) == values
    assert len(first.encryption_key_list) == 1

    (record,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert str(path) in record.getMessage()
    for value in values.values():
        assert value not in caplog.text

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="bot.core.settings"):
        second = resolve_secrets(Settings(secrets_file=path))
    assert {n: getattr(second, n).get_secret_value() for n in GENERATED} == values
    assert caplog.records == [], "reusing stored secrets is not worth a warning"


def test_development_default_secrets_file_is_in_the_working_directory(tmp_path: Path) -> None:
    """The embedded default keeps its secrets beside its database, in the working directory."""
    resolve_secrets(Settings())
    assert (tmp_path / ".hotline-secrets.json").is_file()


def test_development_keeps_secrets_given_in_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A secret set by the operator is used as is and never copied into the local file."""
    monkeypatch.setenv("HOTLINE_PSEUDONYM_KEY", "operator-chosen-pseudonym-key")
    path = tmp_path / "secrets.json"
    settings = resolve_secrets(Settings(secrets_file=path))
    assert settings.pseudonym_key is not None
    assert settings.pseudonym_key.get_secret_value() == "operator-chosen-pseudonym-key"
    stored = json.loads(path.read_text(encoding="utf-8"))
    assert "pseudonym_key" not in stored
    assert "operator-chosen-pseudonym-key" not in path.read_text(encoding="utf-8")


def test_development_with_every_secret_set_writes_no_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Nothing to generate, nothing written."""
    for name in GENERATED:
        monkeypatch.setenv(f"HOTLINE_{name.upper()}", f"set-by-operator-{name}")
    path = tmp_path / "secrets.json"
    resolve_secrets(Settings(secrets_file=path))
    assert not path.exists()


def test_development_blank_secret_is_generated(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``HOTLINE_PSEUDONYM_KEY=`` (an unset shell variable) is no key: one is generated."""
    monkeypatch.setenv("HOTLINE_PSEUDONYM_KEY", "")
    settings = resolve_secrets(Settings(secrets_file=tmp_path / "secrets.json"))
    assert settings.pseudonym_key is not None
    assert len(settings.pseudonym_key.get_secret_value()) >= 32


def test_production_without_secrets_refuses_naming_every_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Production never generates secrets: the message lists what to set, and writes nothing."""
    monkeypatch.setenv("HOTLINE_ENV", "production")
    path = tmp_path / "secrets.json"
    with pytest.raises(ConfigError) as caught:
        resolve_secrets(Settings(secrets_file=path))
    message = str(caught.value)
    for variable in (
        "HOTLINE_CALLBACK_TOKEN",
        "HOTLINE_PSEUDONYM_KEY",
        "HOTLINE_ENCRYPTION_KEYS",
        "HOTLINE_AT_API_KEY",
        "HOTLINE_AT_USERNAME",
    ):
        assert variable in message
    assert "HOTLINE_TELEGRAM_WEBHOOK_SECRET" not in message, "Telegram is not configured"
    assert not path.exists()


def test_production_names_only_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    """One missing key: the message names that one, not the others."""
    production(monkeypatch, HOTLINE_PSEUDONYM_KEY=None)
    with pytest.raises(ConfigError, match="HOTLINE_PSEUDONYM_KEY") as caught:
        resolve_secrets(Settings())
    assert "HOTLINE_CALLBACK_TOKEN" not in str(caught.value)


@pytest.mark.parametrize(
    ("variable", "blank"),
    [
        ("HOTLINE_PSEUDONYM_KEY", ""),
        ("HOTLINE_CALLBACK_TOKEN", "   "),
        ("HOTLINE_ENCRYPTION_KEYS", " , "),
        ("HOTLINE_AT_API_KEY", ""),
    ],
)
def test_production_refuses_blank_secrets(
    monkeypatch: pytest.MonkeyPatch, variable: str, blank: str
) -> None:
    """An empty pseudonym key would make phone-number pseudonyms trivially reversible."""
    production(monkeypatch, **{variable: blank})
    with pytest.raises(ConfigError, match=variable):
        resolve_secrets(Settings())


def test_production_with_everything_set_starts_and_writes_no_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """All secrets from the environment: accepted unchanged, no secrets file anywhere."""
    production(monkeypatch)
    settings = resolve_secrets(Settings())
    assert settings.pseudonym_key is not None
    assert settings.pseudonym_key.get_secret_value() == PRODUCTION["HOTLINE_PSEUDONYM_KEY"]
    assert settings.encryption_key_list == ["test-key-new", "test-key-old"]
    assert settings.telegram_webhook_secret is None
    assert list(tmp_path.iterdir()) == []


def test_production_sandbox_username_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Africa's Talking's sandbox account would send nothing to real phones."""
    production(monkeypatch, HOTLINE_AT_USERNAME="sandbox")
    with pytest.raises(ConfigError, match="HOTLINE_AT_USERNAME"):
        resolve_secrets(Settings())


def test_production_telegram_token_needs_a_webhook_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a webhook secret anyone could post fake Telegram updates to the hotline."""
    production(monkeypatch, HOTLINE_TELEGRAM_TOKEN="123456:test-token-not-real")
    with pytest.raises(ConfigError) as caught:
        resolve_secrets(Settings())
    assert "HOTLINE_TELEGRAM_WEBHOOK_SECRET" in str(caught.value)
    assert "test-token-not-real" not in str(caught.value)

    monkeypatch.setenv("HOTLINE_TELEGRAM_WEBHOOK_SECRET", "test-webhook-secret")
    settings = resolve_secrets(Settings())
    assert settings.telegram_webhook_secret is not None


def test_public_name_is_neutral_by_default_and_fills_screens() -> None:
    """Screens carry the deployment's name; the default names no crime, and help is not free."""
    settings = Settings()
    assert settings.public_name == "Helpline" and settings.toll_free is False
    named = Settings(public_name="Ligne d'aide", public_number="0800 111 222", toll_free=True)
    assert named.screen_values == {"hotline_number": "0800 111 222", "hotline_name": "Ligne d'aide"}


@pytest.mark.parametrize(
    "name", ["H", "W" * 21, "Lisalisi ɛ", "Help\nline", " Helpline", "Hotline;"]
)
def test_public_name_too_long_or_not_plain_gsm7_is_refused(name: str) -> None:
    """Every screen is measured with a 20-character plain name: anything else would not fit."""
    with pytest.raises(ValidationError, match="public_name"):
        Settings(public_name=name)


def test_a_short_metrics_token_is_refused() -> None:
    import pydantic

    with pytest.raises(pydantic.ValidationError, match="metrics_token"):
        Settings(metrics_token="short")
    assert Settings(metrics_token="m" * 16).metrics_token is not None
