"""What a keyboard or screen-reader user relies on: a visible focus, and form errors that are announced and lead
to their fields."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from coordinator.extensions import db
from tests.factories import PASSWORD, make_scheme, make_street, make_user
from tests.helpers.browser import focused, log_in, tab_to

LOOKS = ["backgroundColor", "color", "boxShadow", "outlineStyle", "outlineColor", "outlineWidth", "textDecorationLine"]


def _looks(page, selector: str) -> dict:
    script = "(el, keys) => Object.fromEntries(keys.map(key => [key, getComputedStyle(el)[key]]))"
    return page.locator(selector).evaluate(script, LOOKS)


def test_a_link_reached_by_keyboard_shows_its_focus(page):
    page.goto("/account/login")
    link = 'a[href="/account/forgot-password"]'
    before = _looks(page, link)
    tab_to(page, text="Forgotten your password?")
    after = _looks(page, link)
    changed = {key for key in LOOKS if before[key] != after[key]}
    # The GOV.UK focus style: a yellow background and a dark bar underneath, whatever the link's colours were.
    assert {"backgroundColor", "boxShadow"} <= changed, (before, after)
    assert after["backgroundColor"] == "rgb(255, 221, 0)"
    # The skip link, hidden until it has the focus, comes into view when it does.
    page.goto("/account/login")
    page.keyboard.press("Tab")
    assert focused(page)["text"] == "Skip to main content"
    box = page.locator(".skip-link").bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0


def _assert_errors_are_announced(page, expected: dict[str, str]) -> None:
    """The summary is an alert that has the focus; each error links to its field, which is invalid and described."""
    summary = page.locator(".error-summary")
    expect(summary).to_have_attribute("role", "alert")
    expect(summary).to_be_focused()
    expect(summary).to_have_accessible_name("There is a problem")
    links = summary.get_by_role("link")
    assert {link.get_attribute("href"): link.inner_text() for link in links.all()} == {
        f"#{field_id}": message for field_id, message in expected.items()
    }
    for field_id, message in expected.items():
        field = page.locator(f"#{field_id}")
        expect(field).to_have_attribute("aria-invalid", "true")
        described_by = field.get_attribute("aria-describedby").split()
        assert f"{field_id}-error" in described_by
        expect(page.locator(f"#{field_id}-error")).to_contain_text(message)
        # What a screen reader says on reaching the field: its error, as Chromium computes the description.
        expect(field).to_have_accessible_description(re.compile(re.escape(f"Error: {message}")))
        # Following the summary's link puts the keyboard in the field.
        summary.get_by_role("link", name=message).click()
        expect(field).to_be_focused()
        page.locator(".error-summary").focus()


def test_login_errors_are_announced_and_lead_to_their_fields(page):
    page.goto("/account/login")
    page.get_by_role("button", name="Log in").click()
    _assert_errors_are_announced(page, {"email": "Enter your email address", "password": "Enter your password"})
    # A wrong password is one error for the form, not a field's: announced all the same, and nothing is given away.
    user = make_user()
    db.session.commit()
    # The address now ends in #password (the summary's last link was followed); the form posts to the page without
    # it, or the browser would skip autofocus on an answer whose address names an element.
    assert page.url.endswith("#password")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_be_focused()
    expect(page.get_by_role("alert")).to_contain_text("There is a problem")
    assert "#" not in page.url


def test_street_form_errors_are_announced_and_lead_to_their_fields(page):
    coordinator = make_user(name="Pat Okafor")
    scheme = make_scheme("Hayes Lane Watch", [coordinator])
    make_street(scheme, "Hayes Lane", postcode="BR2 9EA")
    db.session.commit()
    log_in(page, coordinator.email, PASSWORD)
    page.goto(f"/schemes/{scheme.id}/streets/new")
    page.get_by_label("Street name").fill("Hayes Lane")
    page.get_by_label("Postcode").fill("BR2")
    page.get_by_label("Households", exact=True).fill("lots")
    page.get_by_role("button", name="Add the street").click()
    summary_links = page.locator(".error-summary").get_by_role("link")
    expected = {link.get_attribute("href")[1:]: link.inner_text() for link in summary_links.all()}
    assert set(expected) >= {"postcode", "households"}, expected
    _assert_errors_are_announced(page, expected)
    # What was typed is kept, so only the mistakes need retyping.
    expect(page.get_by_label("Street name")).to_have_value("Hayes Lane")
    expect(page.get_by_label("Households", exact=True)).to_have_value("lots")
