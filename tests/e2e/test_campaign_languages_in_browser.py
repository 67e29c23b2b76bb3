"""A campaign's Arabic page in Chromium at 320 px (issue 14, item 7): right to left from <html> down, axe-core finds
nothing, nothing scrolls sideways, and the language switcher leads to the Polish page and back."""

from __future__ import annotations

from coordinator.content import services as content
from coordinator.extensions import db
from tests.factories import make_admin, make_campaign, make_helpline, make_helpline_set
from tests.helpers.browser import axe_violations
from tests.helpers.languages import (
    ARABIC_CAMPAIGN,
    POLISH_CAMPAIGN,
    approve_fixed_wording,
    approved_translation,
)

WIDTH = 320


def no_sideways_scroll(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_the_arabic_page_reads_right_to_left_passes_axe_and_switches_language_at_320_px(page):
    admin = make_admin()
    campaign = make_campaign(admin, title="Doorstep scams", summary="Cold callers who pressure you.",
                             key_messages=["Take your time", "Ask a neighbour"], web_address="")
    helpline = make_helpline(admin, title="Victim Support", number="0808 168 9111", who_for="anyone affected by crime")
    content.reverify_helpline(helpline.item, admin)
    make_helpline_set([helpline], admin, title="Victims and witnesses")
    approved_translation(campaign, "ar", ARABIC_CAMPAIGN)
    approved_translation(campaign, "pl", POLISH_CAMPAIGN)
    approve_fixed_wording("ar")
    approve_fixed_wording("pl")
    db.session.commit()

    page.set_viewport_size({"width": WIDTH, "height": 700})
    page.goto("/campaigns/doorstep-scams/ar")
    html = page.locator("html")
    assert html.get_attribute("lang") == "ar" and html.get_attribute("dir") == "rtl"
    assert page.locator("body").evaluate("el => getComputedStyle(el).direction") == "rtl"
    heading = page.locator("article.campaign h1")
    assert heading.inner_text() == ARABIC_CAMPAIGN["title"]
    # Read from the right: the heading's text ends at its box's right edge.
    text_right, box_right = heading.evaluate("""el => {
      const range = document.createRange(); range.selectNodeContents(el);
      return [range.getBoundingClientRect().right, el.getBoundingClientRect().right];
    }""")
    assert abs(text_right - box_right) < 2
    # The English words inside it (the helpline's) stay left to right.
    english = page.locator('span[lang="en-GB"]', has_text="anyone affected by crime")
    assert english.evaluate("el => getComputedStyle(el).direction") == "ltr"
    assert no_sideways_scroll(page)
    assert axe_violations(page) == []

    switcher = page.locator("nav.language-switcher")
    assert switcher.get_by_role("link", name="العربية").get_attribute("aria-current") == "page"
    polish = switcher.get_by_role("link", name="Polski")
    assert polish.get_attribute("lang") == "pl" and polish.get_attribute("hreflang") == "pl"
    assert polish.is_visible() and polish.bounding_box()["x"] >= 0
    polish.click()
    page.wait_for_url("**/campaigns/doorstep-scams/pl")
    assert page.locator("html").get_attribute("lang") == "pl"
    assert page.locator("html").get_attribute("dir") == "ltr"
    assert page.locator("article.campaign h1").inner_text() == POLISH_CAMPAIGN["title"]
    assert no_sideways_scroll(page)
    assert axe_violations(page) == []
    page.locator("nav.language-switcher").get_by_role("link", name="English").click()
    page.wait_for_url("**/campaigns/doorstep-scams")
    assert page.locator("article.campaign h1").inner_text() == "Doorstep scams"
    assert page.locator("html").get_attribute("lang") == "en-GB"


def test_the_sign_up_and_unsubscribe_pages_offer_languages_that_pass_axe_at_320_px(page, world):
    from coordinator.bulletins import subscribers
    from tests.factories import make_subscriber

    approved_translation(world.campaign, "ar", ARABIC_CAMPAIGN)
    approved_translation(world.campaign, "pl", POLISH_CAMPAIGN)
    resident = make_subscriber(world.s.scheme_a, "ola@example.net")
    db.session.commit()
    page.set_viewport_size({"width": WIDTH, "height": 700})
    page.goto("/join/hayes-lane-watch")
    arabic = page.get_by_label("العربية")
    assert arabic.get_attribute("value") == "ar"
    assert page.locator(f'label[for="{arabic.get_attribute("id")}"]').get_attribute("dir") == "rtl"
    assert no_sideways_scroll(page) and axe_violations(page) == []

    page.goto("/" + subscribers.unsubscribe_url(resident).split("/", 3)[3])
    page.get_by_label("Polski").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Save my language").click()
    assert page.get_by_label("Polski").is_checked()
    assert no_sideways_scroll(page) and axe_violations(page) == []
    db.session.expire_all()
    assert resident.language == "pl"
