"""An Arabic campaign's public page in a real browser (issue 14, item 3): the campaign is marked Arabic and right to
left, read from the right, its phone number whole and in order, and axe-core finds nothing."""

from __future__ import annotations

from coordinator.extensions import db
from tests.factories import make_admin, make_campaign
from tests.helpers.browser import axe_violations

TITLE = "لست وحدك"  # "You are not alone", written for this test


def test_an_arabic_campaign_page_is_right_to_left_and_passes_axe(page):
    campaign = make_campaign(make_admin(), title=TITLE, summary="المساعدة مجانية وسرية.", language="ar",
                             key_messages=["اتصل بالرقم 999 في حالة الطوارئ.", "خط المساعدة 0808 2000 247 مجاني."],
                             web_address="")
    db.session.commit()
    assert campaign.item.slug == "lst-whdk"  # transliterated, not a generic word

    page.set_viewport_size({"width": 375, "height": 700})
    page.goto(f"/campaigns/{campaign.item.slug}")
    article = page.locator("article.campaign")
    assert article.get_attribute("lang") == "ar" and article.get_attribute("dir") == "rtl"
    assert page.locator("html").get_attribute("lang") == "en-GB"  # the page around it is English
    assert article.evaluate("el => getComputedStyle(el).direction") == "rtl"
    # Read from the right: the heading's text ends at the article's right edge, not its left.
    heading, box = page.locator("article.campaign h1").evaluate("""el => {
      const range = document.createRange(); range.selectNodeContents(el);
      const text = range.getBoundingClientRect(), box = el.getBoundingClientRect();
      return [[text.left, text.right], [box.left, box.right]];
    }""")
    assert abs(heading[1] - box[1]) < 2 and heading[0] - box[0] > 50
    # A number inside the Arabic text is one unit read left to right, its groups in their order on the screen.
    number = article.locator("li .number")
    assert number.inner_text().split() == ["0808", "2000", "247"]
    assert number.evaluate("el => getComputedStyle(el).direction") == "ltr"
    starts = number.evaluate("""el => {
      const spots = [], walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
      const text = walker.nextNode(), range = document.createRange();
      for (const at of [0, 5, 10]) { range.setStart(text, at); range.setEnd(text, at + 1);
                                      spots.push(range.getBoundingClientRect().left); }
      return spots;
    }""")
    assert starts == sorted(starts), starts  # "0808" leftmost, "247" rightmost
    assert axe_violations(page) == []
