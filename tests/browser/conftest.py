"""Browser tests: the app served by uvicorn on a free port, driven by Debian's Chromium.

One server (the demo team on a migrated SQLite database) and one browser per test module, both
stopped before the worker's next module (a running app limits log lines process-wide, and
Playwright's sync API keeps an asyncio loop running in the thread while it is open); a fresh
page (its own cookies) per test. Every browser test runs in one xdist worker (``xdist_group``,
with ``--dist loadgroup``): the other workers never start a browser. Chromium is Debian's
(``/usr/bin/chromium``); Playwright never downloads a browser. Without it the tests fail in CI
(``CI`` or ``HOTLINE_REQUIRE_SERVICES``) and are skipped elsewhere.

``HOTLINE_SHOTS=/tmp/shots`` keeps a screenshot of each page the tests look at.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    ViewportSize,
    expect,
    sync_playwright,
)

from bot.core.settings import Settings
from tests.conftest import CALLBACK_TOKEN, TEST_PHONES, make_app, make_settings, require_services

CHROMIUM = Path(os.environ.get("HOTLINE_CHROMIUM", "/usr/bin/chromium"))
DEMO_PASSWORD = "demo-password-for-browser-tests"
PUBLIC_NUMBER = "0800 000 009"
DESKTOP = ViewportSize(width=1280, height=800)
PHONE = ViewportSize(width=390, height=844)
"""A phone's viewport (an iPhone 12-14 is 390 px wide): the team web must fit it."""
WAIT_MS = 15_000
"""How long an action or an expectation may wait: generous, for a CI machine under load."""
expect.set_options(timeout=WAIT_MS)


def browsers_required() -> bool:
    """In CI a missing Chromium fails the browser tests; on a laptop it skips them."""
    return require_services() or os.environ.get("CI", "") not in ("", "0", "false")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every browser test in one xdist worker: one server and one Chromium per run."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.xdist_group("browser"))


@dataclass(frozen=True)
class LiveServer:
    """The running app: its address, and the app itself to look into its database."""

    url: str
    app: FastAPI
    settings: Settings


def serve(app: FastAPI) -> tuple[uvicorn.Server, threading.Thread, str]:
    """Start uvicorn on a socket bound to a free port; its server, thread and base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.02)
    return server, thread, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app with the demo team (``demo.*``, password DEMO_PASSWORD), served over HTTP for
    the tests of a module (a running app changes process-wide state, e.g. log limits, that
    the worker's next tests must not inherit)."""
    folder = tmp_path_factory.mktemp("live-server")
    settings = make_settings(
        folder,
        demo=True,
        demo_password=DEMO_PASSWORD,
        public_number=PUBLIC_NUMBER,
        case_hourly_limit=0,
        web_live_check_seconds=0.2,  # the live queue notices a change within 0.2 s
    )
    app = make_app(settings)
    server, thread, url = serve(app)
    try:
        yield LiveServer(url, app, settings)
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[Playwright]:
    """Playwright's driver, once per test module: while it runs, this thread has an asyncio loop
    running, so it must be stopped before the worker goes on to an asyncio test."""
    if not CHROMIUM.exists():
        message = f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)"
        if browsers_required():
            pytest.fail(message + " (CI or HOTLINE_REQUIRE_SERVICES=1)", pytrace=False)
        pytest.skip(message)
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless, shared by the tests of a module."""
    launched = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), headless=True)
    try:
        yield launched
    finally:
        launched.close()


def new_context(
    browser: Browser, live_server: LiveServer, viewport: ViewportSize
) -> BrowserContext:
    """A fresh browser profile (no cookies) on the live server, failing fast on a stuck page."""
    context = browser.new_context(
        base_url=live_server.url, viewport=viewport, locale="en-GB", timezone_id="Africa/Kinshasa"
    )
    context.set_default_timeout(WAIT_MS)
    return context


@pytest.fixture
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A page of its own at desktop width (1280 px)."""
    context = new_context(browser, live_server, DESKTOP)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def phone_page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A page of its own at a phone's width (390 px)."""
    context = new_context(browser, live_server, PHONE)
    try:
        yield context.new_page()
    finally:
        context.close()


def shot(page: Page, name: str) -> None:
    """Keep a full-page screenshot as ``<name>-<width>.png`` when HOTLINE_SHOTS names a folder."""
    folder = os.environ.get("HOTLINE_SHOTS", "")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    page.screenshot(path=str(Path(folder) / f"{name}-{width}.png"), full_page=True)


def no_horizontal_scroll(page: Page) -> int:
    """The page's scroll width, asserted to fit its viewport (nothing wider than the screen)."""
    width: int = page.evaluate("document.scrollingElement.scrollWidth")
    viewport = page.viewport_size
    assert viewport is not None
    assert width <= viewport["width"], f"{page.url} scrolls sideways: {width} px > {viewport}"
    return width


def sign_in(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the form, as a person does; the queue opens."""
    page.goto("/signin")
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.locator("form[action='/signin'] button[type=submit]").click()
    page.wait_for_url("**/queue")


REFERENCE = re.compile(r"\b([A-Z0-9]{4}-[0-9]{2})\b")
P1_TIP = "1*1*1*3*1*1*2*1*2*2*1"
"""Dialled on a basic phone: English, Report, forced work in Lesotho, a person in danger now,
and every other answer of a tip; then ``*1`` (Send) files it as a P1."""


def ussd_p1_tip(live_server: LiveServer, phone: str = TEST_PHONES[0]) -> str:
    """A P1 tip reported over USSD as Africa's Talking posts it, screen by screen; its reference."""
    url = f"{live_server.url}/ussd/africastalking/{CALLBACK_TOKEN}"
    session_id = f"ATUid_{uuid.uuid4().hex}"
    form = {"sessionId": session_id, "serviceCode": "*384*12#", "phoneNumber": phone}
    with httpx.Client(timeout=10) as client:
        for typed in (P1_TIP, f"{P1_TIP}*1"):
            answer = client.post(url, data={**form, "networkCode": "63001", "text": typed})
            answer.raise_for_status()
    assert answer.text.startswith("END "), answer.text
    found = REFERENCE.search(answer.text)
    assert found is not None, answer.text
    return found.group(1)
