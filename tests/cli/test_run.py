"""``hotline simulate``, ``serve`` and ``worker`` as an operator runs them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.conversation.dryrun import SAMPLE_REFERENCE
from tests.cli.helpers import (
    CALL_BACK,
    CATALOGS,
    CHOICE,
    HELP,
    MENU,
    MENU_FLOWS,
    NUMBER,
    SENT,
    SHIPPED,
    SHIPPED_FLOWS,
    TO_HELP,
    folded,
    run,
)

# --- simulate ----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "fr", "ln", "st"])
def test_simulate_walks_each_language_to_help(workdir: Path, lang: str) -> None:
    """Language, 'Get help now' (the number), a call back: CON screens, END with a reference."""
    inputs = workdir / "inputs.txt"
    inputs.write_text(f"{CHOICE[lang]}\n4\n{CALL_BACK}", encoding="utf-8")
    result = run("simulate", "--input", str(inputs))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "CON Choose your language:" in out
    assert "CON " + folded(lang, MENU) in out
    assert "CON " + folded(lang, HELP) + "\n1 " + folded(lang, "Ask us to contact you") in out
    assert "END " + folded(lang, SENT) in out
    assert NUMBER in folded(lang, SENT) and SAMPLE_REFERENCE in folded(lang, SENT)
    assert f"> {CHOICE[lang]}\n" in out
    assert out.rstrip().endswith("(conversation ended)")
    assert out.count("--- USSD ") == 6


def test_simulate_reads_inputs_from_stdin_in_the_chosen_language() -> None:
    """Piped inputs work like a file; --lang sets the first screen's language."""
    result = run("simulate", "--lang", "fr", input="2\n4\n" + CALL_BACK)
    assert result.exit_code == 0, result.output
    assert "CON " + folded("fr", "Choose your language:") in result.stdout
    assert "CON " + folded("fr", HELP) in result.stdout
    assert "END " + folded("fr", SENT) in result.stdout


