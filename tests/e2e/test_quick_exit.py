"""'Exit this page' on every public page a resident may reach: first after the skip link, and it leaves at once.

The neutral site is never reached: the browser's requests to it are answered by a small local page, and any other
request that leaves the machine is refused and fails the test.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest

from coordinator.bulletins import subscribers
from coordinator.extensions import db
from tests.factories import load_starter, make_scheme, make_street
from tests.helpers.browser import focused

EXIT_URL = "https://www.bbc.co.uk/weather"
STUB = "<!doctype html><html lang='en'><title>Weather</title><h1>Weather stub</h1></html>"
OBSCURED_BY = """el => { const r = el.getBoundingClientRect();
  const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return top === el || el.contains(top) ? '' : (top ? top.outerHTML.slice(0, 80) : 'nothing') }"""


@pytest.fixture
def offline_page(page):
    """The page, with the exit site answered locally and every other request off the machine refused."""
    leaks: list[str] = []
    page.context.route(re.compile(r"^(?!https?://127\.0\.0\.1[:/]).*"), lambda route: (
        leaks.append(route.request.url), route.abort()))
    page.route("https://www.bbc.co.uk/**", lambda route: route.fulfill(status=200, content_type="text/html", body=STUB))
    yield page
    assert leaks == [], f"requests that would have left the machine: {leaks}"


def _public_pages(page) -> list[tuple[str, Callable[[], None]]]:
    """Each public page with a way to arrive on it afresh (the unsubscribed page is the answer to a POST)."""
    load_starter()
    scheme = make_scheme("Hayes Lane Watch", slug="hayes-lane-watch")
    make_street(scheme, "Hayes Lane", postcode="BR2 9EA")
    people = []
    for n in range(3):
        subscribers.sign_up(scheme, f"resident{n}@example.net")
        people.append(subscribers.find_subscriber(scheme, f"resident{n}@example.net"))
    db.session.commit()
    confirm = f"/join/confirm/{subscribers.make_confirmation_token(people[0])}"
    unsubscribe_links = iter(urlsplit(subscribers.unsubscribe_url(person)).path for person in people[1:])

    def unsubscribed() -> None:
        page.goto(next(unsubscribe_links))
        page.get_by_role("button", name="Unsubscribe").click()
        page.wait_for_load_state()

    return [
        ("sign-up", lambda: page.goto("/join/hayes-lane-watch")),
        ("check your email", lambda: page.goto("/join/hayes-lane-watch/check-your-email")),
        ("confirm", lambda: page.goto(confirm)),
        ("subscribed", lambda: page.goto("/join/hayes-lane-watch/subscribed")),
        ("unsubscribe", lambda: page.goto(urlsplit(subscribers.unsubscribe_url(people[0])).path)),
        ("unsubscribed", unsubscribed),
        ("link not valid", lambda: page.goto("/unsubscribe/forged-token")),
        ("campaigns running now", lambda: page.goto("/campaigns/")),
        ("a campaign", lambda: page.goto("/campaigns/you-are-not-alone")),
        ("a campaign not running", lambda: page.goto("/campaigns/no-such-campaign")),
        ("page not found", lambda: page.goto("/join/no-such-scheme")),
    ]


def test_exit_this_page_comes_first_and_leaves_by_click_and_by_shift(offline_page):
    page = offline_page
    for name, arrive in _public_pages(page):
        arrive()
        heading = page.get_by_role("heading", level=1).inner_text()
        page.keyboard.press("Tab")
        assert focused(page)["text"] == "Skip to main content", name
        assert page.locator(".skip-link").evaluate(OBSCURED_BY) == "", f"{name}: the focused skip link is covered"
        page.keyboard.press("Tab")
        now = focused(page)
        assert (now["tag"], now["text"]) == ("a", "Emergency Exit this page"), f"{name}: {now}"
        assert page.locator("[data-quick-exit-link]").evaluate(OBSCURED_BY) == "", name
        # Clicking it leaves for the neutral site.
        page.get_by_role("link", name="Emergency Exit this page").click()
        page.wait_for_url(EXIT_URL)
        assert page.get_by_role("heading", level=1).inner_text() == "Weather stub", name
        # Pressing Shift three times leaves as well, from wherever the reader is on the page.
        arrive()
        assert page.get_by_role("heading", level=1).inner_text() == heading, name
        for _ in range(3):
            page.keyboard.press("Shift")
        page.wait_for_url(EXIT_URL)
        assert page.get_by_role("heading", level=1).inner_text() == "Weather stub", name


def test_leaving_takes_the_page_out_of_the_history(offline_page):
    page = offline_page
    make_scheme("Hayes Lane Watch", slug="hayes-lane-watch")
    db.session.commit()
    page.goto("/account/login")
    page.goto("/join/hayes-lane-watch")
    page.get_by_role("link", name="Emergency Exit this page").click()
    page.wait_for_url(EXIT_URL)
    # Back goes to the page before the sign-up page: someone checking the browser's back button sees nothing of it.
    page.go_back()
    assert urlsplit(page.url).path == "/account/login"


@pytest.mark.parametrize("width", [1280, 375])
def test_the_sticky_bar_never_covers_the_focus(offline_page, width):
    page = offline_page
    scheme = make_scheme("Hayes Lane Watch", slug="hayes-lane-watch")
    make_street(scheme, "Hayes Lane", postcode="BR2 9EA")
    db.session.commit()
    page.set_viewport_size({"width": width, "height": 480})
    page.goto("/join/hayes-lane-watch")
    page.get_by_role("button", name="Send me a link to confirm").focus()
    # Backwards through the form: each field scrolls to the top edge, where the bar stays (WCAG 2.2, 2.4.11).
    seen = []
    while focused(page)["text"] != "Emergency Exit this page":
        page.keyboard.press("Shift+Tab")
        now = focused(page)
        seen.append(now["id"] or now["text"])
        assert page.evaluate(f"({OBSCURED_BY})(document.activeElement)") == "", f"{width} px: {now} is covered"
    assert {"consent", "street", "name", "email"} <= set(seen)
