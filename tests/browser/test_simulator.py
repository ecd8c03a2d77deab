"""The simulator in a real browser: a person types a USSD tip in English and clicks Send."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from bot.conversation.dryrun import SAMPLE_REFERENCE
from tests.browser.conftest import LiveServer, no_horizontal_scroll, shot
from tests.browser.weight import KB, Meter, describe, total

TIP = [
    ("1", "Helpline. You need not give your name."),  # English
    ("1", "What is happening?"),  # Report something
    ("1", "Where is it happening? Choose the country:"),  # Forced work
    ("1", "Which province?"),  # DR Congo
    ("3", "How many people are affected?"),  # Haut-Katanga
    ("1", "Are there children (under 18) among them?"),  # One person
    ("1", "Is someone in danger right now?"),  # Yes
    ("2", "Do you want to add a short description?"),  # No
    ("2", "May the hotline contact you about this report?"),  # No
    ("2", "Send your report now?"),  # No
]
"""What is typed on each screen, and the question the next screen asks."""


def send(page: Page, typed: str) -> None:
    """Type a reply in the box and click Send, as a person does."""
    page.get_by_label("Your reply").fill(typed)
    page.get_by_role("button", name="Send").click()


def test_a_ussd_tip_walked_by_clicking(page: Page, live_server: LiveServer) -> None:
    page.goto("/simulator")
    screen = page.locator("#phone")
    expect(screen).to_contain_text("Choose your language:")
    expect(screen).to_contain_text("1 English")
    for typed, question in TIP:
        send(page, typed)
        expect(screen).to_contain_text(question)
    shot(page, "simulator")
    send(page, "1")  # Send
    expect(screen).to_contain_text("END Thank you. Your report is saved.")
    expect(screen).to_contain_text(SAMPLE_REFERENCE)


def test_the_simulator_fits_a_phone_and_weighs_little(phone_page: Page) -> None:
    meter = Meter(phone_page).install()
    phone_page.goto("/simulator")
    expect(phone_page.locator("#phone")).to_contain_text("Choose your language:")
    fetched = meter.fetched()
    assert {f.url.rsplit("/", 1)[-1] for f in fetched} >= {"simulator.css", "simulator.js"}
    assert total(fetched) <= 10 * KB, describe(fetched)
    no_horizontal_scroll(phone_page)
    shot(phone_page, "simulator")
