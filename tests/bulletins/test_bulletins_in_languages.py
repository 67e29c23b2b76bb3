"""A bulletin goes to each resident in their language (issue 14, item 7), through the real SMTP server: each part in its
approved translation or in English with a line saying so, the fixed wording in the language once approved, the
Content-Language header and the HTML lang/dir as the language actually used, and one render per language."""

from __future__ import annotations

import re
from collections import Counter

from flask_babel import gettext

from coordinator import jobs
from coordinator.bulletins import approval, sending
from coordinator.bulletins.render import render_bulletin
from coordinator.extensions import db
from coordinator.wording import wording_in
from tests.bulletins.helpers import body, fast_sending
from tests.factories import make_bulletin, make_campaign, make_subscriber
from tests.helpers.hostile import HOSTILE_TEXTS
from tests.helpers.languages import (
    ARABIC_CAMPAIGN,
    POLISH_CAMPAIGN,
    POLISH_HELPLINE,
    approve_fixed_wording,
    approved_translation,
)
from tests.helpers.web import login_as

FALLBACK = "This part is in English: no approved translation yet."
UNSUBSCRIBE = "https://watch.example.org/unsubscribe/eyJzIjo3LCJrIjoxfQ.c2lnbmF0dXJl"


def in_language(language: str, text: str) -> str:
    """A fixed phrase as the catalogue of `language` words it (English where it has no words for it yet)."""
    with wording_in(language):
        return gettext(text)


def element(html: str, tag: str, text: str) -> str | None:
    """The attributes of the first <tag> whose content holds `text`, but the style css-inline wrote."""
    found = re.search(rf"<{tag}((?: [^>]*)?)>(?:(?!</{tag}>).)*?{re.escape(text)}", html, re.DOTALL)
    return re.sub(r' style="[^"]*"', "", found[1]) if found else None


def translated_bulletin(world):
    """The world's campaign approved in Polish and Arabic, a second campaign in English only, the first helpline's
    words in Polish, and the Polish and Arabic fixed wording approved."""
    approved_translation(world.campaign, "pl", POLISH_CAMPAIGN)
    approved_translation(world.campaign, "ar", ARABIC_CAMPAIGN)
    approved_translation(world.helplines[0], "pl", POLISH_HELPLINE)
    english_only = make_campaign(world.admin, title="Bike marking", summary="Mark your bike's frame.")
    approve_fixed_wording("pl")
    approve_fixed_wording("ar")
    db.session.commit()
    return make_bulletin(world, campaign_version_ids=[world.campaign.id, english_only.id])


def test_each_resident_gets_the_bulletin_in_their_language_one_render_per_language(world, smtp_server, monkeypatch):
    fast_sending()
    bulletin = translated_bulletin(world)
    residents = {
        "ola@example.net": "pl", "jan@example.net": "pl",
        "omar@example.net": "ar", "huda@example.net": "ar",
        "edith@example.net": "en-GB", "rhys@example.net": "cy",  # Welsh: no translation, wording not approved
    }
    for email, language in residents.items():
        make_subscriber(world.s.scheme_a, email, name=email.split("@")[0].title(), language=language)
    db.session.commit()
    # A spy, not a stand-in: every render is the real one, counted by language.
    renders = Counter()
    real_render = sending.render_bulletin

    def counting_render(bulletin, **kwargs):
        renders[kwargs.get("language")] += 1
        return real_render(bulletin, **kwargs)

    monkeypatch.setattr(sending, "render_bulletin", counting_render)
    with jobs.held():
        approval.queue_bulletin(bulletin, world.s.coordinator_a)
        db.session.commit()
    assert sending.send_bulletin(bulletin.id) == 6
    assert renders == {"pl": 1, "ar": 1, "en-GB": 1, "cy": 1}  # once per language, not once per resident

    # The bulletins (the approvals' emails to admins go through the same server).
    messages = {m["To"].addresses[0].addr_spec: m for m in smtp_server.messages() if m["List-Id"]}
    assert set(messages) == set(residents)

    # Polish: the Polish campaign, the English one marked English with the line saying so, in Polish wording.
    ola = messages["ola@example.net"]
    html, text = body(ola, "html"), body(ola, "plain")
    assert ola["Content-Language"] == "pl"
    assert re.search(r'<html lang="pl" dir="ltr">', html)
    assert element(html, "h2", "Oszustwa przy drzwiach") == ""  # in the bulletin's own language: not marked
    assert element(html, "h2", "Bike marking") == ' lang="en-GB" dir="ltr"'
    fallback = in_language("pl", FALLBACK)
    # Once for the English campaign, once for the scheme's notice, which has no Polish either.
    assert html.count(f">{fallback}<") == 2 and text.count(f"\n{fallback}\n") == 2
    assert text.index(fallback) == text.index("== Bike marking ==") + len("== Bike marking ==\n")
    # The English campaign title is gone (the subject, the coordinator's own words, still names it).
    assert not re.search(r"<h2[^>]*>Doorstep scams</h2>", html) and "== Doorstep scams ==" not in text
    assert "każdego, kogo dotknęło przestępstwo" in html and "każdego, kogo dotknęło przestępstwo" in text
    # The second helpline has no Polish words: its own are marked English, and the section says some are.
    assert '<span lang="en-GB" dir="ltr">reporting crime anonymously</span>' in html
    assert in_language("pl", "Some of this part is in English: no approved translation yet.") in html
    assert in_language("pl", "Hello %(name)s,") % {"name": "Ola"} in text
    # Read more leads to the campaign's Polish page.
    assert "/campaigns/doorstep-scams/pl" in text and "/campaigns/bike-marking\n" in text
    # The coordinator's own words (subject, intro) are English, and marked so.
    assert element(html, "h1", "Doorstep scams: what to do") == ' lang="en-GB" dir="ltr"'

    # Arabic: right to left, the English campaign marked left to right.
    omar = messages["omar@example.net"]
    html = body(omar, "html")
    assert omar["Content-Language"] == "ar"
    assert re.search(r'<html lang="ar" dir="rtl">', html)
    assert element(html, "h2", "الاحتيال عند الباب") == ""
    assert element(html, "h2", "Bike marking") == ' lang="en-GB" dir="ltr"'
    assert html.count(f'>{in_language("ar", FALLBACK)}<') == 2
    # Lists indent from the right in Arabic, from the left in the English part.
    arabic_list = re.search(r"<ul([^>]*)>\s*<li[^>]*>خذ وقتك", html)
    assert arabic_list and "padding-right: 24px" in arabic_list[1] and "padding-left: 0" in arabic_list[1]
    english_list = re.search(r'<ul( lang="en-GB" dir="ltr"[^>]*)>\s*<li[^>]*>Lock your doors', html)
    assert english_list and "padding-left: 24px" in english_list[1] and "padding-right: 0" in english_list[1]

    # English: as before, nothing marked, no line.
    edith = messages["edith@example.net"]
    html = body(edith, "html")
    assert edith["Content-Language"] == "en-GB"
    assert re.search(r'<html lang="en-GB" dir="ltr">', html)
    assert element(html, "h2", "Doorstep scams") == "" and FALLBACK not in html
    assert "Hello Edith," in body(edith, "plain")

    # Welsh wording is not approved: the bulletin is English, and no English line claims to be Welsh.
    rhys = messages["rhys@example.net"]
    assert rhys["Content-Language"] == "en-GB"
    assert FALLBACK not in body(rhys, "html") and "Doorstep scams" in body(rhys, "html")


