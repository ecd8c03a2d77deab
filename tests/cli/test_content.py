"""``hotline flows check`` and ``hotline i18n update|check`` as a flow editor runs them."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bot.core.settings import ROOT
from bot.i18n.catalog import Catalogs, po_path, read_catalog
from tests.cli.helpers import (
    CATALOGS,
    HELP,
    MENU_FLOWS,
    SHIPPED,
    SHIPPED_FLOWS,
    SHIPPED_HELP,
    TO_HELP,
    edit_po,
    run,
)

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
    assert "ok: 1 flow(s), 6 screens" in result.stdout
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
            "    options:\n      - {label: Ask us to contact you, next: safe_time}\n",
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
    assert len(lines) == 8  # the flows' catalogs, then the team web's (unchanged)
    for lang, line in zip(("en", "fr", "ln", "st"), lines[:4], strict=True):
        assert line.startswith(str(po_path(workdir / "locales", lang)))
        assert line.endswith(" strings, 0 to translate" if lang == "en" else ", 1 to translate")
    for lang, line in zip(("en", "fr", "ln", "st"), lines[4:], strict=True):
        assert line.startswith(str(po_path(workdir / "locales", lang, "web")))
        assert line.endswith(", 0 to translate")

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


# --- flows export | import | publish ----------------------------------------------------


def test_flows_export_writes_the_published_versions_as_files(workdir: Path) -> None:
    """The stored versions come back as the repository's layout, which passes the checks."""
    result = run("flows", "export", "out")
    assert result.exit_code == 0, result.output
    assert "main version 1" in result.stdout
    assert (workdir / "out" / "flows" / "main.yaml").read_text(encoding="utf-8") == SHIPPED
    checked = run("flows", "check", str(workdir / "out" / "flows"))
    assert checked.exit_code == 0, checked.output


def test_flows_import_makes_drafts_and_publish_makes_versions(workdir: Path) -> None:
    """Edited files become a draft; publishing it makes version 2."""
    run("flows", "export", "out")
    main = workdir / "out" / "flows" / "main.yaml"
    main.write_text(SHIPPED.replace("Choose your language:", "Your language:"), encoding="utf-8")
    imported = run("flows", "import", "out", "--by", "deployer")
    assert imported.exit_code == 0, imported.output
    assert "main: draft revision 2, ready to publish" in imported.stdout  # translations kept
    assert "tip: draft revision 2, ready to publish" in imported.stdout
    published = run("flows", "publish", "main", "--note", "shorter", "--by", "deployer")
    assert published.exit_code == 0, published.output
    assert "main: version 2 published" in published.stdout
    again = run("flows", "publish", "tip")
    assert again.exit_code == 1
    assert "nothing changed since version 1" in again.stderr


def test_flows_import_refuses_malformed_files_whole(workdir: Path) -> None:
    """A broken file anywhere: nothing is imported, and the message says file and reason."""
    run("flows", "export", "out")
    (workdir / "out" / "flows" / "tip.yaml").write_text("flow: tip\nstates: [", encoding="utf-8")
    result = run("flows", "import", "out")
    assert result.exit_code == 1
    assert "tip.yaml:2: not valid YAML" in result.stderr
    assert "nothing was imported" in result.stderr


def test_i18n_update_and_check_work_on_exported_files(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An export kept in Git stays a normal catalog: check passes, update keeps the statuses."""
    assert run("flows", "export", "out").exit_code == 0
    monkeypatch.setenv("HOTLINE_FLOWS_DIR", str(workdir / "out" / "flows"))
    monkeypatch.setenv("HOTLINE_LOCALES_DIR", str(workdir / "out" / "locales"))
    for name in ("web.pot", *(f"{lang}/LC_MESSAGES/web.po" for lang in ("en", "fr", "ln", "st"))):
        shutil.copyfile(workdir / "locales" / name, workdir / "out" / "locales" / name)
    checked = run("i18n", "check")
    assert checked.exit_code == 0, checked.output
    assert run("i18n", "update").exit_code == 0
    ln = read_catalog(po_path(workdir / "out" / "locales", "ln"), "ln")
    assert ln["Report something"].user_comments[0].startswith("review:")
    fr = read_catalog(po_path(workdir / "out" / "locales", "fr"), "fr")
    assert fr["Report something"].user_comments == ["reviewed: files"]
    assert run("i18n", "check").exit_code == 0
