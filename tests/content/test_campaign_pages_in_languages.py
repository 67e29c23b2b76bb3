"""A campaign's public page in every language it is approved in (issue 14, item 7): one address per language, the page
in that language (<html lang dir>, Content-Language), a switcher and hreflang links naming the others, a 404 for a
language with no approved translation, no cookie, and the short address unchanged."""

from __future__ import annotations

import re

from markupsafe import escape

from coordinator.extensions import db
from tests.factories import make_admin, make_campaign, make_helpline, make_helpline_set
from tests.helpers.hostile import HOSTILE_TEXTS
from tests.helpers.languages import (
    ARABIC_CAMPAIGN,
    POLISH_CAMPAIGN,
    POLISH_HELPLINE,
    approve_fixed_wording,
    approved_translation,
)

BASE = "http://127.0.0.1:5000"


def campaign_in_three_languages():
    admin = make_admin()
    campaign = make_campaign(admin, title="Doorstep scams", summary="Cold callers who pressure you.",
                             web_address="www.met.police.uk/scams")
    helpline = make_helpline(admin, title="Victim Support", number="0808 168 9111", who_for="anyone affected by crime")
    from coordinator.content import services as content

    content.reverify_helpline(helpline.item, admin)
    make_helpline_set([helpline], admin, title="Victims and witnesses")
    approved_translation(campaign, "pl", POLISH_CAMPAIGN)
    approved_translation(campaign, "ar", ARABIC_CAMPAIGN)
    approved_translation(helpline, "pl", POLISH_HELPLINE)
    approve_fixed_wording("pl")
    approve_fixed_wording("ar")
    db.session.commit()
    return campaign


def test_each_page_names_every_language_with_hreflang_and_a_switcher(client, app):
    campaign_in_three_languages()
    pages = {"en-GB": "/campaigns/doorstep-scams", "ar": "/campaigns/doorstep-scams/ar",
             "pl": "/campaigns/doorstep-scams/pl"}
    for language, path in pages.items():
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        assert "Set-Cookie" not in response.headers  # public pages set no cookie
        assert response.headers["Content-Language"] == language
        alternates = re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)">', html)
        assert alternates == [("en-GB", BASE + pages["en-GB"]), ("ar", BASE + pages["ar"]),
                              ("pl", BASE + pages["pl"]), ("x-default", BASE + pages["en-GB"])]
        switcher = re.search(r'<nav class="language-switcher" aria-label="[^"]+">(.*?)</nav>', html, re.DOTALL)[1]
        links = re.findall(r'<a href="([^"]+)" hreflang="([^"]+)" lang="([^"]+)" dir="([^"]+)"( aria-current="page")?>'
                           r'([^<]+)</a>', switcher)
        assert [(href, tag, lang, direction, name) for href, tag, lang, direction, _, name in links] == [
            (pages["en-GB"], "en-GB", "en-GB", "ltr", "English"),
            (pages["ar"], "ar", "ar", "rtl", "العربية"),
            (pages["pl"], "pl", "pl", "ltr", "Polski"),
        ]
        assert [link[1] for link in links if link[4]] == [language]  # the page being read


def test_the_polish_page_is_polish_around_and_inside_and_the_arabic_one_right_to_left(client):
    campaign_in_three_languages()
    html = client.get("/campaigns/doorstep-scams/pl").get_data(as_text=True)
    assert re.search(r'<html lang="pl" dir="ltr">', html)
    assert "<h1>Oszustwa przy drzwiach</h1>" in html and "Doorstep scams</h1>" not in html
    assert '<article class="campaign">' in html  # the page's own language: not marked again
    assert "każdego, kogo dotknęło przestępstwo" in html
    assert "<title>Oszustwa przy drzwiach" in html

    html = client.get("/campaigns/doorstep-scams/ar").get_data(as_text=True)
    assert re.search(r'<html lang="ar" dir="rtl">', html)
    assert "<h1>الاحتيال عند الباب</h1>" in html
    # The helpline has no Arabic words: they are marked English inside the Arabic page.
    assert '<span lang="en-GB" dir="ltr">anyone affected by crime</span>' in html


def test_a_language_without_wording_approved_is_an_english_page_around_a_marked_campaign(client):
    admin = make_admin()
    campaign = make_campaign(admin, title="Doorstep scams")
    approved_translation(campaign, "ro", {**POLISH_CAMPAIGN, "title": "Escrocherii la ușă"})
    db.session.commit()
    response = client.get("/campaigns/doorstep-scams/ro")
    html = response.get_data(as_text=True)
    assert response.headers["Content-Language"] == "en-GB"
    assert re.search(r'<html lang="en-GB"', html)
    assert '<article class="campaign" lang="ro" dir="ltr">' in html and "<h1>Escrocherii la ușă</h1>" in html


def test_other_addresses_lead_to_one_page_per_language_or_to_a_404(client):
    campaign_in_three_languages()
    # A tag as typed leads to the tag as written; the original's language to the campaign's own address.
    for typed, to in (("PL", "/campaigns/doorstep-scams/pl"), ("ar-eg", "/campaigns/doorstep-scams/ar"),
                      ("en-GB", "/campaigns/doorstep-scams"), ("en", "/campaigns/doorstep-scams")):
        response = client.get(f"/campaigns/doorstep-scams/{typed}")
        assert response.status_code == 301 and response.headers["Location"] == to, typed
    # No approved translation in German: a 404 that lists the languages it can be read in.
    response = client.get("/campaigns/doorstep-scams/de")
    html = response.get_data(as_text=True)
    assert response.status_code == 404 and "This campaign is not in this language yet" in html
    assert '<a href="/campaigns/doorstep-scams/pl" hreflang="pl" lang="pl" dir="ltr">Polski</a>' in html
    for hostile in (*HOSTILE_TEXTS, "x" * 50, "pl-x-private"):
        response = client.get(f"/campaigns/doorstep-scams/{hostile}")
        assert response.status_code == 404, hostile
        assert "<script>alert(1)</script>" not in response.get_data(as_text=True)
    assert client.get("/campaigns/no-such-campaign/pl").status_code == 404
    # The short address leaflets print still leads on as before.
    response = client.get("/c/doorstep-scams")
    assert response.status_code == 302 and response.headers["Location"] == "https://www.met.police.uk/scams"


def test_hostile_text_in_a_translation_is_escaped_on_its_page(client):
    admin = make_admin()
    for n, hostile in enumerate(HOSTILE_TEXTS):
        campaign = make_campaign(admin, title=f"Plain {n}")
        approved_translation(campaign, "pl", {"title": f"Tytuł {hostile}", "summary": hostile,
                                              "key_messages": [hostile], "call_to_action": hostile, "body": "Treść."})
        db.session.commit()
        html = client.get(f"/campaigns/{campaign.item.slug}/pl").get_data(as_text=True)
        assert "<script>alert(1)</script>" not in html and "<img src=x" not in html
        assert f"<h1>{escape('Tytuł ' + hostile)}</h1>" in html  # as typed: escaped, never run as a template
