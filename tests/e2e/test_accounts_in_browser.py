"""Logging in and the account pages, in a real browser, with axe-core on each page."""

from __future__ import annotations

from playwright.sync_api import expect

from coordinator.extensions import db
from tests.factories import PASSWORD, make_scheme, make_street, make_user
from tests.helpers.browser import axe_violations, log_in


def test_coordinator_logs_in_by_keyboard_and_sees_their_scheme(page):
    user = make_user(name="Zoë Adeyemi")
    scheme = make_scheme("Hayes Lane Watch", coordinators=[user])
    make_street(scheme, "Hayes Lane")
    db.session.commit()
    page.goto("/account/login")
    assert axe_violations(page) == []
    # Keyboard only: the skip link first, then the form in order.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Skip to main content"
    page.get_by_label("Email address").focus()
    page.keyboard.type(user.email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/")
    assert page.get_by_role("heading", level=1).inner_text() == "Hello, Zoë Adeyemi"
    assert axe_violations(page) == []
    page.get_by_role("link", name="Hayes Lane Watch").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hayes Lane Watch")
    assert axe_violations(page) == []


def test_login_error_is_announced_and_accessible(page):
    page.goto("/account/login")
    page.get_by_role("button", name="Log in").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Enter your email address")
    assert page.get_by_label("Email address").get_attribute("aria-invalid") == "true"
    assert axe_violations(page) == []


def test_account_pages_pass_axe(page):
    user = make_user()
    db.session.commit()
    log_in(page, user.email, PASSWORD)
    for path in ("/account/", "/account/password", "/no-such-page"):
        page.goto(path)
        assert axe_violations(page) == [], path