def test_a_translation_without_approved_wording_is_marked_inside_an_english_bulletin(world):
    approved_translation(world.campaign, "ro", {**POLISH_CAMPAIGN, "title": "Escrocherii la ușă"})
    db.session.commit()
    rendered = render_bulletin(make_bulletin(world), language="ro")  # Romanian wording: a draft, not approved
    html = rendered.html_for("Ioana", UNSUBSCRIBE)
    assert rendered.language == "en-GB" and re.search(r'<html lang="en-GB" dir="ltr">', html)
    assert element(html, "h2", "Escrocherii la ușă") == ' lang="ro" dir="ltr"'
    assert "Hello Ioana," in html and b"Content-Language: en-GB" in rendered.common_headers


def test_hostile_text_in_a_translation_is_escaped_in_both_parts(world):
    approve_fixed_wording("pl")
    world.s.scheme_a.is_bulletin_full_text = True
    for n, hostile in enumerate(HOSTILE_TEXTS):
        campaign = make_campaign(world.admin, title=f"Plain title {n}")
        approved_translation(campaign, "pl", {"title": f"Tytuł {hostile}", "summary": hostile,
                                              "key_messages": [hostile], "call_to_action": hostile,
                                              "body": "Treść."})  # Markdown refuses HTML
        db.session.commit()
        rendered = render_bulletin(make_bulletin(world, campaign_version_ids=[campaign.id]), language="pl")
        html = rendered.html_for("Ola", UNSUBSCRIBE)
        assert "<script>alert(1)</script>" not in html and "<img src=x" not in html
        assert "Tytuł &lt;script&gt;" in html or "Tytuł {{ 7*7 }}" in html or "Tytuł \"&gt;&lt;img" in html
        assert f"Tytuł {hostile}" in rendered.text_for("Ola", UNSUBSCRIBE)  # the plain-text part, as typed


def test_the_coordinator_previews_the_bulletin_in_each_language_its_residents_read(client, world):
    bulletin = translated_bulletin(world)
    make_subscriber(world.s.scheme_a, "ola@example.net", language="pl")
    make_subscriber(world.s.scheme_a, "edith@example.net")
    db.session.commit()
    login_as(client, world.s.coordinator_a)
    page_url = f"/schemes/{world.s.scheme_a.id}/bulletins/{bulletin.id}"
    html = client.get(page_url).get_data(as_text=True)
    assert re.findall(r'href="[^"]*/email\.html\?language=([^"]+)" hreflang="[^"]+"><span lang="pl" dir="ltr">'
                      r'Polski</span>', html) == ["pl"]
    response = client.get(f"{page_url}/email.html?language=pl")
    assert response.status_code == 200 and '<html lang="pl" dir="ltr">' in response.get_data(as_text=True)
    assert "Oszustwa przy drzwiach" in response.get_data(as_text=True)
    assert '<html lang="en-GB" dir="ltr">' in client.get(f"{page_url}/email.html").get_data(as_text=True)
    for bad in ("klingon", "<script>", "zz"):
        assert client.get(f"{page_url}/email.html", query_string={"language": bad}).status_code == 404
