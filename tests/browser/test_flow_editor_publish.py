"""A publish from the editor reaches callers: a USSD conversation started before it finishes on
the old wording, one started after it shows the new wording (DESIGN §12)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from playwright.sync_api import Page, expect

from bot.content.seed import seed
from tests.browser.conftest import LiveServer, sign_in
from tests.browser.test_flow_editor import press
from tests.conftest import CALLBACK_TOKEN, ROOT, TEST_PHONES

OLD = "You need not give your name."
NEW = "Say only what you want to say."


@pytest.fixture(autouse=True)
def seeded(live_server: LiveServer) -> None:
    seed(live_server.app.state.engine, ROOT / "flows", ROOT / "locales")


class Dialled:
    """A USSD session as Africa's Talking posts it: every input so far joined by ``*``."""

    def __init__(self, live_server: LiveServer, phone: str) -> None:
        self.url = f"{live_server.url}/ussd/africastalking/{CALLBACK_TOKEN}"
        self.form = {
            "sessionId": f"ATUid_{uuid.uuid4().hex}",
            "serviceCode": "*384*12#",
            "phoneNumber": phone,
            "networkCode": "63001",
        }
        self.inputs: list[str] = []

    def send(self, typed: str | None = None) -> str:
        if typed is not None:
            self.inputs.append(typed)
        answer = httpx.post(self.url, data={**self.form, "text": "*".join(self.inputs)}, timeout=10)
        answer.raise_for_status()
        return answer.text


def test_a_conversation_started_before_a_publish_finishes_on_the_old_wording(
    page: Page, live_server: LiveServer
) -> None:
    before = Dialled(live_server, TEST_PHONES[1])
    assert "English" in before.send()  # the language screen, before the publish

    sign_in(page, "demo.admin")
    page.goto("/flows/main")
    page.locator("#state-menu textarea[name='en:text']").fill("{hotline_name}. " + NEW)
    for lang in ("fr", "ln", "st"):
        page.locator(f"#state-menu textarea[name='{lang}:text']").fill("{hotline_name}. " + NEW)
    press(page, page.locator("#state-menu button[value=save]"))
    page.locator("#note").fill("Main menu reworded")
    press(page, page.locator(".publish button[type=submit]"))
    expect(page.locator("#version-2")).to_contain_text("Main menu reworded")

    finished = before.send("1")
    assert OLD in finished and NEW not in finished
    after = Dialled(live_server, TEST_PHONES[2])
    after.send()
    started = after.send("1")
    assert NEW in started, started
