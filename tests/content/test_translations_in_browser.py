"""Translation pages in a real browser at 320 px, JavaScript off: adding an Urdu translation through the forms,
reviewing it beside the original, and axe-core on each page."""

from __future__ import annotations

import os

from playwright.sync_api import expect

from coordinator.content import translations
from coordinator.extensions import db
from tests.factories import PASSWORD, make_admin, make_campaign
from tests.helpers.browser import axe_violations, log_in

SCROLL_WIDTH = "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"


def _look(page, name: str) -> None:
    scroll_width, client_width = page.evaluate(SCROLL_WIDTH)
    assert scroll_width <= client_width, f"{page.url} scrolls sideways: {scroll_width} px wide at 320"
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    assert axe_violations(page) == [], page.url
    if folder := os.environ.get("SCREENSHOTS_DIR"):  # to look at, not to compare
        page.screenshot(path=f"{folder}/translation-{name}-320.png", full_page=True)


def test_an_urdu_translation_is_added_reviewed_and_read_right_to_left(browser, live_server):
    author, reviewer = make_admin(name="Alex Admin"), make_admin(name="Bea Admin")
    original = make_campaign(title="You are not alone", summary="Help is close, day and night.")
    db.session.commit()
    context = browser.new_context(base_url=live_server.url, locale="en-GB", java_script_enabled=False,
                                  viewport={"width": 320, "height": 640})
    page = context.new_page()
    try:
        log_in(page, author.email, PASSWORD)
        page.goto(f"/content/items/{original.item_id}")
        page.get_by_label("Language").fill("ur")
        page.get_by_role("button", name="Add a translation").click()
        title = page.get_by_label("Title")
        expect(title).to_have_attribute("dir", "rtl")
        expect(title).to_have_attribute("lang", "ur")
        _look(page, "form")
        title.fill("آپ اکیلے نہیں ہیں")
        page.get_by_label("Summary").fill("مدد قریب ہے۔")
        page.get_by_role("button", name="Save draft").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("آپ اکیلے نہیں ہیں")
        expect(page.get_by_role("heading", level=1)).to_have_attribute("dir", "rtl")
        _look(page, "item")
        page.get_by_role("button", name="Submit version 1 for approval").click()
        version = original.item.translations[0].latest_version
        db.session.refresh(version)
        assert version.state.value == "submitted"

        context.clear_cookies()
        log_in(page, reviewer.email, PASSWORD)
        page.goto(f"/content/versions/{version.id}/review")
        expect(page.get_by_role("table")).to_contain_text("Help is close, day and night.")
        expect(page.get_by_role("table")).to_contain_text("مدد قریب ہے۔")
        _look(page, "review")
        page.get_by_label("Approve this version").check()
        page.get_by_role("button", name="Send decision").click()
        db.session.refresh(version)
        assert version.state.value == "approved"
        assert translations.usable_translation(original.item, "ur").summary == "مدد قریب ہے۔"
        page.goto(f"/content/items/{original.item_id}")
        expect(page.get_by_role("table", name="1 translation")).to_contain_text("Up to date")
        _look(page, "original")
    finally:
        context.close()
