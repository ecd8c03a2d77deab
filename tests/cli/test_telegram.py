"""``hotline telegram set-webhook`` against a mocked and a local Bot API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl

import httpx
import pytest
import respx

from tests.cli.helpers import (
    run,
)

# --- telegram ------------------------------------------------------------------------------

BOT_TOKEN = "123456789:AAtestTOKENforTHEhotlineTESTS_0123-x"
BOT_API = f"https://api.telegram.org/bot{BOT_TOKEN}"
WEBHOOK = "https://hotline.example.org/telegram/webhook"


@pytest.fixture
def bot_api() -> Iterator[tuple[respx.MockRouter, list[tuple[str, dict[str, str]]]]]:
    """The Bot API (getMe, setWebhook) mocked; every call recorded with its parameters."""
    calls: list[tuple[str, dict[str, str]]] = []

    def answer(request: httpx.Request, method: str) -> httpx.Response:
        calls.append((method, dict(parse_qsl(request.content.decode()))))
        if method == "getMe":
            me = {"id": 42, "is_bot": True, "first_name": "Hotline", "username": "hotline_bot"}
            return httpx.Response(200, json={"ok": True, "result": me})
        return httpx.Response(200, json={"ok": True, "result": True})

    with respx.mock(assert_all_called=False) as router:
        router.post(url__regex=r"/bot[^/]+/(?P<method>\w+)$").mock(side_effect=answer)
        yield router, calls


def test_telegram_set_webhook_registers_the_url_with_the_secret(
    monkeypatch: pytest.MonkeyPatch,
    bot_api: tuple[respx.MockRouter, list[tuple[str, dict[str, str]]]],
) -> None:
    """Telegram is told where to post and which secret header to send."""
    monkeypatch.setenv("HOTLINE_TELEGRAM_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("HOTLINE_TELEGRAM_WEBHOOK_SECRET", "s3cret-header_value")
    result = run("telegram", "set-webhook", WEBHOOK)
    assert result.exit_code == 0, result.output
    router, calls = bot_api
    assert [m for m, _ in calls] == ["getMe", "setWebhook"]
    assert str(router.calls[-1].request.url) == f"{BOT_API}/setWebhook"
    params = calls[-1][1]
    assert params["url"] == WEBHOOK
    assert params["secret_token"] == "s3cret-header_value"
    assert json.loads(params["allowed_updates"]) == ["message", "callback_query"]
    assert params["drop_pending_updates"] == "false"
    assert f"webhook set: {WEBHOOK}" in result.stdout
    assert "s3cret" not in result.output and BOT_TOKEN.split(":")[1] not in result.output


def test_telegram_set_webhook_uses_the_generated_development_secret(
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    bot_api: tuple[respx.MockRouter, list[tuple[str, dict[str, str]]]],
) -> None:
    """In development the secret `serve` checks is the one generated into the secrets file."""
    monkeypatch.setenv("HOTLINE_TELEGRAM_TOKEN", BOT_TOKEN)
    result = run("telegram", "set-webhook", "--drop-pending", WEBHOOK)
    assert result.exit_code == 0, result.output
    stored = json.loads((workdir / ".hotline-secrets.json").read_text(encoding="utf-8"))
    params = bot_api[1][-1][1]
    assert params["secret_token"] == stored["telegram_webhook_secret"]
    assert params["drop_pending_updates"] == "true"


def test_telegram_set_webhook_on_a_local_bot_api_server(
    monkeypatch: pytest.MonkeyPatch,
    bot_api: tuple[respx.MockRouter, list[tuple[str, dict[str, str]]]],
) -> None:
    """HOTLINE_TELEGRAM_API_BASE sends the call to the local server (which may post over http)."""
    monkeypatch.setenv("HOTLINE_TELEGRAM_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("HOTLINE_TELEGRAM_API_BASE", "http://127.0.0.1:8081")
    result = run("telegram", "set-webhook", "http://127.0.0.1:8000/telegram/webhook")
    assert result.exit_code == 0, result.output
    router, _ = bot_api
    assert str(router.calls[-1].request.url) == f"http://127.0.0.1:8081/bot{BOT_TOKEN}/setWebhook"


def test_telegram_set_webhook_refusals(
    monkeypatch: pytest.MonkeyPatch,
    bot_api: tuple[respx.MockRouter, list[tuple[str, dict[str, str]]]],
) -> None:
    """No token, or a URL Telegram would not post to: nothing is called."""
    result = run("telegram", "set-webhook", WEBHOOK)
    assert result.exit_code == 1
    assert "HOTLINE_TELEGRAM_TOKEN is not set" in result.stderr
    monkeypatch.setenv("HOTLINE_TELEGRAM_TOKEN", BOT_TOKEN)
    result = run("telegram", "set-webhook", "http://hotline.example.org/telegram/webhook")
    assert result.exit_code == 1
    assert "https://" in result.stderr
    assert bot_api[1] == []


def test_telegram_set_webhook_reports_telegram_s_refusal_without_the_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An error from Telegram is shown; the token is not."""
    monkeypatch.setenv("HOTLINE_TELEGRAM_TOKEN", BOT_TOKEN)
    refusal = {"ok": False, "error_code": 401, "description": "Unauthorized"}
    with respx.mock() as router:
        router.post(f"{BOT_API}/getMe").mock(return_value=httpx.Response(401, json=refusal))
        result = run("telegram", "set-webhook", WEBHOOK)
    assert result.exit_code == 1
    assert "Telegram refused" in result.stderr
    assert BOT_TOKEN.split(":")[1] not in result.output
