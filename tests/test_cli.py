"""The ``hotline`` command as an operator or flow editor runs it."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
import respx
from click.testing import CliRunner, Result

from bot.cli import main
from bot.content.files import flow_files, load_file
from bot.conversation.dryrun import SAMPLE_REFERENCE
from bot.core.settings import ROOT
from bot.i18n.catalog import Catalogs, po_path, read_catalog, write_catalog
from bot.i18n.gsm7 import fold

NUMBER = "0800 000 009"
MENU = "Anti-trafficking hotline. Free and anonymous. Choose:"
HELP = (
    "Call the hotline free of charge: {hotline_number}. You do not have to give your name. "
    "Or we can call you:"
)
SENT = (
    "Thank you. A hotline worker will contact you at the time you chose. "
    "Your reference: {reference}. Free help: {hotline_number}"
)
CALL_BACK = "1\n1\n1\n"
"""On the help menu: Ask for a call back, Morning, Phone call."""
MENU_FLOWS = {"main", "tip", "screening", "signs", "help", "follow"}
"""The main menu and the flows its options lead to."""
SHIPPED_FLOWS = sorted(load_file(path).name for path in flow_files([ROOT / "flows"]))
CHOICE = {"en": "1", "fr": "2", "ln": "3", "st": "4"}
CATALOGS = Catalogs.load(ROOT / "locales")
SHIPPED = (ROOT / "flows" / "main.yaml").read_text(encoding="utf-8")
SHIPPED_HELP = (ROOT / "flows" / "help.yaml").read_text(encoding="utf-8")
TO_HELP = 'next: "help:"}'
"""The main menu's "Get help now" option, to break."""


@pytest.fixture(autouse=True)
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Clean HOTLINE_* environment; flows and locales are copies in tmp_path, never the repo's."""
    monkeypatch.chdir(tmp_path)
    shutil.copytree(ROOT / "flows", tmp_path / "flows")  # with flows/data (places)
    assert (tmp_path / "flows" / "data" / "areas.yaml").is_file()
    shutil.copytree(ROOT / "locales", tmp_path / "locales")
    monkeypatch.setenv("HOTLINE_FLOWS_DIR", str(tmp_path / "flows"))
    monkeypatch.setenv("HOTLINE_LOCALES_DIR", str(tmp_path / "locales"))
    monkeypatch.setenv("HOTLINE_PUBLIC_NUMBER", NUMBER)
    return tmp_path


def run(*args: str, input: str | None = None) -> Result:
    """Invoke ``hotline ARGS``."""
    return CliRunner().invoke(main, list(args), input=input)


def folded(lang: str, msgid: str) -> str:
    """A translated text as a basic phone shows it (a dry run's sample reference)."""
    text = CATALOGS.gettext(lang, msgid).format(hotline_number=NUMBER, reference=SAMPLE_REFERENCE)
    return fold(text, lang)


def edit_po(locales: Path, lang: str, msgid: str, **changes: Any) -> None:
    """Change one entry of a language's catalog (string, flags...)."""
    path = po_path(locales, lang)
    catalog = read_catalog(path, lang)
    message = catalog[msgid]
    for name, value in changes.items():
        setattr(message, name, value)
    write_catalog(path, catalog)


# --- flows check -------------------------------------------------------------------------


def test_flows_check_passes_on_the_shipped_flows() -> None:
    """The flows in the repository are valid, translated and fit every channel."""
    result = run("flows", "check")
    assert result.exit_code == 0, result.output
    assert set(SHIPPED_FLOWS) >= MENU_FLOWS
    expected = rf"ok: {len(SHIPPED_FLOWS)} flow\(s\), \d+ screens, 4 languages"
    assert re.match(expected, result.stdout), result.stdout
    assert result.stderr == ""


