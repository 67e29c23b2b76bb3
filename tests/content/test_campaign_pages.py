"""The public campaign pages: a running campaign's approved version and the helplines residents may call."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest

from coordinator.content import approval, drafting
from coordinator.content import services as content
from coordinator.content.models import ContentKind, VersionState
from coordinator.extensions import db
from tests.factories import (
    PASSWORD,
    load_starter,
    make_admin,
    make_campaign,
    make_helpline,
    make_helpline_set,
    make_scheme,
    make_user,
)
from tests.helpers.images import png
from tests.helpers.web import login_as

QUICK_EXIT = "Exit this page"
HOSTILE = '<script>alert(1)</script> {{ 7*7 }} "><img src=x onerror=alert(1)>'


def main_text(html: str) -> str:
    """The page's main content as text: tags out, entities read, runs of space (no-break ones too) made one."""
    inside = html.split('<main id="main"', 1)[1].split("</main>", 1)[0]
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", inside)))


# --- The service ------------------------------------------------------------------------------------------------


def test_only_an_approved_campaign_in_its_window_is_running(app):
    admin = make_admin()
    on = content.today()
    running = make_campaign(admin, title="Running")
    upcoming = make_campaign(admin, title="Upcoming", first_day=on + timedelta(days=1))
    ended = make_campaign(admin, title="Ended", last_day=on - timedelta(days=1))
    draft = make_campaign(admin, title="Draft", state=VersionState.SUBMITTED)
    retired = make_campaign(admin, title="Retired", state=VersionState.RETIRED)
    db.session.commit()

    assert content.running_campaign(running.item.slug, on) == running
    for version in (upcoming, ended, draft, retired):
        assert content.running_campaign(version.item.slug, on) is None, version.title
    assert content.running_campaign("no-such-campaign", on) is None
    # The upcoming one runs from its first day.
    assert content.running_campaign(upcoming.item.slug, on + timedelta(days=1)) == upcoming


def test_a_new_version_waiting_for_approval_never_replaces_the_approved_one(app):
    admin = make_admin()
    approved = make_campaign(admin, title="Lock up", summary="The approved words.")
    edited = drafting.edit_item(approved.item, {**drafting.version_fields(approved), "summary": "Words in review."}, admin)
    approval.submit_version(edited, admin)
    db.session.commit()

    assert content.running_campaign(approved.item.slug) == approved


def test_residents_get_only_the_helplines_a_leaflet_would_print(app):
    admin = make_admin()
    verified = make_helpline(admin, title="Checked line")
    unverified = make_helpline(admin, title="Unchecked line")
    content.reverify_helpline(verified.item, admin)
    make_helpline_set([verified, unverified], admin, title="Mixed")
    make_helpline_set([unverified], admin, title="Nothing usable")
    make_helpline_set([verified], admin, title="In review", state=VersionState.SUBMITTED)
    db.session.commit()

    sets = content.public_helpline_sets()
    assert [s["title"] for s in sets] == ["Mixed"]
    assert [h["name"] for h in sets[0]["helplines"]] == ["Checked line"]
    # Residents are not told what was left out or why.
    assert set(sets[0]) == {"title", "helplines"}


def test_each_number_is_listed_once_and_the_police_numbers_are_left_to_the_page(app):
    admin = make_admin()
    crisis = make_helpline(admin, title="Crisis line", number="0808 802 9999")
    support = make_helpline(admin, title="Support line", number="0808 168 9111")
    police = make_helpline(admin, title="Police, non-emergency", number="101")
    for helpline in (crisis, support, police):
        content.reverify_helpline(helpline.item, admin)
    make_helpline_set([crisis, police], admin, title="A first")
    make_helpline_set([police, crisis, support], admin, title="B second")
    make_helpline_set([police], admin, title="C police only")
    db.session.commit()

    sets = content.public_helpline_sets()
    assert [(s["title"], [h["name"] for h in s["helplines"]]) for s in sets] == [
        ("A first", ["Crisis line"]), ("B second", ["Support line"])]


# --- The pages --------------------------------------------------------------------------------------------------


def test_a_resident_reads_a_starter_campaign_with_its_helplines_without_logging_in(client):
    load_starter()
    db.session.commit()

    index = client.get("/campaigns/")
    assert index.status_code == 200
    html = index.get_data(as_text=True)
    assert QUICK_EXIT in html
    for slug in ("its-not-ok", "vawg-prevention", "you-are-not-alone", "metoo-bystanders"):
        assert f'href="/campaigns/{slug}"' in html

    page = client.get("/campaigns/you-are-not-alone")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    text = main_text(html)
    assert QUICK_EXIT in html and "quick-exit.js" in html
    assert re.search(r"<h1>[^<]*</h1>", html)
    # The numbers exactly as the facts give them, each a link that dials.
    for name, number, tel in (("National Domestic Abuse Helpline", "0808 2000 247", "tel:+448082000247"),
                              ("Rape Crisis", "0808 802 9999", "tel:+448088029999")):
        assert name in text and number in text
        assert f'href="{tel}"' in html
        # One unit on a phone's narrow screen: no-break spaces, in a span that never wraps.
        assert f'<span class="number">{number.replace(" ", "&nbsp;")}</span>' in html
    assert 'href="tel:999"' in html and 'href="tel:101"' in html
    # The police block as the seed gives it: 101's cost, the Met's site, and a police station in person.
    assert "101 (15p a call)" in text and "www.met.police.uk" in text and "in person to a police station" in text
    # Nothing for coordinators: no navigation, no reasons why a helpline is left out.
    assert 'aria-label="Main"' not in html and "Left out" not in html


