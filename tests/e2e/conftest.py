"""Real-browser tests: the app served on loopback, Playwright driving Debian's Chromium, axe-core checks.

`make test` installs the chromium package when it is missing; Playwright uses /usr/bin/chromium and
never downloads a browser of its own.
"""

from __future__ import annotations

import email
import re
import socket
import threading
import time
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from typing import Self
from urllib.parse import urldefrag

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from coordinator.extensions import db

# A page that renders a PDF before it answers can take seconds on a busy machine: assertions wait as long as actions.
expect.set_options(timeout=10_000)

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium tries to reach Google's hosts at every start.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="module")
def browser():
    # One browser per test module, closed when the module ends. Playwright's sync API allows one running instance
    # per thread, and while it runs the thread has a running asyncio loop: a session-wide browser would clash with
    # a browser started elsewhere and leave that loop behind for every later test. Modules outside tests/e2e
    # import this fixture, so each of them gets its own browser on the same terms. Starting one takes ~0.4 s.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class LiveServer:
    """The app on a real HTTP server in a thread of the test process."""

    def __init__(self, app) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)
        self.server.server_close()


@pytest.fixture
def live_server(app) -> Iterator[LiveServer]:
    app.config["PUBLIC_BASE_URL"] = "http://127.0.0.1"  # replaced below once the port is known
    with LiveServer(app) as server:
        app.config["PUBLIC_BASE_URL"] = server.url
        yield server
    db.session.commit()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def log_in(page, email: str, password: str) -> None:
    """Log in through the login form, as a person would."""
    db.session.commit()  # what the test set up must be visible to the server's own sessions
    page.goto("/account/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    # The answer (the home page, or the login page again) must have arrived before the test goes on: a goto
    # while the form is still being sent would cancel it.
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()


# The HTML parser reads <noscript> content as elements only where scripting is off: a check without timers.
SCRIPT_OFF_PROBE = """() => document.createRange().createContextualFragment('<noscript><b></b></noscript>')
    .querySelector('noscript b') !== null"""


def _run_axe_on_a_copy(page):
    """axe-core on a page of a context with JavaScript off: the same HTML at the same address, in a context with it on.

    axe-core waits on script timers, which never fire where scripts are off, so running it there hangs for ever.
    The copy loads the same stylesheets and runs none of the page's own scripts, as the page itself did not.
    """
    from axe_playwright_python.sync_playwright import Axe

    html, url = page.content(), urldefrag(page.url).url
    context = page.context.browser.new_context(viewport=page.viewport_size, locale="en-GB")
    try:
        copy = context.new_page()
        copy.route(
            lambda address: urldefrag(address).url == url,
            lambda route: route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html),
        )
        copy.route(re.compile(r"\.js(\?.*)?$"), lambda route: route.abort())
        copy.goto(url)
        return Axe().run(copy)
    finally:
        context.close()


def axe_violations(page, impacts=("serious", "critical")) -> list[dict]:
    """axe-core's violations of the given impact on the current page (the bundled axe.min.js, no network)."""
    from axe_playwright_python.sync_playwright import Axe

    if page.evaluate(SCRIPT_OFF_PROBE):
        results = _run_axe_on_a_copy(page)
    else:
        results = Axe().run(page)
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in results.response["violations"]
        if v["impact"] in impacts
    ]


class SMTPServer:
    """A real SMTP server (aiosmtpd) on loopback that keeps every message it accepts."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope) -> str:
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"

    def wait_for_messages(self, count: int, seconds: float = 10) -> list[EmailMessage]:
        """The messages received, once there are at least `count` of them."""
        deadline = time.monotonic() + seconds
        while True:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            assert time.monotonic() < deadline, f"waited {seconds} s for {count} message(s), got {len(self.messages)}"
            time.sleep(0.05)


@pytest.fixture
def smtp_server(app) -> Iterator[SMTPServer]:
    """The app sends its mail to a real SMTP server on loopback (jobs run at once in tests, so mail goes at once)."""
    server = SMTPServer()
    server.controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, MAIL_USE_TLS=False)
    try:
        yield server
    finally:
        server.controller.stop()



def focused(page) -> dict:
    """What has the keyboard focus: its tag, id and visible text."""
    return page.evaluate(
        "(() => { const el = document.activeElement; return {tag: el.tagName.toLowerCase(), id: el.id,"
        " text: (el.innerText || '').replace(/\\s+/g, ' ').trim()} })()"
    )


def tab_to(page, text: str = "", element_id: str = "", limit: int = 60) -> dict:
    """Press Tab until the focus is on the element with this text or id, as a keyboard user moves through a page."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        if (text and now["text"] == text) or (element_id and now["id"] == element_id):
            return now
    raise AssertionError(f"{limit} presses of Tab never reached {text or element_id!r} on {page.url}")
