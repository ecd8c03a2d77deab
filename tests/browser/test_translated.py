"""The team web in French in a real browser: the demo operator (who reads French) handles a new
P1 from the queue; the demo admin picks French on the sign-in page and opens the flow editor
and the statistics. Each page says ``lang="fr"`` and shows no English the catalog translates
(``tests.admin.test_pages_translated``); ``HOTLINE_SHOTS`` keeps a screenshot of each."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import Page, expect

from bot.content.seed import seed
from bot.dev import demo_year
from tests.admin.test_pages_translated import english_left
from tests.browser.conftest import DEMO_PASSWORD, LiveServer, shot, sign_in, ussd_p1_tip
from tests.conftest import ROOT


@pytest.fixture(scope="module", autouse=True)
def demo_added(live_server: LiveServer) -> None:
    """Version 1 of every flow, and a year of figures for the statistics page, as ``make run``
    adds them."""
    seed(live_server.app.state.engine, ROOT / "flows", ROOT / "locales")
    demo_year.seed(live_server.app.state.engine, today=date.today())


def in_french(page: Page, name: str) -> None:
    """The page is French through and through; keep its screenshot as ``name``."""
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    assert english_left(page.content(), "fr") == [], page.url
    shot(page, name)


def test_the_operator_handles_a_p1_in_french(page: Page, live_server: LiveServer) -> None:
    sign_in(page, "demo.amani")
    reference = ussd_p1_tip(live_server)
    row = page.locator(f"#case-{reference}")
    expect(row).to_contain_text("restant")  # arrived while watching, its time left in French
    in_french(page, "fr-queue")
    row.locator("a").click()
    page.wait_for_url(f"**/cases/{reference}")
    expect(page.locator("h1")).to_contain_text(f"Dossier {reference}")
    in_french(page, "fr-case")


def test_the_admin_picks_french_and_edits_flows_and_reads_figures(page: Page) -> None:
    page.goto("/signin")
    page.get_by_role("link", name="Français").click()
    page.wait_for_url("**/signin?lang=fr")
    page.locator("#username").fill("demo.admin")
    page.locator("#password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/queue")
    page.get_by_role("link", name="Parcours", exact=True).first.click()
    page.wait_for_url("**/flows")
    in_french(page, "fr-flows")
    page.goto("/flows/main")
    expect(page.get_by_role("button", name="Publier")).to_be_visible()
    in_french(page, "fr-flow-editor")
    page.get_by_role("link", name="Statistiques").click()
    page.wait_for_url("**/stats")
    year = str(date.today().year)
    page.locator("select[name=p]").select_option(year)
    page.get_by_role("button", name="Afficher").click()
    page.wait_for_url(f"**/stats?p={year}")
    expect(page.get_by_role("heading", name="Cas par province")).to_be_visible()
    in_french(page, "fr-stats")
