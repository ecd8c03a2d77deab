"""The statistics page and its downloads: supervisors see the service in full and the cases
suppressed; no count from 1 to 10 reaches the page, the CSV or the workbook, and every hidden
count shows the one mark the legend explains; admins download the case-level export encrypted
with their password, and it is audited."""

from __future__ import annotations

import csv
import io
from datetime import date
from html.parser import HTMLParser

import msoffcrypto
import pytest
from openpyxl import load_workbook
from sqlmodel import Session, col, select

from admin.routes import stats_labels
from bot.dev import demo_year
from bot.models import AuditEntry, Case
from bot.stats import labels
from bot.stats.case_export import FIELDS
from bot.stats.suppression import HIDDEN, LEGEND, THRESHOLD
from tests.admin.conftest import Web

PASSWORD = "a long export password"


def small(text: str) -> bool:
    """A count from 1 to 10 (what suppression never lets through)."""
    return text.strip().isdigit() and 0 < int(text.strip()) < 11


class Cells(HTMLParser):
    """The text of every count cell (``td.n``) inside the case figures section."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.inside = False
        self.in_cell = False
        self.cells: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "section" and "data-suppressed" in names:
            self.inside = True
        if self.inside and tag == "td" and "n" in (names.get("class") or "").split():
            self.in_cell = True
            self.cells.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self.inside = False
        if tag == "td":
            self.in_cell = False

    def handle_data(self, data: str) -> None:
        if self.in_cell:
            self.cells[-1] += data


@pytest.fixture
def year(web: Web) -> Web:
    """The demo year (1,500 synthetic cases up to the clock's day) in the database."""
    demo_year.seed(web.engine, today=date(2026, 11, 22))
    return web


def test_a_supervisor_sees_the_year_with_suppression_and_no_small_count(year: Web) -> None:
    year.as_role("supervisor")
    for period in ("2026", "2026-Q2", "2026-03"):
        page = year.client.get(f"/stats?p={period}")
        assert page.status_code == 200, period
        parser = Cells()
        parser.feed(page.text)
        assert parser.cells, period
        assert not [c for c in parser.cells if small(c)], period
        assert HIDDEN in parser.cells, period  # the rare provinces are there, hidden
        assert LEGEND in page.text, period  # and what the mark means, beside them
        assert "&lt;11" not in page.text and "<11" not in page.text, period
    text = year.client.get("/stats?p=2026").text
    assert "Cases by province" in text and "Kwilu, DR Congo" in text
    assert "How the service ran" in text and "Escalations per level" in text


def test_the_exports_hold_the_same_suppressed_tables_and_no_formula(year: Web) -> None:
    year.as_role("supervisor")
    text = year.client.get("/stats/cases.csv?p=2026").text
    rows = list(csv.reader(io.StringIO(text)))
    counts = [cell for row in rows for cell in row[1:] if row and row[0] != "Hotline case figures"]
    assert HIDDEN in counts and rows[1] == [LEGEND]
    assert "<11" not in text
    assert not [c for c in counts if small(c)]
    assert not [c for row in rows for c in row if c[:1] in ("=", "+", "-", "@")]
    book = load_workbook(io.BytesIO(year.client.get("/stats/cases.xlsx?p=2026").content))
    assert "province" in book.sheetnames
    for sheet in book.worksheets:
        assert sheet["A2"].value == LEGEND
        for line in sheet.iter_rows(min_row=4, values_only=True):
            for value in line[1:]:
                assert not (isinstance(value, int) and 0 < value < 11), (sheet.title, line)
                assert not (isinstance(value, str) and small(value))
                assert value != "<11"


def large_hidden(rows: list[list[str]]) -> list[tuple[str, str]]:
    """(table, column) of the export's lines whose hidden counts add up to more than 10 each:
    one of them at least is 11 or more, hidden only so that a small one cannot be worked out."""
    found: list[tuple[str, str]] = []
    blocks: list[list[list[str]]] = [[]]
    for row in rows[2:]:
        if row:
            blocks[-1].append(row)
        else:
            blocks.append([])
    for title, head, *body in (b for b in blocks if b):
        *members, total = body
        for j, column in enumerate(head[1:], start=1):
            cells = [m[j] for m in members]
            hidden = cells.count(HIDDEN)
            if hidden and total[j].isdigit():
                rest = int(total[j]) - sum(int(c) for c in cells if c.isdigit())
                if rest >= hidden * (THRESHOLD - 1) + 1:
                    found.append((title[0], column))
    return found


def test_a_count_hidden_for_a_small_ones_sake_has_the_same_mark(year: Web) -> None:
    year.as_role("supervisor")
    rows = list(csv.reader(io.StringIO(year.client.get("/stats/cases.csv?p=2026").text)))
    assert large_hidden(rows), "the demo year hides no count of 11 or more"
    counts = [cell for row in rows[2:] if len(row) > 1 and row[0] for cell in row[1:]]
    counts = [c for c in counts if c.isdigit() or c == HIDDEN]  # not the column headings
    parser = Cells()
    parser.feed(year.client.get("/stats?p=2026").text)
    assert [c.strip() for c in parser.cells] == counts  # the page shows the very same marks
    assert {c for c in counts if not c.isdigit()} == {HIDDEN}


def test_an_admin_downloads_the_case_level_export_encrypted_and_audited(year: Web) -> None:
    year.as_role("admin")
    weak = year.post("/stats/case-export", {"password": "short", "p": "2026-03"})
    assert weak.status_code == 422 and "at least 12 characters" in weak.text
    response = year.post("/stats/case-export", {"password": PASSWORD, "p": "2026-03"})
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    with pytest.raises(Exception):  # noqa: B017 - not a workbook without the password
        load_workbook(io.BytesIO(response.content))
    office = msoffcrypto.OfficeFile(io.BytesIO(response.content))
    office.load_key(password=PASSWORD)
    plain = io.BytesIO()
    office.decrypt(plain)
    sheet = load_workbook(plain).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == FIELDS
    assert len(rows) > 50
    assert all(row[1] == "2026-03" for row in rows[1:])
    with Session(year.engine) as db:
        references = set(db.exec(select(Case.reference)).all())
        assert not {str(v) for row in rows for v in row} & references
        entry = db.exec(select(AuditEntry).where(col(AuditEntry.action) == "stats_export")).one()
    assert entry.actor == "ada" and "2026-03" in (entry.reason or "")


def test_only_supervisors_and_admins_open_it_and_only_admins_export_cases(web: Web) -> None:
    web.as_role("operator")
    assert web.client.get("/stats").status_code == 403
    assert web.client.get("/stats/cases.csv").status_code == 403
    web.as_role("supervisor")
    assert web.client.get("/stats").status_code == 200
    assert web.post("/stats/case-export", {"password": PASSWORD}).status_code == 403


def test_an_unreadable_period_is_refused(web: Web) -> None:
    web.as_role("supervisor")
    assert web.client.get("/stats?p=2026-13").status_code == 422
    assert web.client.get("/stats?p=yesterday").status_code == 422


def test_every_word_of_the_figures_is_marked_for_translation() -> None:
    marked = set(stats_labels.WORDS)
    for table in (
        labels.exploitation,
        labels.age,
        labels.kind,
        labels.channel,
        labels.language,
        labels.referral,
        labels.service_type,
        labels.titles,
        labels.heads,
    ):
        assert set(table.values()) <= marked
    assert set(labels.level.values()) <= marked
