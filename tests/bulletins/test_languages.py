"""A campaign in another language in a bulletin (issue 14, item 3): its own words carry its language and direction;
the wording around them stays English, and phone numbers stay left to right inside right-to-left text."""

from __future__ import annotations

import re

from coordinator.bulletins.render import render_bulletin
from coordinator.extensions import db
from tests.factories import make_bulletin, make_campaign

UNSUBSCRIBE = "https://watch.example.org/unsubscribe/eyJzIjo3LCJrIjoxfQ.c2lnbmF0dXJl"


def test_an_arabic_campaign_is_marked_arabic_and_right_to_left_in_the_bulletin(world):
    arabic = make_campaign(world.admin, title="لست وحدك", summary="المساعدة مجانية وسرية.", language="ar",
                           key_messages=["اتصل بالرقم 0808 2000 247 في أي وقت."], call_to_action="اتصل الآن.",
                           body="نحن هنا للمساعدة.")
    english = make_campaign(world.admin, title="Lock up", summary="Lock up before bed.")
    world.s.scheme_a.is_bulletin_full_text = True
    db.session.commit()
    html = render_bulletin(make_bulletin(world, campaign_version_ids=[arabic.id, english.id])).html_for(
        "Robin Ash", UNSUBSCRIBE)
    assert re.search(r'<html lang="en-GB"', html)  # the bulletin's own wording is English
    for tag, text in (("h2", "لست وحدك"), ("p", "المساعدة مجانية وسرية."), ("ul", "0808"), ("p", "اتصل الآن."),
                      ("div", "نحن هنا للمساعدة.")):
        found = re.search(rf'<{tag}( [^>]*)>(?:(?!</{tag}>).)*{re.escape(text)}', html, re.DOTALL)
        assert found and ' lang="ar"' in found[1] and ' dir="rtl"' in found[1], tag
    assert re.search(r'<h2(?![^>]*lang=)[^>]*>Lock up</h2>', html)
    # The number inside the Arabic message is one left-to-right tel: link.
    link = re.search(r'<a class="tel" href="tel:\+448082000247" style="([^"]*)">0808&nbsp;2000&nbsp;247</a>', html)
    assert link and "direction: ltr" in link[1] and "unicode-bidi: isolate" in link[1]
