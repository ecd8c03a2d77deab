"""Extraction of every user-facing string into the template, and merging into each language."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog

from bot.content.extract import extract, update
from bot.content.files import flow_files, load_file
from bot.core.settings import ROOT
from bot.engine.validate import flow_texts
from bot.i18n.catalog import (
    LANGUAGES,
    PLURAL_FORMS,
    Catalogs,
    po_path,
    read_catalog,
    template_path,
)

HELP = (
    "Call the hotline: {hotline_number}. You do not have to give your name. Or we can contact you:"
)
NEW_HELP = "Call us free at {hotline_number}."


def ui_strings() -> dict[str, int]:
    """Every ``N_("...")`` string in bot/i18n/ui.py with its line, read from the source."""
    tree = ast.parse((ROOT / "bot" / "i18n" / "ui.py").read_text(encoding="utf-8"))
    found: dict[str, int] = {}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "N_"
            and isinstance(node.args[0], ast.Constant)
        ):
            found[str(node.args[0].value)] = node.args[0].lineno  # where Babel sees the text
    return found


@pytest.fixture(scope="module")
def template() -> Catalog:
    """The template of the real tree."""
    return extract(flow_files([ROOT / "flows"]), ROOT / "bot", ROOT)


def shipped_template(flows: Path) -> Catalog:
    """Extract with a given flows folder and the real code."""
    return extract(flow_files([flows]), ROOT / "bot", ROOT)


@pytest.fixture
def locales(tmp_path: Path) -> Path:
    """A copy of the shipped catalogs to update."""
    shutil.copytree(ROOT / "locales", tmp_path / "locales")
    return tmp_path / "locales"


@pytest.fixture
def flows(tmp_path: Path) -> Path:
    """A copy of the shipped flows whose help text was changed by an editor."""
    shutil.copytree(ROOT / "flows", tmp_path / "flows")
    help_yaml = tmp_path / "flows" / "help.yaml"
    text = help_yaml.read_text(encoding="utf-8")
    assert HELP in text
    help_yaml.write_text(text.replace(HELP, NEW_HELP), encoding="utf-8")
    return tmp_path / "flows"


@pytest.mark.parametrize("name", ["main", "tip", "screening", "signs", "help", "follow"])
def test_every_flow_text_is_extracted_with_its_screen(template: Catalog, name: str) -> None:
    """Each translated flow text is in the template, located in its file and screen."""
    loaded = load_file(ROOT / "flows" / f"{name}.yaml")
    assert loaded.name == name
    texts = list(flow_texts(loaded.definition))
    assert texts
    for state, text in texts:
        message = template.get(text)
        assert message is not None, text
        assert (f"flows/{name}.yaml", loaded.lines[state]) in message.locations
        assert f"flow {name}, screen {state}" in message.auto_comments


def test_language_names_are_not_extracted(template: Catalog) -> None:
    """Options marked translate: false (each language's own name) stay out of the catalogs."""
    for name in ("English", "Francais", "Lingala", "Sesotho"):
        assert template.get(name) is None


def test_shared_text_lists_every_screen(template: Catalog) -> None:
    """One text used in three flows is one entry with three locations to translate once."""
    safe_time = template.get("When is it safe for us to contact you?")
    assert safe_time is not None
    assert {path for path, _ in safe_time.locations} == {
        "flows/help.yaml",
        "flows/screening.yaml",
        "flows/tip.yaml",
    }
    assert len(safe_time.locations) == 3
    assert sorted(safe_time.auto_comments) == [
        "flow help, screen safe_time",
        "flow screening, screen safe_time",
        "flow tip, screen safe_time",
    ]
    topics = template.get("Other topics")
    assert topics is not None
    screens = {c.rsplit(" ", 1)[-1] for c in topics.auto_comments}
    assert screens == {"what", "smuggling", "gbv", "signs", "help"}


def test_every_ui_string_is_extracted_with_its_line(template: Catalog) -> None:
    """Words the engine adds (Yes, Back, More...) are in the template, located in ui.py."""
    strings = ui_strings()
    assert "Yes" in strings and "Your text was cut to {max_length} characters." in strings
    for text, line in strings.items():
        message = template.get(text)
        assert message is not None, text
        assert ("bot/i18n/ui.py", line) in message.locations


def test_template_holds_nothing_else(template: Catalog) -> None:
    """Only flow texts and N_ strings: no stray strings from the code."""
    expected = set(ui_strings())
    for path in flow_files([ROOT / "flows"]):
        expected |= {text for _, text in flow_texts(load_file(path).definition)}
    assert {m.id for m in template if m.id} == expected


def test_only_marked_code_strings_are_extracted(tmp_path: Path) -> None:
    """N_("...") is extracted with its TRANSLATORS comment; plain strings are not."""
    code = tmp_path / "bot"
    code.mkdir()
    (code / "words.py").write_text(
        "def N_(m: str) -> str:\n"
        "    return m\n"
        "\n"
        "# TRANSLATORS: shown when the person types nothing\n"
        'EMPTY = N_("Please type something.")\n'
        'LOG = "not for people"\n',
        encoding="utf-8",
    )
    template = extract([], code, tmp_path)
    message = template.get("Please type something.")
    assert message is not None
    assert message.locations == [("bot/words.py", 5)]
    assert message.auto_comments == ["shown when the person types nothing"]
    assert template.get("not for people") is None


def test_update_keeps_translations_and_review_comments(locales: Path, flows: Path) -> None:
    """Existing translations and '# review:' notes survive a merge untouched."""
    before = read_catalog(po_path(locales, "ln"), "ln")
    update(locales, shipped_template(flows))
    after = read_catalog(po_path(locales, "ln"), "ln")
    for message in before:
        if not message.id or message.id == HELP:
            continue
        merged = after.get(message.id)
        assert merged is not None, message.id
        assert merged.string == message.string
        assert merged.user_comments == message.user_comments
    assert any(c.startswith("review:") for m in after for c in m.user_comments)


def test_update_adds_new_strings_empty_and_english_filled(locales: Path, flows: Path) -> None:
    """A changed text arrives empty to translate (never fuzzy), and as itself in English."""
    template = shipped_template(flows)
    lines = update(locales, template)
    n = len(template)
    assert lines == [
        f"{po_path(locales, lang)}: {n} strings, {0 if lang == 'en' else 1} to translate"
        for lang in LANGUAGES
    ]
    for lang in ("fr", "ln", "st"):
        message = read_catalog(po_path(locales, lang), lang)[NEW_HELP]
        assert message.string == ""
        assert not message.fuzzy, "a guessed translation would be shown as if finished"
    assert read_catalog(po_path(locales, "en"), "en")[NEW_HELP].string == NEW_HELP
    assert not Catalogs.load(locales).has("fr", NEW_HELP)


def test_update_keeps_old_translations_as_obsolete(locales: Path, flows: Path) -> None:
    """The translation of a text no longer used is kept for reuse, not lost."""
    old = Catalogs.load(ROOT / "locales").gettext("fr", HELP)
    update(locales, shipped_template(flows))
    fr = read_catalog(po_path(locales, "fr"), "fr")
    assert fr.get(HELP) is None
    assert fr.obsolete[HELP].string == old
    written = po_path(locales, "fr").read_text(encoding="utf-8")
    assert f'#~ msgstr "{old}"' in written.replace('"\n#~ "', ""), "kept, as one obsolete entry"


def test_update_writes_the_template(locales: Path, flows: Path) -> None:
    """messages.pot lists every string with empty msgstr and where it is used."""
    template_path(locales).unlink()
    update(locales, shipped_template(flows))
    pot = read_catalog(template_path(locales))
    assert pot.get(NEW_HELP) is not None
    assert all(not m.string for m in pot if m.id)
    assert "#: bot/i18n/ui.py:11" in template_path(locales).read_text(encoding="utf-8")


def test_update_sets_the_lingala_plural_rule(locales: Path) -> None:
    """A Lingala file with CLDR's rule is written back with the hand-set one."""
    path = po_path(locales, "ln")
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("plural=(n > 1);", "plural=(n != 1);"), encoding="utf-8")
    update(locales, shipped_template(ROOT / "flows"))
    assert f'"Plural-Forms: {PLURAL_FORMS["ln"]}\\n"' in path.read_text(encoding="utf-8")


