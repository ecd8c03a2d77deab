"""The team web's pages: Jinja2 templates (autoescaped, with the i18n extension) rendered in the
reader's language from the ``web`` catalogs (``locales/<lang>/LC_MESSAGES/web.po``).

``render(request, "queue.html", {...})`` is all a route needs: it adds who is signed in, the
CSRF token for forms, the nav their role may use, a pending flash message, and the page's
language — the signed-in member's (``Operator.lang``), else ``?lang=`` on the sign-in page,
else the browser's ``Accept-Language``, else ``HOTLINE_DEFAULT_LANGUAGE``. Template strings are
``{{ _("Text with %(name)s", name=value) }}`` (values are escaped; the text is ours).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.support import NullTranslations, Translations
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup

from admin import csrf, flash, labels, nav, session
from admin.deps import WebUser
from bot.core.languages import LANGUAGES, NAMES, is_language
from bot.core.settings import Settings
from bot.i18n.catalog import po_path, read_catalog

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
DOMAIN = "web"
"""The team web's own gettext domain (the flows' texts are in ``messages``)."""


def load_translations(locales: Path, lang: str) -> NullTranslations:
    """A language's finished ``web`` translations (fuzzy and empty entries fall back to the
    English msgid); English, or a missing catalog, translates to the msgid itself."""
    path = po_path(locales, lang, DOMAIN)
    if lang == "en" or not path.exists():
        return NullTranslations()
    catalog = read_catalog(path, lang)
    for message in list(catalog):
        if message.id and (message.fuzzy or not message.string):
            catalog.delete(message.id, message.context)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


def clock(seconds: int) -> tuple[int, int, int]:
    """``seconds`` as whole days, hours and minutes (a page writes them in its language)."""
    minutes = max(0, seconds) // 60
    return minutes // 1440, minutes // 60 % 24, minutes % 60


@cache
def static_url(name: str) -> str:
    """``/static/<name>?v=<content hash>``: cached for a year, fetched again when it changes."""
    digest = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]
    return f"/static/{name}?v={digest}"


def _new_style(
    translations: NullTranslations,
) -> tuple[Callable[..., str], Callable[..., str]]:
    """gettext and ngettext as templates call them: ``%(name)s`` values escaped, text trusted."""

    @pass_context
    def gettext(context: Context, message: str, **values: Any) -> str:
        text = Markup(translations.gettext(message))  # noqa: S704 - our own catalog's text
        return text % values if values else text

    @pass_context
    def ngettext(context: Context, singular: str, plural: str, n: int, **values: Any) -> str:
        text = Markup(translations.ngettext(singular, plural, n))  # noqa: S704 - our catalog
        return text % {"num": n, **values}

    return gettext, ngettext


class Pages:
    """The templates and each language's translations, loaded once per app."""

    def __init__(self, locales: Path) -> None:
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(("html",), default=True),
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,  # templates ship with the code: no file check per page
        )
        self.env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
        self.env.globals["static"] = static_url
        self.env.globals["labels"] = labels
        self.env.globals["clock"] = clock
        self.env.globals["language_names"] = NAMES
        self.env.globals["languages"] = LANGUAGES
        self.callables = {lang: _new_style(load_translations(locales, lang)) for lang in LANGUAGES}

    def render(self, name: str, context: dict[str, Any], lang: str) -> str:
        """The template filled in, in ``lang``."""
        gettext, ngettext = self.callables.get(lang, self.callables["en"])
        return self.env.get_template(name).render(
            {**context, "gettext": gettext, "ngettext": ngettext, "lang": lang}
        )


def pages(request: Request) -> Pages:
    """The app's ``Pages`` (made by ``admin.web.install``)."""
    found: Pages = request.app.state.web_pages
    return found


def settings_of(request: Request) -> Settings:
    """The app's settings."""
    found: Settings = request.app.state.settings
    return found


def user_of(request: Request) -> WebUser | None:
    """The signed-in member, once a role dependency let them in."""
    user: WebUser | None = getattr(request.state, "web_user", None)
    return user


def language(request: Request) -> str:
    """The page's language: the member's, else ``?lang=``, else the browser's, else the default."""
    user = user_of(request)
    if user is not None and is_language(user.lang):
        return user.lang
    asked = request.query_params.get("lang", "")
    if is_language(asked):
        return asked
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if is_language(code):
            return code
    return settings_of(request).default_language


def area_names(request: Request, lang: str) -> Callable[[str | None], str]:
    """``area_name(code)``: a place as its names from the place up to the country ("Kikwit,
    Kwilu, DR Congo"), the country's name translated; an unknown code is shown as it is."""
    content = getattr(request.app.state, "content", None)
    tree = content.areas if content is not None else None

    def area_name(code: str | None) -> str:
        if not code:
            return ""
        path = tree.path(code) if tree is not None and content is not None else []
        if not path or content is None:
            return code
        names = [content.tr(lang, path[0].name)] + [a.name for a in path[1:]]
        return ", ".join(reversed(names))

    return area_name


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    csrf_bound_to: str | None = None,
) -> HTMLResponse:
    """A page (or fragment) for this request, never cached; a pending flash is shown and
    cleared. ``csrf_bound_to``: what the forms' token is bound to when nobody is signed in
    (the sign-in form's cookie value)."""
    settings = settings_of(request)
    user = user_of(request)
    bound = user.session_id if user is not None else csrf_bound_to
    message = flash.pending(request, settings)
    lang = language(request)
    html = pages(request).render(
        name,
        {
            "request": request,
            "me": user,
            "csrf": csrf.token_for(settings, bound) if bound else "",
            "nav": nav.visible(request.app, user.role) if user is not None else [],
            "path": request.url.path,
            "flash": message,
            "area_name": area_names(request, lang),
            **(context or {}),
        },
        lang,
    )
    response = HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})
    if message is not None:
        session.clear(response, settings, session.FLASH)
    return response
