"""A flow's translations as PO files (admins): download one per version (or the draft) and
language for a translator's ordinary PO tool, and upload one back into the draft — previewed
first (what changes, or why the whole file is refused), applied only when confirmed.

The rules are ``bot.content.po``'s: fuzzy means needs native review, a cleared mark on an
unchanged entry means reviewed by the importer, broken placeholders refuse the file.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Path, Request, UploadFile
from fastapi.responses import Response

from admin import flash
from admin.deps import Admin
from admin.flash import N_
from admin.render import render
from admin.routes import flows_common as common
from admin.routes.flows_words import words
from bot.content import po, versions
from bot.content.folder import ImportRefused
from bot.content.store import Draft, Version
from bot.deps import DbSession, Now, SettingsDep

router = APIRouter(tags=["team web"])

IMPORTED = flash.register("flows.po_imported", N_("Translations imported into the draft."))
MAX_PO = 512 * 1024
"""The largest PO file taken (a flow's is a few kilobytes)."""
Lang = Annotated[str, Path(pattern=r"^(fr|ln|st)$")]
Side = Annotated[str, Path(pattern=r"^(draft|[0-9]{1,9})$")]
FormLang = Annotated[str, Form(pattern=r"^(fr|ln|st)$")]


@router.get("/flows/{flow}/po/{side}/{lang}")
def download(me: Admin, db: DbSession, flow: str, side: Side, lang: Lang) -> Response:
    """The texts of a version (or the draft) and their translations into ``lang``, as PO."""
    content: Draft | Version = (
        common.draft_of(db, flow) if side == "draft" else common.version_of(db, flow, int(side))
    )
    db.commit()
    number = None if side == "draft" else int(side)
    name = po.file_name(flow, number, lang)
    return Response(
        po.export_po(content, lang),
        media_type="text/x-gettext-translation; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _preview_page(
    request: Request,
    draft: Draft,
    preview: po.PoPreview,
    data: str,
    *,
    status: int = 200,
    stale: bool = False,
) -> Response:
    return render(
        request,
        "flow_po.html",
        {"draft": draft, "preview": preview, "data": data, "stale": stale, **words()},
        status=status if preview.ok else 422,
    )


@router.post("/flows/{flow}/po")
async def upload(
    request: Request,
    me: Admin,
    db: DbSession,
    now: Now,
    flow: str,
    lang: FormLang,
    file: Annotated[UploadFile, File()],
) -> Response:
    """What importing the file would change in the draft (nothing is written yet)."""
    raw = await file.read(MAX_PO + 1)
    if len(raw) > MAX_PO:
        raise HTTPException(status_code=413, detail="a PO file of at most 512 KB")
    return _preview(request, me, db, now, flow, lang, raw)


def _preview(
    request: Request, me: Admin, db: DbSession, now: Now, flow: str, lang: str, raw: bytes
) -> Response:
    draft = common.draft_of(db, flow)
    preview = po.preview_po_import(db, flow, lang, raw, by=me.username, now=now)
    db.commit()
    return _preview_page(request, draft, preview, raw.decode("utf-8", "replace"))


@router.post("/flows/{flow}/po/apply")
def apply(
    request: Request,
    me: Admin,
    db: DbSession,
    settings: SettingsDep,
    now: Now,
    flow: str,
    lang: FormLang,
    data: Annotated[str, Form(max_length=MAX_PO)] = "",
    revision: Annotated[int, Form(ge=0, le=10**9)] = 0,
) -> Response:
    """Import the previewed file into the draft (refused whole, or stale: previewed again)."""
    raw = data.encode("utf-8")
    try:
        po.apply_po_import(
            db, flow=flow, lang=lang, data=raw, revision=revision, by=me.username, now=now
        )
    except (ImportRefused, versions.StaleDraft) as exc:
        db.rollback()
        draft = common.draft_of(db, flow)
        preview = po.preview_po_import(db, flow, lang, raw, by=me.username, now=now)
        db.commit()
        stale = isinstance(exc, versions.StaleDraft)
        return _preview_page(request, draft, preview, data, status=409, stale=stale)
    db.commit()
    return flash.redirect(f"/flows/{flow}", settings, IMPORTED)