def test_flows_check_accepts_explicit_paths() -> None:
    """A file or folder given on the command line is what gets checked."""
    result = run("flows", "check", str(ROOT / "flows" / "help.yaml"))
    assert result.exit_code == 0, result.output
    assert "ok: 1 flow(s), 4 screens" in result.stdout
    # "Learn the signs" offers help's call back: given together, the two files check out.
    result = run(
        "flows", "check", str(ROOT / "flows" / "signs.yaml"), str(ROOT / "flows" / "help.yaml")
    )
    assert result.exit_code == 0, result.output
    assert "ok: 2 flow(s)" in result.stdout
    # Alone, main.yaml leads to flows that are not there: each is named.
    result = run("flows", "check", str(ROOT / "flows" / "main.yaml"))
    assert result.exit_code == 1
    assert "state 'menu': option 4 goes to unknown flow 'help'" in result.stderr


BROKEN: dict[str, tuple[str, str, list[str]]] = {
    "unknown target": (
        "main.yaml",
        SHIPPED.replace(TO_HELP, "next: nowhere}"),
        ["flows/main.yaml:17 state 'menu': option 4 goes to unknown state 'nowhere'"],
    ),
    "unknown flow": (
        "main.yaml",
        SHIPPED.replace(TO_HELP, 'next: "helpp:"}'),
        ["flows/main.yaml:17 state 'menu': option 4 goes to unknown flow 'helpp'"],
    ),
    "unreachable state": (
        "main.yaml",
        SHIPPED + '  orphan:\n    type: end\n    text: "Choose your language:"\n',
        ["state 'orphan': unreachable: nothing leads here from 'language'"],
    ),
    "invalid yaml": (
        "main.yaml",
        SHIPPED.replace('text: "Choose your language:"', "text: [Choose your language"),
        ["flows/main.yaml:", "not valid YAML"],
    ),
    "state defined twice": (
        "main.yaml",
        SHIPPED + '  menu:\n    type: end\n    text: "Choose your language:"\n',
        ["flows/main.yaml:", "'menu' is defined twice"],
    ),
    "missing state type": (
        "main.yaml",
        SHIPPED.replace("  menu:\n    type: menu\n", "  menu:\n"),
        ["state 'menu':", "discriminator 'type'"],
    ),
    "untranslated text": (
        "help.yaml",
        SHIPPED_HELP.replace(HELP, "Call us free at {hotline_number}."),
        [
            f"state 'help' [{lang}]: missing translation of 'Call us free at {{hotline_number}}.'"
            for lang in ("fr", "ln", "st")
        ],
    ),
    "unknown placeholder": (
        "help.yaml",
        SHIPPED_HELP.replace("{hotline_number}. You", "{phone}. You"),
        ["state 'help': unknown placeholder {phone}"],
    ),
    "menu without options": (
        "help.yaml",
        SHIPPED_HELP.replace(
            "    options:\n      - {label: Ask for a call back, next: safe_time}\n",
            "    options: []\n",
        ),
        ["state 'help': dead end: a menu with no options"],
    ),
    "screen too long for USSD": (
        "main.yaml",
        SHIPPED.replace("{label: English,", "{label: " + "English " * 30 + ","),
        [f"state 'language' [{lang}]: USSD screen page " for lang in ("en", "fr", "ln", "st")]
        + ["/182 characters after folding"],
    ),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_flows_check_refuses_broken_flows(workdir: Path, case: str) -> None:
    """Exit 1, one stderr line per problem naming the file, the state and the reason."""
    name, text, expected = BROKEN[case]
    shipped = (workdir / "flows" / name).read_text(encoding="utf-8")
    assert text != shipped, "the case must change the file"
    (workdir / "flows" / name).write_text(text, encoding="utf-8")
    result = run("flows", "check", "flows")
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    for fragment in expected:
        assert any(fragment in line for line in lines), (fragment, lines)
    problems = [line for line in lines if not line.startswith("Error:")]
    assert all(line.startswith(f"flows/{name}") for line in problems), problems
    assert lines[-1] == f"Error: {len(problems)} problem(s) in flows"
    assert "ok:" not in result.stdout


def test_flows_check_default_folder_comes_from_the_environment(workdir: Path) -> None:
    """Without paths, HOTLINE_FLOWS_DIR is checked."""
    (workdir / "flows" / "main.yaml").write_text(
        SHIPPED.replace(TO_HELP, "next: nowhere}"), encoding="utf-8"
    )
    result = run("flows", "check")
    assert result.exit_code == 1
    assert "unknown state 'nowhere'" in result.stderr


def test_flows_check_refuses_one_flow_defined_in_two_files(workdir: Path) -> None:
    """Two files may not both claim the same flow name."""
    shutil.copy(workdir / "flows" / "main.yaml", workdir / "flows" / "main-copy.yaml")
    result = run("flows", "check", "flows")
    assert result.exit_code == 1
    assert "flows/main.yaml: flow 'main' is also defined in flows/main-copy.yaml" in result.stderr


def test_flows_check_on_a_folder_without_flows(workdir: Path) -> None:
    """An empty folder is a problem, not a silent success."""
    (workdir / "empty").mkdir()
    result = run("flows", "check", "empty")
    assert result.exit_code == 1
    assert "empty: no flow files found" in result.stderr


def test_flows_check_on_a_missing_path() -> None:
    """A typo in the path is a usage error."""
    result = run("flows", "check", "no-such-folder")
    assert result.exit_code == 2
    assert "no-such-folder" in result.stderr


# --- i18n --------------------------------------------------------------------------------


def test_i18n_check_passes_on_the_shipped_catalogs() -> None:
    """Every string is translated in en, fr, ln, st and every screen fits."""
    result = run("i18n", "check")
    assert result.exit_code == 0, result.output
    assert re.match(r"ok: \d+ strings complete in en, fr, ln, st", result.stdout)


def test_i18n_check_names_an_emptied_translation(workdir: Path) -> None:
    """An empty French menu label: exit 1, the catalog file and the English text are named."""
    edit_po(workdir / "locales", "fr", "Get help now", string="")
    result = run("i18n", "check")
    assert result.exit_code == 1
    po = str(po_path(workdir / "locales", "fr"))
    where = f"{workdir}/flows/main.yaml:17"
    assert f"{po}: missing translation of 'Get help now' ({where})" in result.stderr
    assert "state 'menu' [fr]: missing translation of 'Get help now'" in result.stderr
    assert "Error: 2 problem(s) in translations" in result.stderr


def test_i18n_check_names_a_fuzzy_ui_string(workdir: Path) -> None:
    """A fuzzy entry (a guess left by a merge) is not a finished translation."""
    edit_po(workdir / "locales", "ln", "Back", flags={"fuzzy"})
    result = run("i18n", "check")
    assert result.exit_code == 1
    expected = "ln/LC_MESSAGES/messages.po: fuzzy translation of 'Back' (bot/i18n/ui.py:"
    assert expected in result.stderr


def test_i18n_update_adds_new_strings_and_check_points_at_them(workdir: Path) -> None:
    """A changed flow text: update reports one to translate per language, check then fails."""
    new = "Call us free at {hotline_number}."
    help_yaml = workdir / "flows" / "help.yaml"
    help_yaml.write_text(SHIPPED_HELP.replace(HELP, new), encoding="utf-8")

    result = run("i18n", "update")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 4
    for lang, line in zip(("en", "fr", "ln", "st"), lines, strict=True):
        assert line.startswith(str(po_path(workdir / "locales", lang)))
        assert line.endswith(" strings, 0 to translate" if lang == "en" else ", 1 to translate")

    fr = read_catalog(po_path(workdir / "locales", "fr"), "fr")
    assert fr[new].string == ""
    assert fr["Get help now"].string == CATALOGS.gettext("fr", "Get help now")

    check = run("i18n", "check")
    assert check.exit_code == 1
    assert f"missing translation of {new!r}" in check.stderr


def test_i18n_update_on_unchanged_sources_changes_no_translation(workdir: Path) -> None:
    """Running update twice in a row is harmless: every translation stays."""
    assert run("i18n", "update").exit_code == 0
    assert Catalogs.load(workdir / "locales") == CATALOGS
    assert run("i18n", "check").exit_code == 0


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
    assert "CON " + folded(lang, HELP) + "\n1 " + folded(lang, "Ask for a call back") in out
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
    assert CATALOGS.gettext("ln", MENU) in result.stdout
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
