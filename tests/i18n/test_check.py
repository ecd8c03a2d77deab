"""``check_catalogs``: what a translator must fix before a release, and nothing on good catalogs."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from click.testing import CliRunner

from bot.cli import main
from bot.content.extract import WEB_DOMAIN, extract, extract_web
from bot.content.files import flow_files
from bot.core.settings import ROOT
from bot.i18n.catalog import (
    PLURAL_FORMS,
    po_path,
    read_catalog,
    write_catalog,
    written_plural_forms,
)
from bot.i18n.check import check_catalogs

HELP = (
    "Call the hotline: {hotline_number}. You do not have to give your name. Or we can contact you:"
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


def test_shipped_catalogs_carry_the_plural_rules_we_set() -> None:
    """Each file itself holds our rule for gettext tools: Lingala counts 0 and 1 alike."""
    assert PLURAL_FORMS["ln"] == "nplurals=2; plural=(n > 1);"
    for lang, rule in PLURAL_FORMS.items():
        assert written_plural_forms(po_path(ROOT / "locales", lang)) == rule


@pytest.mark.parametrize(
    "rule",
    ["nplurals=2; plural=(n != 1);", "nplurals=1; plural=0;", "nplurals=2; plural=(n > 2);"],
    ids=["cldr-before-babel-2.19", "no-plural", "off-by-one"],
)
def test_wrong_lingala_plural_rule_is_reported(locales: Path, template: Catalog, rule: str) -> None:
    """Any other rule in the Lingala file is reported, though reading it would repair it."""
    path = po_path(locales, "ln")
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("nplurals=2; plural=(n > 1);", rule), encoding="utf-8")
    assert check_catalogs(locales, template) == [
        f"{path}: Plural-Forms is {rule!r}, expected 'nplurals=2; plural=(n > 1);'"
    ]


def test_missing_lingala_plural_header_is_reported(locales: Path, template: Catalog) -> None:
    """No Plural-Forms header is reported whatever Babel's CLDR data would fill in.

    Gettext tools other than Babel fall back to nplurals=2; plural=(n != 1) without it.
    """
    path = po_path(locales, "ln")
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(x for x in lines if "Plural-Forms" not in x), encoding="utf-8")
    assert written_plural_forms(path) is None
    assert check_catalogs(locales, template) == [
        f"{path}: no Plural-Forms header, expected 'nplurals=2; plural=(n > 1);'"
    ]


def test_plural_rule_outside_the_header_is_not_the_header(locales: Path, template: Catalog) -> None:
    """Only the header entry counts, not the rule quoted in a comment or a message."""
    path = po_path(locales, "ln")
    text = path.read_text(encoding="utf-8")
    header, body = text.split("\n\n", 1)
    header = "".join(x for x in header.splitlines(keepends=True) if "Plural-Forms" not in x)
    rule = "Plural-Forms: nplurals=2; plural=(n > 1);"
    path.write_text(
        f'# {rule}\n{header}\n\nmsgid "x"\nmsgstr ""\n"{rule}\\n"\n\n{body}',
        encoding="utf-8",
    )
    assert written_plural_forms(path) is None
    (problem,) = check_catalogs(locales, template)
    assert problem.startswith(f"{path}: no Plural-Forms header")


def test_i18n_check_command_refuses_a_catalog_without_our_rule(
    locales: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`hotline i18n check` exits 1 and names the file."""
    path = po_path(locales, "ln")
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("plural=(n > 1);", "plural=(n != 1);"), encoding="utf-8")
    monkeypatch.setenv("HOTLINE_LOCALES_DIR", str(locales))
    monkeypatch.setenv("HOTLINE_FLOWS_DIR", str(ROOT / "flows"))
    result = CliRunner().invoke(main, ["i18n", "check"])
    assert result.exit_code == 1
    assert f"{path}: Plural-Forms is 'nplurals=2; plural=(n != 1);'" in result.stderr


def test_every_problem_is_listed_at_once(locales: Path, template: Catalog) -> None:
    """Several problems in several files are all reported in one run."""
    edit(locales, "fr", "Yes", string="")
    edit(locales, "st", "No", flags={"fuzzy"})
    edit(locales, "ln", HELP, string="Benga.")
    problems = check_catalogs(locales, template)
    assert len(problems) == 3
    assert {p.split("/LC_MESSAGES/")[0].rsplit("/", 1)[-1] for p in problems} == {"fr", "st", "ln"}


