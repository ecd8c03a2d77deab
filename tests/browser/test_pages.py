"""Every screen of the team web's menu, opened by a supervisor and by an admin on a phone and a
desktop: each answers, fits a 390 px screen without scrolling sideways (DESIGN §11)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import no_horizontal_scroll, shot, sign_in


def menu(page: Page) -> list[str]:
    """The paths the signed-in person's menu offers."""
    links: list[str] = page.eval_on_selector_all(
        "header nav a", "links => links.map(a => a.getAttribute('href'))"
    )
    return [link for link in links if link and link.startswith("/")]


def visit_every_screen(page: Page, username: str) -> list[str]:
    """Sign in and open each screen of the menu; the paths opened."""
    sign_in(page, username)
    paths = menu(page)
    assert "/queue" in paths
    for path in paths:
        answer = page.goto(path)
        assert answer is not None and answer.ok, (path, answer and answer.status)
        no_horizontal_scroll(page)
        shot(page, f"{username}{path.replace('/', '-')}")
    return paths


@pytest.mark.parametrize("username", ["demo.joseph", "demo.admin"])
def test_every_screen_fits_a_phone(phone_page: Page, username: str) -> None:
    visit_every_screen(phone_page, username)


def test_every_screen_opens_on_a_desktop(page: Page) -> None:
    visit_every_screen(page, "demo.admin")
