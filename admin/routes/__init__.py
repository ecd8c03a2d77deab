"""The team web's screens, one module each; ``admin.web.install`` includes every router listed.

To add a screen: a module here with its ``router`` (every route declaring its roles with
``admin.deps``), a line in ``ROUTERS``, a line in ``admin.nav.SCREENS`` if it belongs in the nav.
"""

from __future__ import annotations

from fastapi import APIRouter

from admin.routes import (
    account,
    assets,
    audit,
    case,
    directory,
    flows,
    flows_po,
    flows_preview,
    flows_versions,
    home,
    queue,
    referrals,
    rota,
    signin,
    stats,
    team,
)

ROUTERS: tuple[APIRouter, ...] = (
    assets.router,
    home.router,
    signin.router,
    account.router,
    queue.router,
    case.router,
    referrals.router,
    directory.router,
    rota.router,
    team.router,
    audit.router,
    flows.router,
    flows_versions.router,
    flows_preview.router,
    flows_po.router,
    stats.router,
)
