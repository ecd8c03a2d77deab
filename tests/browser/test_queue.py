"""The live queue in a real browser: a P1 reported over USSD appears and is announced without a
reload, on a desktop and on a phone, within the page weight budgets (DESIGN §11)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    LiveServer,
    no_horizontal_scroll,
    shot,
    sign_in,
    ussd_p1_tip,
)
from tests.browser.weight import KB, Meter, describe, note

OPERATOR = "demo.amani"
QUEUE_BUDGET = 60 * KB
"""The queue's first load, everything included (HTML, CSS, JS, fonts), gzip-compressed."""
UPDATE_BUDGET = 8 * KB
"""A live update of the queue: the events received and the table fetched again."""


def watch_the_queue(page: Page, name: str) -> Meter:
    """Sign in, open the queue and weigh its first load; the meter, reset for what follows."""
    meter = Meter(page).install()
    sign_in(page, OPERATOR)
    meter.start()
    page.goto("/queue")
    first = meter.fetched()
    assert note(f"queue first load ({name})", first) <= QUEUE_BUDGET, describe(first)
    kinds = {f.content_type.split(";")[0] for f in first}
    assert {"text/html", "text/css"} <= kinds, describe(first)
    page.evaluate("window.__notReloaded = true")
    meter.start()
    return meter


def a_p1_arrives(page: Page, meter: Meter, live_server: LiveServer, name: str) -> str:
    """Report a P1 over USSD while the queue is open: it shows up, announced; its reference."""
    reference = ussd_p1_tip(live_server)
    row = page.locator(f"#case-{reference}")
    expect(row).to_be_visible()
    expect(row).to_contain_text("P1")
    expect(page.locator("#announce")).to_contain_text(reference)
    assert page.evaluate("window.__notReloaded === true"), "the page was reloaded"
    update = meter.fetched()
    weight = note(f"live queue update ({name})", update, meter.sse_bytes())
    assert weight <= UPDATE_BUDGET, describe(update) + f"\n+ {meter.sse_bytes()} bytes of events"
    return reference


def test_a_p1_tip_arrives_in_the_open_queue_without_a_reload(
    page: Page, live_server: LiveServer
) -> None:
    meter = watch_the_queue(page, "1280 px")
    reference = a_p1_arrives(page, meter, live_server, "1280 px")
    expect(page).to_have_title(re.compile(r"^\(1\) "))  # the tab says so too
    shot(page, "queue")
    page.locator(f"#case-{reference} a").click()
    page.wait_for_url(f"**/cases/{reference}")


def test_the_queue_on_a_phone(phone_page: Page, live_server: LiveServer) -> None:
    meter = watch_the_queue(phone_page, "390 px")
    a_p1_arrives(phone_page, meter, live_server, "390 px")
    no_horizontal_scroll(phone_page)
    shot(phone_page, "queue")


def test_signed_out_the_queue_sends_to_sign_in(page: Page) -> None:
    page.goto("/")
    page.wait_for_url("**/signin*")
    expect(page.locator("#username")).to_be_visible()
    shot(page, "signin")