def test_update_creates_a_missing_language(locales: Path) -> None:
    """A language without a catalog gets one with every string to translate."""
    shutil.rmtree(locales / "st")
    template = shipped_template(ROOT / "flows")
    lines = update(locales, template)
    n = len(template)
    assert lines[3] == f"{po_path(locales, 'st')}: {n} strings, {n} to translate"
    st = read_catalog(po_path(locales, "st"), "st")
    assert st.locale is not None and str(st.locale) == "st"
    assert all(not m.string for m in st if m.id)


def test_update_twice_changes_nothing(locales: Path) -> None:
    """Merging the same template again leaves every catalog's entries as they were."""
    template = shipped_template(ROOT / "flows")
    update(locales, template)
    first = {lang: po_path(locales, lang).read_text(encoding="utf-8") for lang in LANGUAGES}
    update(locales, template)
    for lang in LANGUAGES:
        assert _entries(po_path(locales, lang).read_text(encoding="utf-8")) == _entries(first[lang])
    assert Catalogs.load(locales) == Catalogs.load(ROOT / "locales")


def _entries(text: str) -> str:
    """A PO file without its header (which carries the creation date)."""
    return text.split("\n\n", 1)[1]


def test_team_web_strings_come_from_its_templates_and_python() -> None:
    from bot.content.extract import extract_web

    template = extract_web(ROOT / "admin", ROOT)
    sign_in = template.get("Sign in to the hotline")
    assert sign_in is not None and sign_in.locations[0][0] == "admin/templates/signin.html"
    flashed = template.get("You are signed out.")
    assert flashed is not None and flashed.locations[0][0] == "admin/routes/signin.py"
    assert template.get("%(time)s left") is not None
    assert "Anti-trafficking hotline. Free and anonymous. Choose:" not in {m.id for m in template}