def test_simulate_first_screen_follows_the_default_language(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """HOTLINE_DEFAULT_LANGUAGE=st greets in Sesotho."""
    monkeypatch.setenv("HOTLINE_DEFAULT_LANGUAGE", "st")
    result = run("simulate", input="0\n")
    assert result.exit_code == 0, result.output
    assert "CON " + folded("st", "Choose your language:") in result.stdout


def test_simulate_telegram_shows_buttons_and_full_orthography() -> None:
    """Telegram keeps ɛ/ɔ and shows options as buttons."""
    result = run("simulate", "--channel", "telegram", input="3\n")
    assert result.exit_code == 0, result.output
    assert "[1 English]  [2 Francais]  [3 Lingala]  [4 Sesotho]" in result.stdout
    assert CATALOGS.gettext("ln", MENU).format(hotline_name="Helpline") in result.stdout
    assert "--- Telegram " in result.stdout


def test_simulate_sms_shows_parts() -> None:
    """SMS screens are measured in parts."""
    result = run("simulate", "--channel", "sms", input="1\n4\n")
    assert result.exit_code == 0, result.output
    assert "--- SMS " in result.stdout
    assert "part(s)" in result.stdout
    assert "CON " not in result.stdout


def test_simulate_unknown_flow() -> None:
    """A flow name that does not exist is named along with the known ones."""
    result = run("simulate", "--flow", "nope", input="")
    assert result.exit_code == 1
    assert set(SHIPPED_FLOWS) >= MENU_FLOWS
    assert f"unknown flow 'nope'; known: {', '.join(SHIPPED_FLOWS)}" in result.stderr


def test_simulate_starts_the_flow_asked_for() -> None:
    """--flow help opens on the help menu, in the language of --lang."""
    result = run("simulate", "--flow", "help", "--lang", "st", input=CALL_BACK)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("--- USSD ")
    assert result.stdout.split("\n")[1] == "CON " + folded("st", HELP)
    assert "END " + folded("st", SENT) in result.stdout


def test_simulate_refuses_broken_flows(workdir: Path) -> None:
    """Broken flows are not simulated: the problems are listed instead."""
    (workdir / "flows" / "main.yaml").write_text(
        SHIPPED.replace(TO_HELP, "next: nowhere}"), encoding="utf-8"
    )
    result = run("simulate", input="1\n")
    assert result.exit_code == 1
    assert "flows refused" in result.stderr
    assert "unknown state 'nowhere'" in result.stderr


# --- serve and worker --------------------------------------------------------------------


class FakeUvicorn:
    """Records what ``uvicorn.run`` was asked to do instead of starting a server."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, dict[str, Any]]] = []

    def __call__(self, app: Any, **kwargs: Any) -> None:
        self.calls.append((app, kwargs))


@pytest.fixture
def fake_uvicorn(monkeypatch: pytest.MonkeyPatch) -> FakeUvicorn:
    """uvicorn.run replaced by a recorder."""
    import uvicorn

    fake = FakeUvicorn()
    monkeypatch.setattr(uvicorn, "run", fake)
    return fake


def test_serve_starts_uvicorn_on_the_given_address(fake_uvicorn: FakeUvicorn) -> None:
    """The app is built and handed to uvicorn with the host and port asked for."""
    result = run("serve", "--host", "127.0.0.2", "--port", "8765")
    assert result.exit_code == 0, result.output
    ((app, kwargs),) = fake_uvicorn.calls
    assert kwargs["host"] == "127.0.0.2"
    assert kwargs["port"] == 8765
    assert any(getattr(r, "path", None) == "/healthz" for r in app.routes)
    assert "http://127.0.0.2:8765/simulator" in result.stdout


def test_serve_defaults_to_localhost(fake_uvicorn: FakeUvicorn) -> None:
    """By default nothing listens beyond this machine."""
    assert run("serve").exit_code == 0
    ((_app, kwargs),) = fake_uvicorn.calls
    assert (kwargs["host"], kwargs["port"]) == ("127.0.0.1", 8000)


def test_serve_refuses_to_start_with_broken_flows(workdir: Path, fake_uvicorn: FakeUvicorn) -> None:
    """A broken flow stops start-up with the reason; no server is started."""
    (workdir / "flows" / "main.yaml").write_text(
        SHIPPED.replace(TO_HELP, "next: nowhere}"), encoding="utf-8"
    )
    result = run("serve")
    assert result.exit_code != 0
    assert "refusing to start" in result.stderr
    assert "flows/main.yaml:17 state 'menu'" in result.stderr
    assert fake_uvicorn.calls == []


def test_serve_refuses_production_without_secrets(
    monkeypatch: pytest.MonkeyPatch, fake_uvicorn: FakeUvicorn
) -> None:
    """Production without its secrets names what to set; no server is started."""
    monkeypatch.setenv("HOTLINE_ENV", "production")
    result = run("serve")
    assert result.exit_code == 1
    assert "refusing to start" in result.stderr
    assert "HOTLINE_PSEUDONYM_KEY" in result.stderr
    assert fake_uvicorn.calls == []


def test_invalid_setting_is_reported_without_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bad HOTLINE_* value names the setting and exits 1."""
    monkeypatch.setenv("HOTLINE_DEFAULT_LANGUAGE", "sw")
    result = run("worker")
    assert result.exit_code == 1
    assert "invalid HOTLINE_* setting" in result.stderr
    assert "default_language" in result.stderr
    assert "Traceback" not in result.output


def test_worker_burst_says_what_it_runs_and_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without Redis, ``worker --burst`` delivers what is due from the database and exits."""
    monkeypatch.setenv("HOTLINE_DATABASE_URL", f"sqlite:///{tmp_path / 'w.db'}")
    monkeypatch.setenv("HOTLINE_SECRETS_FILE", str(tmp_path / "s.json"))
    assert run("db", "upgrade").exit_code == 0
    result = run("worker", "--burst")
    assert result.exit_code == 0, result.output
    assert "delivering from the database" in result.stdout
    assert "delivered or retried 0 message(s)" in result.stdout


def test_help_lists_every_command() -> None:
    """``hotline --help`` shows what an operator can run."""
    result = run("--help")
    assert result.exit_code == 0
    for command in ("serve", "simulate", "flows", "i18n", "worker"):
        assert command in result.stdout


async def test_a_worker_serves_its_metrics_on_its_port() -> None:
    import asyncio
    import socket

    from bot.cli.run import worker_metrics
    from bot.core.metrics import HEARTBEATS
    from bot.core.settings import Settings

    assert await worker_metrics(Settings()) is None  # no port set: none opened
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    HEARTBEATS.inc()
    server = await worker_metrics(Settings(metrics_port=port, metrics_token="t" * 24))
    assert server is not None
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"GET /metrics HTTP/1.1\r\nAuthorization: Bearer {'t' * 24}\r\n\r\n".encode())
        answer = (await reader.read()).decode()
        writer.close()
    finally:
        server.close()
    assert answer.startswith("HTTP/1.1 200")
    assert "hotline_worker_heartbeats_total" in answer
    assert "hotline_outbox_pending" not in answer  # the database's gauges are the app's
