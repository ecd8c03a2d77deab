"""The statistics page in a browser: the demo supervisor picks the year and reads the demo
year's figures — real counts next to the hidden mark "[c]" and the legend saying what it means —
on a desktop and a phone, within a page budget."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import Page, expect

from bot.dev import demo_year
from bot.stats.suppression import HIDDEN, LEGEND
from tests.browser.conftest import LiveServer, no_horizontal_scroll, shot, sign_in
from tests.browser.weight import KB, Meter, describe, note

BUDGET = 60 * KB
"""As light as the queue's first load: tables and SVG drawn by the server, no chart script."""


@pytest.fixture(scope="module", autouse=True)
def demo_year_added(live_server: LiveServer) -> None:
    """The demo year, as ``make run`` adds it (``hotline serve`` in a demo)."""
    demo_year.seed(live_server.app.state.engine, today=date.today())


def read_the_year(page: Page, name: str) -> None:
    """Sign in as the demo supervisor, open Statistics from the menu, pick this year."""
    sign_in(page, "demo.joseph")
    page.get_by_role("link", name="Statistics").click()
    page.wait_for_url("**/stats")
    meter = Meter(page).install()
    meter.start()
    year = str(date.today().year)
    page.locator("select[name=p]").select_option(year)
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(f"**/stats?p={year}")
    loaded = meter.fetched()
    assert note(f"statistics page ({name})", loaded) <= BUDGET, describe(loaded)
    expect(page.locator("h1")).to_contain_text(year)
    cases = page.locator("section.case-figures")
    expect(cases.get_by_role("heading", name="Cases by province")).to_be_visible()
    expect(cases.locator("p.rule")).to_contain_text(LEGEND)
    expect(cases.locator("td.n", has_text=HIDDEN).first).to_be_visible()
    expect(cases.locator("svg.chart text", has_text=HIDDEN).first).to_be_attached()
    counts = [t.strip() for t in cases.locator("td.n").all_inner_texts()]
    assert "<11" not in page.content()
    assert any(c.isdigit() and int(c) >= 11 for c in counts), counts
    assert not [c for c in counts if c.isdigit() and 0 < int(c) < 11], counts
    expect(page.get_by_role("heading", name="How the service ran")).to_be_visible()
    expect(page.locator("svg.chart").first).to_be_visible()
    no_horizontal_scroll(page)
    shot(page, "stats")


def test_the_demo_supervisor_reads_the_year_on_a_desktop(page: Page) -> None:
    read_the_year(page, "desktop")


def test_the_demo_supervisor_reads_the_year_on_a_phone(phone_page: Page) -> None:
    read_the_year(phone_page, "phone")
