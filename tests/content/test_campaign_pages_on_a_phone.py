"""The public campaign pages on a 320-pixel phone: nothing scrolls sideways, no phone number is split across two
lines, and web addresses break only after "/" or "." (in a real browser)."""

from __future__ import annotations

import os
import re

import pytest

from coordinator.content import services as content
from coordinator.extensions import db
from coordinator.numbers import LONGEST_WHOLE_PART
from tests.factories import load_starter, make_admin, make_campaign, make_helpline, make_helpline_set
from tests.helpers.browser import axe_violations

STARTER_CAMPAIGNS = ("its-not-ok", "vawg-prevention", "you-are-not-alone", "metoo-bystanders")

# Each number's boxes, one per line it lies on: a number split across lines has boxes at two heights.
NUMBER_LINES = """() => [...document.querySelectorAll('.number')].map(el => ({
  text: el.textContent,
  tops: [...new Set([...el.getClientRects()].map(r => Math.round(r.top)))],
}))"""
SCROLL_WIDTH = "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
# Where an address's lines end: each line's last character, read from the text's own boxes.
ADDRESS_LINE_ENDS = """() => [...document.querySelectorAll('main a.address')].map(el => {
  const range = document.createRange();
  const text = el.textContent;
  const ends = [];
  let node, offset = 0, lastTop = null;
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  while ((node = walker.nextNode())) {
    for (let i = 0; i < node.length; i++) {
      range.setStart(node, i); range.setEnd(node, i + 1);
      const rect = range.getClientRects()[0];
      if (!rect) continue;
      const top = Math.round(rect.top);
      if (lastTop !== null && top > lastTop + 2) ends.push(text[offset - 1]);
      lastTop = top; offset++;
    }
  }
  return {text, ends};
})"""


def _check_on_a_phone(page, url: str) -> list[dict]:
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(url)
    scroll_width, client_width = page.evaluate(SCROLL_WIDTH)
    assert scroll_width <= client_width, f"{url} scrolls sideways: {scroll_width} px wide at 320"
    if folder := os.environ.get("SCREENSHOTS_DIR"):  # to look at, not to compare
        page.screenshot(path=f"{folder}/campaign-{url.rstrip('/').rsplit('/', 1)[-1]}-320.png", full_page=True)
    numbers = page.evaluate(NUMBER_LINES)
    for number in numbers:
        assert len(number["tops"]) == 1, f"{number['text']!r} is split across lines on {url}"
    for address in page.evaluate(ADDRESS_LINE_ENDS):
        # A part longer than a phone's line may break where it must (the page must not scroll); the rest only after
        # "/" or ".".
        if max(len(part) for part in re.findall(r"[^/.]*[/.]?", address["text"])) <= LONGEST_WHOLE_PART:
            assert all(end in "/." for end in address["ends"]), f"{address['text']!r} breaks inside a word on {url}"
    return numbers


@pytest.mark.parametrize("slug", STARTER_CAMPAIGNS)
def test_starter_campaign_pages_fit_a_320_pixel_phone(page, slug):
    load_starter()
    db.session.commit()
    numbers = _check_on_a_phone(page, f"/campaigns/{slug}")
    assert numbers, "the helplines' numbers are on the page"
    assert axe_violations(page) == []


def test_long_numbers_and_addresses_stay_whole_on_a_phone(page):
    # Hostile lengths: a helpline whose name pushes its number to the end of a line, and addresses far longer than
    # the screen, one of them a single word.
    admin = make_admin()
    long_name = "The Very Long Named Regional Support and Advice Line for Everyone"
    helplines = [
        make_helpline(admin, title=long_name, number="0808 802 4040", web_address="www.example.org/support/advice/"
                      "for-everyone-who-needs-it/today"),
        make_helpline(admin, title="Short", number="020 7946 0018",
                      web_address="sexualabuseandsexualviolenceawarenessweek.org"),
    ]
    for helpline in helplines:
        content.reverify_helpline(helpline.item, admin)
    make_helpline_set(helplines, admin, title="Support")
    campaign = make_campaign(admin, title="Lock up", web_address="sexualabuseandsexualviolenceawarenessweek.org/"
                             "about/the-week-of-action-in-every-police-force")
    db.session.commit()
    numbers = _check_on_a_phone(page, f"/campaigns/{campaign.item.slug}")
    assert {n["text"].replace("\u00a0", " ") for n in numbers} >= {"0808 802 4040", "020 7946 0018"}
