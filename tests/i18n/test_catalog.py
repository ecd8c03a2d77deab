"""Reading and writing gettext catalogs: finished translations only, English as the fallback."""

from __future__ import annotations

import gettext
import logging
import shutil
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog

from bot.core.settings import ROOT
from bot.i18n import ui
from bot.i18n.catalog import (
    LANGUAGES,
    PLURAL_FORMS,
    Catalogs,
    po_path,
    read_catalog,
    template_path,
    write_catalog,
)

LOCALES = ROOT / "locales"
MENU = "{hotline_name}. You need not give your name."
UNKNOWN = "A sentence no catalog has ever seen."

PO_HEADER = """\
msgid ""
msgstr ""
"Language: {lang}\\n"
"Plural-Forms: {plural}\\n"
"Content-Type: text/plain; charset=utf-8\\n"

"""


def write_po(
    path: Path, lang: str, body: str, plural: str = "nplurals=2; plural=(n != 1);"
) -> Path:
    """A hand-written PO file, as a translator's editor might leave it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(PO_HEADER.format(lang=lang, plural=plural) + body, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def catalogs() -> Catalogs:
    """The shipped catalogs."""
    return Catalogs.load(LOCALES)


def test_paths_follow_the_gettext_layout() -> None:
    """locales/<lang>/LC_MESSAGES/messages.po and locales/messages.pot."""
    assert po_path(Path("locales"), "ln") == Path("locales/ln/LC_MESSAGES/messages.po")
    assert template_path(Path("locales")) == Path("locales/messages.pot")
    for lang in LANGUAGES:
        assert po_path(LOCALES, lang).is_file()


@pytest.mark.parametrize("lang", ["fr", "ln", "st"])
def test_every_language_has_the_menu_and_ui_words(catalogs: Catalogs, lang: str) -> None:
    """The shipped catalogs translate the main menu and every word the engine adds."""
    for msgid in (MENU, ui.YES, ui.NO, ui.EXIT, ui.BACK, ui.MORE, ui.GOODBYE):
        assert catalogs.has(lang, msgid), (lang, msgid)
        translated = catalogs.gettext(lang, msgid)
        assert translated.strip()
    assert catalogs.gettext(lang, MENU) != MENU


def test_french_words(catalogs: Catalogs) -> None:
    """A few French words a person would see on the first screens."""
    assert catalogs.gettext("fr", ui.YES) == "Oui"
    assert catalogs.gettext("fr", ui.NO) == "Non"
    assert catalogs.gettext("fr", "Choose your language:") == "Choisissez votre langue :"


def test_placeholders_survive_translation(catalogs: Catalogs) -> None:
    """Every language keeps {max_length} so the number can be filled in."""
    for lang in LANGUAGES:
        assert "{max_length}" in catalogs.gettext(lang, ui.CUT)


def test_english_is_the_source(catalogs: Catalogs) -> None:
    """English always 'has' a text: it is its own msgid."""
    assert catalogs.has("en", UNKNOWN)
    assert catalogs.gettext("en", MENU) == MENU


def test_unknown_text_falls_back_to_english_with_a_warning(
    catalogs: Catalogs, caplog: pytest.LogCaptureFixture
) -> None:
    """A person still sees something readable; the operator sees which language lacks it."""
    assert not catalogs.has("ln", UNKNOWN)
    with caplog.at_level(logging.WARNING, logger="bot.i18n.catalog"):
        assert catalogs.gettext("ln", UNKNOWN) == UNKNOWN
    assert "lang=ln" in caplog.text


def test_unknown_language_falls_back_to_english(catalogs: Catalogs) -> None:
    """A language without a catalog shows English rather than failing."""
    assert catalogs.gettext("sw", MENU) == MENU
    assert not catalogs.has("sw", MENU)


def test_fuzzy_and_empty_entries_are_not_used(tmp_path: Path) -> None:
    """A fuzzy guess or an empty msgstr is never shown to a person; English is."""
    write_po(
        po_path(tmp_path, "fr"),
        "fr",
        '#, fuzzy\nmsgid "Get help now"\nmsgstr "Obtenir un bonbon"\n\n'
        'msgid "Learn the signs"\nmsgstr ""\n\n'
        'msgid "Yes"\nmsgstr "Oui"\n',
    )
    catalogs = Catalogs.load(tmp_path)
    assert catalogs.gettext("fr", "Get help now") == "Get help now"
    assert not catalogs.has("fr", "Get help now")
    assert catalogs.gettext("fr", "Learn the signs") == "Learn the signs"
    assert not catalogs.has("fr", "Learn the signs")
    assert catalogs.gettext("fr", "Yes") == "Oui"
    assert catalogs.has("fr", "Yes")


def test_missing_catalog_files_fall_back_to_english(tmp_path: Path) -> None:
    """Only French present: Lingala and Sesotho show English, nothing crashes."""
    shutil.copytree(LOCALES / "fr", tmp_path / "fr")
    catalogs = Catalogs.load(tmp_path)
    assert catalogs.has("fr", MENU)
    assert catalogs.gettext("st", MENU) == MENU
    assert catalogs.messages["ln"] == {}


def test_lingala_plural_rule_is_set_on_read(tmp_path: Path) -> None:
    """Whatever the file or CLDR says, Lingala counts 0 and 1 alike: (n > 1)."""
    path = write_po(tmp_path / "messages.po", "ln", 'msgid "Yes"\nmsgstr "Iyo"\n')
    catalog = read_catalog(path, "ln")
    assert catalog.plural_forms == "nplurals=2; plural=(n > 1);"
    assert PLURAL_FORMS["ln"] == catalog.plural_forms
    singular_or_plural = gettext.c2py(catalog.plural_expr)
    assert [singular_or_plural(n) for n in (0, 1, 2, 5)] == [0, 0, 1, 1]


def test_other_languages_keep_their_plural_rule(tmp_path: Path) -> None:
    """Only Lingala is overridden; Sesotho keeps what its catalog says."""
    path = write_po(tmp_path / "messages.po", "st", 'msgid "Yes"\nmsgstr "E"\n')
    assert read_catalog(path, "st").plural_forms == "nplurals=2; plural=(n != 1);"


def test_written_lingala_catalog_carries_the_rule(tmp_path: Path) -> None:
    """After a write, the file itself holds the hand-set rule for other gettext tools."""
    path = write_po(tmp_path / "in.po", "ln", 'msgid "Yes"\nmsgstr "Iyo"\n')
    out = tmp_path / "ln" / "LC_MESSAGES" / "messages.po"
    write_catalog(out, read_catalog(path, "ln"))
    assert '"Plural-Forms: nplurals=2; plural=(n > 1);\\n"' in out.read_text(encoding="utf-8")


def test_write_then_read_keeps_translations_and_review_comments(tmp_path: Path) -> None:
    """Round trip: msgstr, translator comments and locations are all kept."""
    catalog = Catalog(locale="ln", project="Hotline")
    catalog.add(
        "No",
        "Tɛ",
        locations=[("bot/i18n/ui.py", 12)],
        user_comments=["review: standard orthography - confirm"],
    )
    path = tmp_path / "deep" / "ln" / "LC_MESSAGES" / "messages.po"
    write_catalog(path, catalog)
    text = path.read_text(encoding="utf-8")
    assert "# review: standard orthography - confirm" in text
    assert "#: bot/i18n/ui.py:12" in text
    again = read_catalog(path, "ln")
    assert again["No"].string == "Tɛ"
    assert again["No"].user_comments == ["review: standard orthography - confirm"]


def test_shipped_catalogs_keep_review_comments() -> None:
    """Uncertain Lingala entries carry a '# review:' comment for native speakers."""
    catalog = read_catalog(po_path(LOCALES, "ln"), "ln")
    reviewed = [m for m in catalog if any(c.startswith("review:") for c in m.user_comments)]
    assert reviewed
    assert all(m.string for m in reviewed), "marked for review, never left empty"
