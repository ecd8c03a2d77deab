"""The team web's pages: Jinja2 templates (autoescaped, with the i18n extension) rendered in the
reader's language from the ``web`` catalogs (``locales/<lang>/LC_MESSAGES/web.po``).

``render(request, "queue.html", {...})`` is all a route needs: it adds who is signed in, the
CSRF token for forms, the nav their role may use, a pending flash message, and the page's
language — ``render(..., lang=)`` when the route knows it (the sign-in form's choice), else the
signed-in member's (``Operator.lang``, even on a page their role may not open), else ``?lang=``
on the sign-in page, else the browser's ``Accept-Language``, else ``HOTLINE_DEFAULT_LANGUAGE``.
Template strings are ``{{ _("Text with %(name)s", name=value) }}`` (values are escaped; the text
is ours). A template that imports macros must import them ``with context``: the translations
are the page's, and a macro without them refuses to render rather than show English.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup

from admin import csrf, flash, labels, nav, session
from admin.deps import WebUser
from bot.core.languages import LANGUAGES, is_language
from bot.core.settings import Settings
from bot.i18n.catalog import po_path, read_catalog, translated

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
DOMAIN = "web"
"""The team web's own gettext domain (the flows' texts are in ``messages``)."""
RESERVED = frozenset({"lang", "gettext", "ngettext"})
"""Context names ``render`` sets itself: a route passes ``lang=``, never one of these."""
ENDONYMS = {"en": "English", "fr": "Français", "ln": "Lingala", "st": "Sesotho"}
"""Each language in its own name and full spelling, where a person picks theirs (marked with
its ``lang`` in the page); elsewhere a language is named in the reader's language."""


def load_translations(locales: Path, lang: str) -> NullTranslations:
    """A language's finished ``web`` translations (fuzzy and empty entries fall back to the
    English msgid); English, or a missing catalog, translates to the msgid itself."""
    path = po_path(locales, lang, DOMAIN)
    if lang == "en" or not path.exists():
        return NullTranslations()
    catalog = read_catalog(path, lang)
    for message in list(catalog):
        if message.id and (message.fuzzy or not translated(message.string)):
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


class NoLanguage(RuntimeError):
    """A template called ``_()`` without the page's translations (an import without context)."""


def _without_context(*args: Any, **kwargs: Any) -> str:
    """The environment's gettext: there is none (NoLanguage), the page passes its own."""
    raise NoLanguage(
        "a template translated text without the page's language: import its macros "
        '"with context" ({% import "x.html" as m with context %})'
    )


def _translated(context: Context, msgid: str) -> str:
    """``msgid`` through the page's own gettext (as ``_()`` in the template would)."""
    text = context.call(context.resolve("gettext"), msgid)
    return text if isinstance(text, str) else msgid


@pass_context
def language_name(context: Context, code: str | None) -> str:
    """A language named in the page's language (an unknown code as it is)."""
    msgid = labels.language.get(code or "")
    return _translated(context, msgid) if msgid else (code or "")


@pass_context
def actor_name(context: Context, name: str | None) -> str:
    """Who did something: a member's username, or the hotline, a partner... in words."""
    msgid = labels.actor.get(name or "")
    return _translated(context, msgid) if msgid else (name or "")


@pass_context
def decimal(context: Context, number: float | None) -> str:
    """A figure rounded to one decimal, written the page language's way (``4,4`` in French;
    a whole number without its ``.0``)."""
    if number is None:
        return "—"
    lang = context.get("lang")
    return format_decimal(number, format="#,##0.#", locale=lang if is_language(lang) else "en")


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
        # Each page passes its language's gettext; the environment's would speak English.
        self.env.globals["gettext"] = _without_context
        self.env.globals["ngettext"] = _without_context
        self.env.globals["static"] = static_url
        self.env.globals["labels"] = labels
        self.env.globals["clock"] = clock
        self.env.globals["language_names"] = ENDONYMS
        self.env.globals["language_name"] = language_name
        self.env.globals["actor_name"] = actor_name
        self.env.filters["decimal"] = decimal
        self.env.globals["languages"] = LANGUAGES
        self.callables = {lang: _new_style(load_translations(locales, lang)) for lang in LANGUAGES}

    def render(self, name: str, context: dict[str, Any], lang: str) -> str:
        """The template filled in, in ``lang`` (ValueError for a context naming ``lang``,
        ``gettext`` or ``ngettext``: the page's own, set here)."""
        if clash := RESERVED & context.keys():
            raise ValueError(f"render() sets {sorted(clash)} itself: pass lang= instead")
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


def reader_of(request: Request) -> WebUser | None:
    """Who reads the page: the member let in, else one signed in whom the route refused."""
    return user_of(request) or getattr(request.state, "web_reader", None)


def language(request: Request) -> str:
    """The page's language: the member's, else ``?lang=``, else the browser's, else the default."""
    user = reader_of(request)
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
    lang: str | None = None,
) -> HTMLResponse:
    """A page (or fragment) for this request, never cached; a pending flash is shown and
    cleared. ``csrf_bound_to``: what the forms' token is bound to when nobody is signed in
    (the sign-in form's cookie value); ``lang``: the page's language when the route knows
    better than the request (a language chosen on the sign-in form)."""
    settings = settings_of(request)
    user = user_of(request)
    bound = user.session_id if user is not None else csrf_bound_to
    message = flash.pending(request, settings)
    lang = lang if lang is not None and is_language(lang) else language(request)
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
