"""The sign-up page in Arabic in Chromium at 320 px (issue 14, item 7): right to left from <html> down, Arabic ticked,
the language links usable, the error summary and the answer page in Arabic, and axe-core finds nothing."""

from __future__ import annotations

from coordinator.extensions import db
from tests.helpers.browser import axe_violations
from tests.helpers.languages import ARABIC_CAMPAIGN, POLISH_CAMPAIGN, approve_fixed_wording, approved_translation

WIDTH = 320


def no_sideways_scroll(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_the_arabic_sign_up_page_reads_right_to_left_and_passes_axe_at_320_px(page, world, tmp_path):
    approved_translation(world.campaign, "ar", ARABIC_CAMPAIGN)
    approved_translation(world.campaign, "pl", POLISH_CAMPAIGN)
    approve_fixed_wording("ar")
    db.session.commit()

    page.set_viewport_size({"width": WIDTH, "height": 700})
    page.goto("/join/hayes-lane-watch?language=ar")
    html = page.locator("html")
    assert html.get_attribute("lang") == "ar" and html.get_attribute("dir") == "rtl"
    assert page.locator("body").evaluate("el => getComputedStyle(el).direction") == "rtl"
    assert page.locator("h1").inner_text() == "احصل على نشرات Hayes Lane Watch بالبريد الإلكتروني"
    assert page.get_by_label("العربية").is_checked()
    assert page.get_by_label("عنوان البريد الإلكتروني").get_attribute("type") == "email"
    links = page.locator("nav.language-switcher")
    assert links.get_by_role("link", name="العربية").get_attribute("aria-current") == "page"
    # The English sentence agreed to reads left to right inside the Arabic page.
    consent = page.locator('label[for="consent"] span[lang="en-GB"]')
    assert consent.evaluate("el => getComputedStyle(el).direction") == "ltr"
    assert no_sideways_scroll(page)
    assert axe_violations(page) == []
    page.screenshot(path=str(tmp_path / "sign-up-ar.png"), full_page=True)

    # The box not ticked: the summary takes the focus and says so in Arabic.
    page.get_by_label("عنوان البريد الإلكتروني").fill("amal@example.net")
    with page.expect_navigation():
        page.get_by_role("button", name="أرسلوا لي رابطًا للتأكيد").click()
    summary = page.locator(".error-summary")
    assert summary.evaluate("el => el === document.activeElement")
    assert "توجد مشكلة" in summary.inner_text()
    assert "ضع علامة في المربع" in summary.inner_text()
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert no_sideways_scroll(page) and axe_violations(page) == []

    page.locator('input[name="consent"]').check()
    with page.expect_navigation():
        page.get_by_role("button", name="أرسلوا لي رابطًا للتأكيد").click()
    assert page.url.endswith("/join/hayes-lane-watch/check-your-email?language=ar")
    assert page.locator("html").get_attribute("lang") == "ar"
    assert no_sideways_scroll(page) and axe_violations(page) == []

    # English is one link away, at the plain address.
    page.goto("/join/hayes-lane-watch?language=ar")
    page.locator("nav.language-switcher").get_by_role("link", name="English").click()
    page.wait_for_url("**/join/hayes-lane-watch")
    assert page.locator("html").get_attribute("lang") == "en-GB"
    assert page.get_by_label("English").is_checked()
