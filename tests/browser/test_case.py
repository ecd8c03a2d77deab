"""A case in a real browser, as the person on call handles a P1 reported over USSD: open it from
the queue, acknowledge it, read the report with a reason, record the consent to refer and refer
it; a supervisor refers a case without that consent, saying why. At 1280 and 390 px, the case
page within its weight budget (DESIGN §11)."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import (
    LiveServer,
    no_horizontal_scroll,
    shot,
    sign_in,
    ussd_p1_tip,
)
from tests.browser.weight import KB, Meter, describe, note

OPERATOR = "demo.amani"
SUPERVISOR = "demo.joseph"
CASE_BUDGET = 80 * KB
"""A case page's first load, everything included, gzip-compressed."""


def submit(page: Page, action: str) -> None:
    """Press the button of the form posting to ``action`` (a path), as a person does, and wait
    for the page it leads to."""
    press(page, page.locator(f"form[action='{action}'] button[type=submit]"))


def press(page: Page, button: Locator) -> None:
    """Press a form's button and wait until the next page has loaded."""
    with page.expect_navigation():
        button.click()


def open_case(page: Page, reference: str, name: str) -> None:
    """Open the case from the queue, as a person does; weigh the case page's first load."""
    meter = Meter(page).install()
    page.goto("/queue")
    meter.start()
    page.locator(f"#case-{reference} a").click()
    page.wait_for_url(f"**/cases/{reference}")
    loaded = meter.fetched()
    assert note(f"case page first load ({name})", loaded) <= CASE_BUDGET, describe(loaded)
    expect(page.locator("h1")).to_contain_text(reference)
    shot(page, "case")


def handle_a_p1(page: Page, live_server: LiveServer, name: str) -> str:
    """The operator's whole walk through a new P1; its reference."""
    sign_in(page, OPERATOR)
    reference = ussd_p1_tip(live_server)
    expect(page.locator(f"#case-{reference}")).to_be_visible()  # arrived while watching
    open_case(page, reference, name)
    case = f"/cases/{reference}"

    # Nothing reported is on the page until it is revealed.
    expect(page.locator(".revealed")).to_have_count(0)
    submit(page, f"{case}/ack")
    expect(page.locator(f"form[action='{case}/ack']")).to_have_count(0)

    page.locator(f"form[action='{case}/reveal'] input[name=reason]").fill("Calling the police")
    submit(page, f"{case}/reveal")
    expect(page.locator(".revealed")).to_be_visible()
    shot(page, "case-revealed")

    page.goto(case)  # the revealed report is on that answer only
    expect(page.locator(".revealed")).to_have_count(0)
    page.locator("#consents summary").click()
    page.locator(f"form[action='{case}/consent'] select[name=refer]").select_option("yes")
    submit(page, f"{case}/consent")

    page.locator(f"a[href='{case}/referrals/new']").click()
    page.wait_for_url(f"**{case}/referrals/new*")
    no_horizontal_scroll(page)
    shot(page, "referral-search")
    refer = page.locator(f"form[action='{case}/referrals']").first
    expect(refer.locator("input[name=override_reason]")).to_have_count(0)  # consent given
    press(page, refer.locator("button[type=submit]"))
    expect(page.locator("ul.referrals li")).to_have_count(1)
    no_horizontal_scroll(page)
    return reference


def test_the_operator_handles_a_p1_from_the_queue(page: Page, live_server: LiveServer) -> None:
    handle_a_p1(page, live_server, "1280 px")


def test_the_operator_handles_a_p1_on_a_phone(phone_page: Page, live_server: LiveServer) -> None:
    handle_a_p1(phone_page, live_server, "390 px")
    shot(phone_page, "case")


def test_a_supervisor_refers_without_consent_saying_why(
    page: Page, live_server: LiveServer
) -> None:
    reference = ussd_p1_tip(live_server)
    case = f"/cases/{reference}"
    sign_in(page, SUPERVISOR)
    page.goto(case)
    expect(page.locator(f"form[action='{case}/consent']")).to_have_count(1)
    page.goto(f"{case}/referrals/new")
    refer = page.locator(f"form[action='{case}/referrals']").first
    refer.locator("input[name=override_reason]").fill("Child in danger, no way to ask")
    press(page, refer.locator("button[type=submit]"))
    referral = page.locator("ul.referrals li")
    expect(referral).to_have_count(1)
    expect(referral).to_contain_text("demo.joseph")
    shot(page, "case-override")
