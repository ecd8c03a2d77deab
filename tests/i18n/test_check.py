"""``check_catalogs``: what a translator must fix before a release, and nothing on good catalogs."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog

from bot.engine.loader import flow_files
from bot.i18n.catalog import po_path, read_catalog, write_catalog
from bot.i18n.check import check_catalogs
from bot.i18n.extract import extract
from bot.settings import ROOT

HELP = (
    "Call the hotline free of charge: {hotline_number}. You do not have to give your name. "
    "Or we can call you:"
)


@pytest.fixture(scope="module")
def template() -> Catalog:
    """The strings the shipped flows and code use."""
    return extract(flow_files([ROOT / "flows"]), ROOT / "bot", ROOT)


@pytest.fixture
def locales(tmp_path: Path) -> Path:
    """A copy of the shipped catalogs to break."""
    shutil.copytree(ROOT / "locales", tmp_path / "locales")
    return tmp_path / "locales"


def edit(locales: Path, lang: str, msgid: str, **changes: Any) -> Path:
    """Change one entry of a catalog as a translator's editor would."""
    path = po_path(locales, lang)
    catalog = read_catalog(path, lang)
    message = catalog[msgid]
    for name, value in changes.items():
        setattr(message, name, value)
    write_catalog(path, catalog)
    return path


def test_shipped_catalogs_have_no_problem(template: Catalog) -> None:
    """The repository's catalogs are complete."""
    assert check_catalogs(ROOT / "locales", template) == []


def test_missing_translation_names_file_text_and_location(locales: Path, template: Catalog) -> None:
    """An empty msgstr is reported with the catalog file, the English text and where it is used."""
    path = edit(locales, "st", "Get help now", string="")
    assert check_catalogs(locales, template) == [
        f"{path}: missing translation of 'Get help now' (flows/main.yaml:17)"
    ]


def test_entry_absent_from_the_catalog_is_missing(locales: Path, template: Catalog) -> None:
    """A string the code uses but the catalog never got (update not run) is reported."""
    path = po_path(locales, "fr")
    catalog = read_catalog(path, "fr")
    del catalog["Back"]
    write_catalog(path, catalog)
    (problem,) = check_catalogs(locales, template)
    assert problem.startswith(f"{path}: missing translation of 'Back' (bot/i18n/ui.py:")


def test_missing_english_entry_is_reported_too(locales: Path, template: Catalog) -> None:
    """English is a catalog like the others: its entries must be filled."""
    path = edit(locales, "en", "Yes", string="")
    (problem,) = check_catalogs(locales, template)
    assert problem.startswith(f"{path}: missing translation of 'Yes'")


def test_missing_catalog_file(locales: Path, template: Catalog) -> None:
    """A whole language missing is one problem pointing at the fix."""
    shutil.rmtree(locales / "ln")
    assert check_catalogs(locales, template) == [
        f"{po_path(locales, 'ln')}: missing catalog (run: hotline i18n update)"
    ]


def test_fuzzy_translation_is_reported(locales: Path, template: Catalog) -> None:
    """A fuzzy entry is a guess, not a translation."""
    path = edit(locales, "fr", "Learn the signs", flags={"fuzzy"})
    (problem,) = check_catalogs(locales, template)
    assert problem == f"{path}: fuzzy translation of 'Learn the signs' (flows/main.yaml:17)"


def test_dropped_placeholder_is_reported(locales: Path, template: Catalog) -> None:
    """A translation that lost {hotline_number} would hide the number from the person."""
    path = edit(locales, "ln", HELP, string="Benga nimero ya lisalisi ofele.")
    (problem,) = check_catalogs(locales, template)
    assert problem.startswith(f"{path}: placeholders differ in translation of {HELP!r}: ")
    assert "'Benga nimero ya lisalisi ofele.'" in problem
    assert problem.endswith("(flows/help.yaml:7)")


@pytest.mark.parametrize(
    "translated",
    [
        "Appelez le {numero_aide}.",
        "Appelez le {hotline_number} ou le {reference}.",
        "Appelez le {hotline_number.",
    ],
    ids=["renamed", "extra", "broken"],
)
def test_changed_placeholders_are_reported(
    locales: Path, template: Catalog, translated: str
) -> None:
    """Renamed, added or broken braces would fail when the text is filled in."""
    path = edit(locales, "fr", HELP, string=translated)
    (problem,) = check_catalogs(locales, template)
    assert problem.startswith(f"{path}: placeholders differ in translation of {HELP!r}")


def test_wrong_lingala_plural_rule_is_reported(locales: Path, template: Catalog) -> None:
    """CLDR's (n != 1) in the Lingala file is reported, though reading it would repair it."""
    path = po_path(locales, "ln")
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("plural=(n > 1);", "plural=(n != 1);"), encoding="utf-8")
    assert check_catalogs(locales, template) == [
        f"{path}: Plural-Forms is 'nplurals=2; plural=(n != 1);', "
        "expected 'nplurals=2; plural=(n > 1);'"
    ]


def test_missing_lingala_plural_header_is_reported(locales: Path, template: Catalog) -> None:
    """No Plural-Forms header means gettext tools fall back to CLDR's rule: reported."""
    path = po_path(locales, "ln")
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(x for x in lines if "Plural-Forms" not in x), encoding="utf-8")
    (problem,) = check_catalogs(locales, template)
    assert problem.startswith(f"{path}: Plural-Forms is ")


def test_every_problem_is_listed_at_once(locales: Path, template: Catalog) -> None:
    """Several problems in several files are all reported in one run."""
    edit(locales, "fr", "Yes", string="")
    edit(locales, "st", "No", flags={"fuzzy"})
    edit(locales, "ln", HELP, string="Benga.")
    problems = check_catalogs(locales, template)
    assert len(problems) == 3
    assert {p.split("/LC_MESSAGES/")[0].rsplit("/", 1)[-1] for p in problems} == {"fr", "st", "ln"}
