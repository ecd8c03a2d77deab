"""The flow editor in a real browser: an admin rewords the main menu in four languages, sees a
fit meter turn red on a too-long Sesotho text and fixes it, previews it as a basic phone shows
it, and publishes it; every screen of the editor at 1280 and 390 px; the editor's first load
weighed against its 120 KB budget."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect

from bot.content.seed import seed
from tests.browser.conftest import LiveServer, no_horizontal_scroll, shot, sign_in
from tests.browser.weight import KB, Meter, describe, note
from tests.conftest import ROOT

EDITOR_BUDGET = 120 * KB
WORDING = {
    "en": "{hotline_name}. You do not have to say who you are.",
    "fr": "{hotline_name}. Vous n'avez pas a dire qui vous etes.",
    "ln": "{hotline_name}. Osengeli te koloba soki ozali nani.",
    "st": "{hotline_name}. Ha o tlameha ho re o mang.",
}
TOO_LONG = "Tlaleha ntho e itseng eo o e boneng kapa o e utloileng " * 4
SHORT = "Tlaleha ntho"


@pytest.fixture(autouse=True)
def seeded(live_server: LiveServer) -> None:
    """Version 1 of every flow stored (once per server: seeding again adds nothing)."""
    seed(live_server.app.state.engine, ROOT / "flows", ROOT / "locales")


def press(page: Page, button: Locator) -> None:
    """Press a form's button and wait for the next page."""
    with page.expect_navigation():
        button.click()


def meter_of(page: Page, state: str, lang_index: int) -> Locator:
    """The fit meter of a state's screen in the n-th language (0 English ... 3 Sesotho)."""
    return page.locator(f"#fit-{state} .fit-lang").nth(lang_index).locator(".fit")


def test_an_admin_rewords_the_main_menu_checks_the_fit_previews_and_publishes(
    page: Page, live_server: LiveServer
) -> None:
    sign_in(page, "demo.admin")
    meter = Meter(page).install()
    page.goto("/flows")
    shot(page, "flows")
    meter.start()
    page.locator("#flow-main a").click()
    page.wait_for_url("**/flows/main")
    loaded = meter.fetched()
    assert note("flow editor first load (main)", loaded) <= EDITOR_BUDGET, describe(loaded)

    state = page.locator("#state-menu")
    for lang, text in WORDING.items():
        state.locator(f"textarea[name='{lang}:text']").fill(text)
    state.locator("textarea[name='st:label:1']").fill(TOO_LONG)
    expect(meter_of(page, "menu", 3)).to_have_attribute("data-fit", "over")  # as one types
    expect(meter_of(page, "menu", 3)).to_contain_text("Too long for a USSD screen")
    expect(meter_of(page, "menu", 0)).not_to_have_attribute("data-fit", "over")
    press(page, state.locator("button[value=save]"))
    expect(page.locator("p.flash[role=status]")).to_contain_text("Saved in the draft")
    expect(meter_of(page, "menu", 3)).to_have_attribute("data-fit", "over")  # and on save
    expect(page.locator(".publish .issues")).to_contain_text("menu")
    shot(page, "flow-outline-over")

    page.locator("#state-menu textarea[name='st:label:1']").fill(SHORT)
    press(page, page.locator("#state-menu button[value=save]"))
    expect(meter_of(page, "menu", 3)).not_to_have_attribute("data-fit", "over")
    expect(page.locator("#state-menu textarea[name='st:text']")).to_have_value(WORDING["st"])
    expect(page.locator(".publish .flash")).to_contain_text("No issues")
    no_horizontal_scroll(page)
    shot(page, "flow-outline")

    page.goto("/flows/main/preview?channel=ussd&lang=st")
    expect(page.locator("#phone-screen")).to_contain_text("4 Sesotho")
    expect(page.locator("body")).not_to_contain_text("CON ")
    page.locator("#reply").fill("4")
    press(page, page.locator("form.reply button[type=submit]"))
    expect(page.locator("#phone-screen")).to_contain_text("Ha o tlameha ho re o mang")
    expect(page.locator("#phone-screen")).to_contain_text(SHORT)
    shot(page, "flow-preview-ussd")

    page.goto("/flows/main")
    page.locator("#note").fill("Main menu reworded")
    press(page, page.locator(".publish button[type=submit]"))
    page.wait_for_url("**/flows/main/history")
    expect(page.locator("#version-2")).to_contain_text("demo.admin")
    expect(page.locator("#version-2")).to_contain_text("Main menu reworded")
    shot(page, "flow-history")

    page.goto("/flows/main/diff?from=1&to=2")
    expect(page.locator("#state-menu")).to_contain_text(WORDING["st"])
    shot(page, "flow-diff")


@pytest.mark.parametrize("width", ["page", "phone_page"])
def test_every_screen_of_the_editor_fits(
    request: pytest.FixtureRequest, width: str, live_server: LiveServer
) -> None:
    page: Page = request.getfixturevalue(width)
    sign_in(page, "demo.admin")
    for path, name in [
        ("/flows", "flows"),
        ("/flows/screening", "flow-outline-screening"),
        ("/flows/screening/graph", "flow-graph"),
        ("/flows/screening/history", "flow-history-screening"),
        ("/flows/screening/source", "flow-source"),
        ("/flows/main/preview?channel=sms&lang=fr", "flow-preview-sms"),
        ("/flows/main/preview?channel=telegram&lang=ln", "flow-preview-telegram"),
    ]:
        answer = page.goto(path)
        assert answer is not None and answer.ok, (path, answer and answer.status)
        if "graph" not in path:  # the drawing scrolls inside its own frame
            no_horizontal_scroll(page)
        shot(page, name)
    expect(page.locator(".buttons")).to_contain_text("Lingala")  # Telegram: buttons


def test_two_editors_the_second_sees_a_conflict_and_keeps_the_text(
    page: Page, phone_page: Page, live_server: LiveServer
) -> None:
    first, second = page, phone_page
    for editor in (first, second):
        sign_in(editor, "demo.admin")
        editor.goto("/flows/help")
    first.locator("#state-help textarea[name='fr:text']").fill(
        "Appelez la ligne : {hotline_number}. Nom non requis. Ou nous vous contactons :"
    )
    press(first, first.locator("#state-help button[value=save]"))
    expect(first.locator("p.flash[role=status]")).to_contain_text("Saved in the draft")

    mine = "Appelez le {hotline_number}. Sans donner votre nom. Ou nous vous rappelons :"
    second.locator("#state-help textarea[name='fr:text']").fill(mine)
    press(second, second.locator("#state-help button[value=save]"))
    expect(second.locator("h1")).to_contain_text("not saved yet")
    expect(second.locator("textarea[name='fr:text']")).to_have_value(mine)
    expect(second.locator("body")).to_contain_text("Nom non requis")
    no_horizontal_scroll(second)
    shot(second, "flow-conflict")
    press(second, second.locator("button[value=save]"))
    expect(second.locator("#state-help textarea[name='fr:text']")).to_have_value(mine)


@pytest.mark.parametrize("flow", ["screening", "ambassador"])
def test_the_largest_outlines_load_within_the_budget(page: Page, flow: str) -> None:
    sign_in(page, "demo.admin")
    meter = Meter(page).install()
    meter.start()
    page.goto(f"/flows/{flow}")
    loaded = meter.fetched()
    assert note(f"flow editor first load ({flow})", loaded) <= EDITOR_BUDGET, describe(loaded)