def test_a_dropped_percent_placeholder_is_reported(tmp_path: Path) -> None:
    """The team web's strings are formatted as ``%(name)s``: a translation must keep them."""
    from bot.i18n.catalog import write_catalog

    template = Catalog()
    template.add("%(time)s left")
    for lang in ("en", "fr", "ln", "st"):
        catalog = Catalog(locale=lang)
        catalog.add("%(time)s left", "%(time)s restant" if lang != "ln" else "etikali")
        write_catalog(po_path(tmp_path, lang, "web"), catalog)
    problems = [p for p in check_catalogs(tmp_path, template, "web") if "placeholders" in p]
    assert len(problems) == 1 and "ln/LC_MESSAGES/web.po" in problems[0]


def test_on_call_sms_texts_fit_one_part_with_the_longest_values() -> None:
    from bot.i18n import ui
    from bot.i18n.catalog import Catalogs
    from bot.i18n.check import check_one_part

    catalogs = Catalogs.load(ROOT / "locales")
    assert check_one_part(catalogs.gettext, ui.ONE_PART, ui.ONE_PART_SAMPLES) == []


def test_an_sms_text_over_one_part_is_named_in_its_language() -> None:
    from bot.i18n.check import check_one_part

    def tr(lang: str, msgid: str) -> str:
        return msgid + (" Prolonge." * 20 if lang == "fr" else "")

    problems = check_one_part(tr, ("Case {reference}.",), {"reference": "K7QM-46"})
    assert len(problems) == 1
    assert problems[0].startswith("fr: 'Case {reference}.' needs 2 SMS parts")


@pytest.fixture(scope="module")
def web_template() -> Catalog:
    """The strings the team web uses (it has the plural entries)."""
    return extract_web(ROOT / "admin", ROOT)


PLURAL = "%(num)s issue"


def edit_web(locales: Path, lang: str, string: tuple[str, ...]) -> Path:
    """Give the team web's plural entry ``PLURAL`` these forms, as a translator's editor would."""
    path = po_path(locales, lang, WEB_DOMAIN)
    catalog = read_catalog(path, lang)
    catalog[PLURAL].string = string
    write_catalog(path, catalog)
    return path


def test_shipped_web_catalogs_have_no_problem(web_template: Catalog) -> None:
    assert check_catalogs(ROOT / "locales", web_template, WEB_DOMAIN) == []


def test_an_empty_plural_form_is_missing(locales: Path, web_template: Catalog) -> None:
    """A French count of 2 would show English: the second form is reported."""
    path = edit_web(locales, "fr", ("%(num)s problème", ""))
    (problem,) = check_catalogs(locales, web_template, WEB_DOMAIN)
    assert problem.startswith(f"{path}: missing translation of {PLURAL!r}")


def test_french_with_newer_cldr_plurals_is_reported(locales: Path, web_template: Catalog) -> None:
    """Newer CLDR data gives French a third form (many): the catalog once had it, empty, and
    every count of 2 or more showed English. Its rule and its empty forms are reported."""
    path = po_path(locales, "fr", WEB_DOMAIN)
    text = path.read_text(encoding="utf-8")
    three = "nplurals=3; plural=(n == 0 || n == 1) ? 0 : n != 0 && n % 1000000 == 0 ? 1 : 2;"
    path.write_text(text.replace("nplurals=2; plural=(n > 1);", three), encoding="utf-8")
    problems = check_catalogs(locales, web_template, WEB_DOMAIN)
    assert problems[0] == (
        f"{path}: Plural-Forms is {three!r}, expected 'nplurals=2; plural=(n > 1);'"
    )
    assert any(p.startswith(f"{path}: missing translation of {PLURAL!r}") for p in problems)


def test_a_plural_form_with_a_strange_placeholder_is_reported(
    locales: Path, web_template: Catalog
) -> None:
    path = edit_web(locales, "st", ("%(num)s bothata", "%(count)s mathata"))
    (problem,) = check_catalogs(locales, web_template, WEB_DOMAIN)
    assert problem.startswith(f"{path}: placeholders differ in translation of {PLURAL!r}")


def test_every_language_has_its_plural_rule_pinned() -> None:
    """Babel's CLDR data changes between releases: no language is left to it."""
    assert set(PLURAL_FORMS) == {"en", "fr", "ln", "st"}
    assert PLURAL_FORMS["fr"] == "nplurals=2; plural=(n > 1);"
    for lang, rule in PLURAL_FORMS.items():
        assert written_plural_forms(po_path(ROOT / "locales", lang, WEB_DOMAIN)) == rule
