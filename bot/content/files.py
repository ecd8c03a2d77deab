"""The flows and translations a process runs, loaded and validated together, refused if broken."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.engine.compile import compile_flow
from bot.engine.loader import FlowIssue, FlowLoadError, LoadedFlow, flow_files, load_file
from bot.engine.registry import FlowRegistry
from bot.engine.runner import Translate
from bot.engine.validate import Catalog, ScreenCheck, validate
from bot.i18n.catalog import Catalogs


def screen_checks(tr: Translate) -> dict[str, ScreenCheck]:
    """Each channel's check of a rendered screen, by the name used in messages."""
    # Imported here: the channel modules carry the provider routes, which depend on this module.
    from bot.channels.sms.render import SmsRenderer
    from bot.channels.telegram.render import TelegramRenderer
    from bot.channels.ussd.render import UssdRenderer

    return {
        "USSD": UssdRenderer(tr).check,
        "SMS": SmsRenderer(tr).check,
        "Telegram": TelegramRenderer(tr).check,
    }


def check_flows(paths: list[Path], catalogs: Catalogs) -> tuple[list[LoadedFlow], list[FlowIssue]]:
    """Load and validate flow files (folders are expanded); every issue found, none raised."""
    loaded: list[LoadedFlow] = []
    issues: list[FlowIssue] = []
    files = flow_files(paths)
    if not files:
        issues.append(FlowIssue(", ".join(map(str, paths)), "no flow files found"))
    for path in files:
        try:
            loaded.append(load_file(path))
        except FlowLoadError as exc:
            issues.extend(exc.issues)
    catalog = Catalog(tr=catalogs.gettext, has=catalogs.has)
    issues.extend(validate(loaded, catalog, screen_checks(catalogs.gettext)))
    return loaded, issues


@dataclass(frozen=True)
class Content:
    """Compiled flows and the catalogs that translate them."""

    registry: FlowRegistry
    catalogs: Catalogs

    def tr(self, lang: str, msgid: str) -> str:
        """Translate a source text into a language."""
        return self.catalogs.gettext(lang, msgid)


def load_content(flows: Path, locales: Path) -> Content:
    """Load, validate and compile; raise FlowLoadError listing every issue found."""
    catalogs = Catalogs.load(locales)
    loaded, issues = check_flows([flows], catalogs)
    if issues:
        raise FlowLoadError(issues)
    return Content(FlowRegistry(compile_flow(f) for f in loaded), catalogs)
