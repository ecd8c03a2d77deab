"""What the ``hotline`` command tests share: the shipped texts, a runner, folding, PO edits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from bot.cli import main
from bot.content.files import flow_files, load_file
from bot.conversation.dryrun import SAMPLE_REFERENCE
from bot.core.settings import ROOT
from bot.i18n.catalog import Catalogs, po_path, read_catalog, write_catalog
from bot.i18n.gsm7 import fold

NUMBER = "0800 000 009"
MENU = "{hotline_name}. You need not give your name."
HELP = (
    "Call the hotline: {hotline_number}. You do not have to give your name. Or we can contact you:"
)
SENT = (
    "Thank you. A hotline worker will try to contact you at the time you chose. "
    "Your reference: {reference}. Help: {hotline_number}"
)
CALL_BACK = "1\n1\n1\n"
"""On the help menu: Ask us to contact you, Morning, Phone call."""
MENU_FLOWS = {"main", "tip", "screening", "signs", "help", "follow"}
"""The main menu and the flows its options lead to."""
SHIPPED_FLOWS = sorted(load_file(path).name for path in flow_files([ROOT / "flows"]))
CHOICE = {"en": "1", "fr": "2", "ln": "3", "st": "4"}
CATALOGS = Catalogs.load(ROOT / "locales")
SHIPPED = (ROOT / "flows" / "main.yaml").read_text(encoding="utf-8")
SHIPPED_HELP = (ROOT / "flows" / "help.yaml").read_text(encoding="utf-8")
TO_HELP = 'next: "help:"}'
"""The main menu's "Get help now" option, to break."""


def run(*args: str, input: str | None = None) -> Result:
    """Invoke ``hotline ARGS``."""
    return CliRunner().invoke(main, list(args), input=input)


def folded(lang: str, msgid: str) -> str:
    """A translated text as a basic phone shows it (a dry run's sample reference)."""
    text = CATALOGS.gettext(lang, msgid).format(
        hotline_number=NUMBER, hotline_name="Helpline", reference=SAMPLE_REFERENCE
    )
    return fold(text, lang)


def edit_po(locales: Path, lang: str, msgid: str, **changes: Any) -> None:
    """Change one entry of a language's catalog (string, flags...)."""
    path = po_path(locales, lang)
    catalog = read_catalog(path, lang)
    message = catalog[msgid]
    for name, value in changes.items():
        setattr(message, name, value)
    write_catalog(path, catalog)
