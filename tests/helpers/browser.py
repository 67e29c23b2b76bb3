"""What a person does in the browser, and what axe-core finds: logging in, moving with Tab, accessibility checks."""

from __future__ import annotations

import re
from urllib.parse import urldefrag

from coordinator.extensions import db


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


def scrolls_sideways(page) -> bool:
    """Whether the page is wider than the window: a phone's reader would have to scroll sideways."""
    return page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")
