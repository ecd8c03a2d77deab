"""The team web's navigation: each screen once, shown only to roles its route lets in.

A screen is listed here by its path and label; it appears in the nav when the app has a GET
route at that path (so a screen not built yet is not shown) whose declared roles include the
reader's. Add a line when you add a screen.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI

from admin.deps import declared, web_routes
from admin.flash import N_


@dataclass(frozen=True)
class Screen:
    """One entry of the nav."""

    path: str
    label: str
    """A msgid of the ``web`` catalog."""


SCREENS: tuple[Screen, ...] = (
    Screen("/queue", N_("Queue")),
    Screen("/directory", N_("Directory")),
    Screen("/rota", N_("Rota")),
    Screen("/team", N_("Team")),
    Screen("/audit", N_("Audit")),
    Screen("/flows", N_("Flows")),
    Screen("/stats", N_("Statistics")),
    Screen("/simulator", N_("Simulator")),
    Screen("/account", N_("My account")),
)


def roles_by_path(app: FastAPI) -> dict[str, frozenset[str] | None]:
    """Each GET path's declared roles (None: open to anyone), once per app."""
    cached: dict[str, frozenset[str] | None] | None = getattr(app.state, "web_nav_roles", None)
    if cached is not None:
        return cached
    found: dict[str, frozenset[str] | None] = {}
    for web in web_routes(app):
        if web.method == "GET":
            roles = declared(web.route)
            found[web.path] = roles if isinstance(roles, frozenset) else None
    found.setdefault("/simulator", None)  # every member may use it (production: signed in)
    app.state.web_nav_roles = found
    return found


def visible(app: FastAPI, role: str) -> list[Screen]:
    """The screens a member with ``role`` may open, in nav order."""
    known = roles_by_path(app)
    shown = []
    for screen in SCREENS:
        if screen.path not in known:
            continue
        roles = known[screen.path]
        if roles is None or role in roles:
            shown.append(screen)
    return shown
