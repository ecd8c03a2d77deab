"""``/stats`` (supervisors and admins): the service's figures in full and the case figures
suppressed, for a month, a quarter or a year; the case tables as CSV and XLSX; and for admins
the case-level export, encrypted with a password they set and audited.

Every figure comes from ``bot.stats``; this module only picks the period and renders.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import Response

from admin.deps import Admin, Supervisor
from admin.render import area_names, render
from bot.deps import DbSession, Now, SettingsDep
from bot.stats import labels
from bot.stats.case_export import MIN_PASSWORD, WeakPassword, export_cases
from bot.stats.cases import CaseFigures, count_year_figures, cut, province_map
from bot.stats.exports import to_csv, to_xlsx
from bot.stats.periods import BadPeriod, Period, choices
from bot.stats.recent import Recent
from bot.stats.rollup import YearCounts, year_counts
from bot.stats.service import service_figures

log = logging.getLogger(__name__)
router = APIRouter(tags=["team web"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def chosen_period(
    request: Request, now: Now, p: Annotated[str, Query(max_length=10)] = ""
) -> Period:
    """``?p=2026-03`` (or 2026-Q1, 2026); by default this month. 422 for anything else."""
    if not p:
        return Period.month_of(now.date())
    try:
        return Period.parse(p)
    except BadPeriod:
        log.info("stats: an unreadable period was asked for")
        raise HTTPException(
            status_code=422, detail="period: write 2026-03, 2026-Q1 or 2026"
        ) from None


ChosenPeriod = Annotated[Period, Depends(chosen_period)]


def provinces_of(request: Request) -> dict[str, str]:
    """Area code -> province code, from the app's area tree (once per app)."""
    found: dict[str, str] | None = getattr(request.app.state, "stats_provinces", None)
    if found is None:
        content = getattr(request.app.state, "content", None)
        found = province_map(content.areas if content is not None else None)
        request.app.state.stats_provinces = found
    return found


def recent_of(request: Request) -> Recent:
    """The app's recently counted figures (made once per app)."""
    found: Recent | None = getattr(request.app.state, "stats_recent", None)
    if found is None:
        found = request.app.state.stats_recent = Recent()
    return found


def cases_of(
    request: Request,
    db: DbSession,
    now: Now,
    period: Period,
    counts: Callable[[], YearCounts] | None = None,
) -> tuple[CaseFigures, datetime]:
    """The period's case tables, cut from its year counted within the last minute
    (``counts``: the year's roll-up, read once for the whole page)."""
    read = counts or (lambda: year_counts(db, period.year, now=now))
    year, counted = recent_of(request).get(
        ("cases", period.year),
        now,
        lambda: count_year_figures(db, period.year, provinces_of(request), counts=read()),
    )
    return cut(period, year), counted


def page(
    request: Request, db: DbSession, now: Now, period: Period, *, status: int = 200
) -> Response:
    """The statistics page for ``period``."""
    counts = functools.cache(lambda: year_counts(db, period.year, now=now))
    cases, counted = cases_of(request, db, now, period, counts)
    service, _ = recent_of(request).get(
        ("service", str(period)),
        now,
        lambda: service_figures(db, period, now=now, counts=counts()),
    )
    return render(
        request,
        "stats.html",
        {
            "period": period,
            "choices": choices(now),
            "counted": counted,
            "cases": cases,
            "service": service,
            "words": labels,
            "min_password": MIN_PASSWORD,
            "weak_password": status == 422,
        },
        status=status,
    )


@router.get("/stats")
def stats_page(
    request: Request, me: Supervisor, db: DbSession, now: Now, period: ChosenPeriod
) -> Response:
    """The period's figures: the service in full, the cases suppressed."""
    return page(request, db, now, period)


def _download(content: bytes | str, media_type: str, name: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/stats/cases.csv")
def stats_csv(
    request: Request, me: Supervisor, db: DbSession, now: Now, period: ChosenPeriod
) -> Response:
    """The case tables as CSV, suppressed as on the page."""
    figures, _ = cases_of(request, db, now, period)
    text = to_csv(figures, area_names(request, "en"))
    return _download(text, "text/csv; charset=utf-8", f"hotline-cases-{period}.csv")


@router.get("/stats/cases.xlsx")
def stats_xlsx(
    request: Request, me: Supervisor, db: DbSession, now: Now, period: ChosenPeriod
) -> Response:
    """The case tables as a workbook, suppressed as on the page."""
    figures, _ = cases_of(request, db, now, period)
    return _download(
        to_xlsx(figures, area_names(request, "en")), XLSX, f"hotline-cases-{period}.xlsx"
    )


@router.post("/stats/case-export")
def case_export(
    request: Request,
    me: Admin,
    db: DbSession,
    settings: SettingsDep,
    now: Now,
    password: Annotated[str, Form(max_length=200)] = "",
    p: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """One row per case of the period (whitelisted fields), encrypted with ``password``;
    the download is audited. A short password shows the page again with why."""
    period = chosen_period(request, now, p)
    key = settings.pseudonym_key
    secret = key.get_secret_value().encode() if key is not None else b""
    try:
        export = export_cases(
            db,
            period,
            password=password,
            actor=me.username,
            key=secret,
            provinces=provinces_of(request),
        )
    except WeakPassword:
        return page(request, db, now, period, status=422)
    db.commit()
    log.info("stats: %s exported %d cases of %s, encrypted", me.username, export.cases, period)
    return _download(export.content, XLSX, f"hotline-case-level-{period}.xlsx")
