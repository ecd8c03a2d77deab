"""``/``: a signed-in member goes to the queue, anyone else to the sign-in page."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

from admin.deps import PUBLIC, MaybeSignedIn

router = APIRouter(tags=["team web"])


@router.get("/", dependencies=[PUBLIC])
def home(me: MaybeSignedIn) -> RedirectResponse:
    """The queue when signed in, else the sign-in page."""
    return RedirectResponse("/queue" if me is not None else "/signin", status_code=303)
