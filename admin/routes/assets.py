"""``/static/<name>``: the team web's script, style and vendored htmx, from ``admin/static``.

Only the files listed are served. Pages link them with a content hash (``render.static_url``),
so they are cached for a year and fetched again only when they change.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

from admin.deps import PUBLIC
from admin.render import STATIC

router = APIRouter(tags=["team web"])

ASSETS = {
    "htmx.min.js": "text/javascript",
    "web.js": "text/javascript",
    "web.css": "text/css",
    "case.css": "text/css",
    "flows.css": "text/css",
    "stats.css": "text/css",
}
YEAR = "public, max-age=31536000, immutable"


@router.get("/favicon.ico", dependencies=[PUBLIC])
async def favicon() -> Response:
    """No icon (a browser asks for one on every first visit): nothing, cached for a day."""
    return Response(status_code=204, headers={"Cache-Control": "public, max-age=86400"})


@router.get("/static/{name}", dependencies=[PUBLIC])
async def asset(name: str) -> Response:
    """One of the listed files (404 for anything else)."""
    media_type = ASSETS.get(name)
    if media_type is None:
        raise HTTPException(status_code=404, detail="not found")
    return Response(
        (STATIC / name).read_bytes(),
        media_type=media_type,
        headers={"Cache-Control": YEAR},
    )