def test_helplines_not_yet_verified_are_not_on_the_page(client):
    load_starter(verified=False)
    db.session.commit()

    text = main_text(client.get("/campaigns/you-are-not-alone").get_data(as_text=True))
    assert "0808 2000 247" not in text
    assert "999" in text  # the police numbers are always there


@pytest.mark.parametrize("make", ["draft", "upcoming", "ended", "retired", "unknown"])
def test_a_campaign_that_is_not_running_is_one_not_running_page(client, make):
    admin = make_admin()
    on = content.today()
    versions = {
        "draft": lambda: make_campaign(admin, title="Secret draft", state=VersionState.SUBMITTED),
        "upcoming": lambda: make_campaign(admin, title="Secret upcoming", first_day=on + timedelta(days=3)),
        "ended": lambda: make_campaign(admin, title="Secret ended", last_day=on - timedelta(days=3)),
        "retired": lambda: make_campaign(admin, title="Secret retired", state=VersionState.RETIRED),
        "unknown": lambda: None,
    }
    version = versions[make]()
    db.session.commit()
    slug = version.item.slug if version else "no-such-campaign"

    response = client.get(f"/campaigns/{slug}")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "This campaign is not running" in html and QUICK_EXIT in html
    assert "Secret" not in html
    assert "Secret" not in client.get("/campaigns/").get_data(as_text=True)


def test_hostile_text_in_every_field_of_a_campaign_stays_text(client):
    admin = make_admin()
    helpline = make_helpline(admin, title=HOSTILE, who_for=HOSTILE, opening_hours=HOSTILE)
    content.reverify_helpline(helpline.item, admin)
    make_helpline_set([helpline], admin, title=HOSTILE)
    campaign = make_campaign(
        admin, title=f"Stay safe {HOSTILE}", summary=HOSTILE, key_messages=[HOSTILE], call_to_action=HOSTILE,
        # The body refuses HTML and script links when it is saved (tests/content/test_fields.py); what is left is text.
        body="## {{ 7*7 }}\n\nA *kind* word: {{ 7*7 }}.",
    )
    db.session.commit()

    for url in (f"/campaigns/{campaign.item.slug}", "/campaigns/"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in html and "<img src=x" not in html and "<iframe" not in html, url
        assert "49" not in html, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url
    html = client.get(f"/campaigns/{campaign.item.slug}").get_data(as_text=True)
    # The title (twice), summary, key message, call to action, and the helpline's name, who for and hours; its set.
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 9
    assert "<h2>{{ 7*7 }}</h2>" in html and "<em>kind</em>" in html


def test_a_campaign_in_another_language_says_so_and_its_picture_loads_without_a_login(client):
    admin = make_admin()
    campaign = make_campaign(admin, title="Nie jesteś sama", language="pl", image_upload=png())
    db.session.commit()

    html = client.get(f"/campaigns/{campaign.item.slug}").get_data(as_text=True)
    assert '<article class="campaign" lang="pl" dir="ltr">' in html
    source = re.search(r'<img src="([^"]+)" alt=""', html).group(1)
    assert source == f"/bulletin-images/{campaign.image.sha256}.png"
    picture = client.get(source)
    assert picture.status_code == 200 and picture.data == campaign.image.data


def test_coordinators_find_the_address_to_share_in_the_catalogue(client):
    load_starter()
    scheme = make_scheme("Hayes Lane Watch", [coordinator := make_user()])
    db.session.commit()
    assert scheme is not None
    login_as(client, coordinator, PASSWORD)

    html = client.get("/content/catalogue").get_data(as_text=True)
    address = "http://127.0.0.1:5000/campaigns/its-not-ok"
    assert f'<a href="{address}">{address}</a>' in html
    # Logged in or not, the page is the same public page.
    assert client.get("/campaigns/its-not-ok").status_code == 200


def test_every_page_links_to_the_campaigns_running_now(client):
    html = client.get("/account/login").get_data(as_text=True)
    assert '<a href="/campaigns/">Campaigns running now</a>' in html
    assert content.find_item(ContentKind.CAMPAIGN, "its-not-ok") is None
    assert "No campaign is running just now." in client.get("/campaigns/").get_data(as_text=True)
