"""The team's JSON API under ``/api/``: sign-in, queue, cases, referrals, team and rota.

Every route but ``POST /api/login`` declares the roles it lets in (``bot.api.auth.require``);
nothing is open by default.
"""

from __future__ import annotations

from fastapi import APIRouter

from bot.api.auth import router as auth_router
from bot.api.cases import router as cases_router
from bot.api.me import router as me_router
from bot.api.referrals import router as referrals_router
from bot.api.team import router as team_router

router = APIRouter()
router.include_router(auth_router)
router.include_router(cases_router)
router.include_router(referrals_router)
router.include_router(team_router)
router.include_router(me_router)

__all__ = ["router"]
