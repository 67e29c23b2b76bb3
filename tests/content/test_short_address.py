"""A campaign's short address, PUBLIC_BASE_URL/c/<slug>: what leaflets print and their QR codes hold."""

from __future__ import annotations

from datetime import timedelta

import pytest

from coordinator.content import services as content
from coordinator.content.models import VersionState
from coordinator.extensions import db
from coordinator.links import printable_address, short_campaign_url
from tests.factories import load_starter, make_admin, make_campaign


def test_the_short_address_leads_on_to_the_campaigns_own_site(client):
    load_starter()
    db.session.commit()

    response = client.get("/c/its-not-ok")
    assert response.status_code == 302
    version = content.running_campaign("its-not-ok")
    assert version.web_address and response.headers["Location"] == f"https://{version.web_address}"
    # Nothing personal and nothing to keep: a resident scanning a QR code is given no cookie.
    assert not response.headers.getlist("Set-Cookie")


def test_a_campaign_without_a_site_of_its_own_leads_to_its_page_here(client):
    campaign = make_campaign(make_admin(), title="Lock up", web_address="")
    db.session.commit()

    response = client.get(f"/c/{campaign.item.slug}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/campaigns/{campaign.item.slug}"
    assert client.get(response.headers["Location"]).status_code == 200


@pytest.mark.parametrize("make", ["draft", "ended", "retired", "unknown"])
def test_a_campaign_that_is_not_running_is_the_same_not_running_page(client, make):
    admin = make_admin()
    on = content.today()
    versions = {
        "draft": lambda: make_campaign(admin, title="Secret draft", state=VersionState.SUBMITTED),
        "ended": lambda: make_campaign(admin, title="Secret ended", last_day=on - timedelta(days=3)),
        "retired": lambda: make_campaign(admin, title="Secret retired", state=VersionState.RETIRED),
        "unknown": lambda: None,
    }
    version = versions[make]()
    db.session.commit()
    slug = version.item.slug if version else "no-such-campaign"

    response = client.get(f"/c/{slug}")
    assert response.status_code == 404 and "Location" not in response.headers
    html = response.get_data(as_text=True)
    assert "This campaign is not running" in html and "Secret" not in html
    assert html == client.get(f"/campaigns/{slug}").get_data(as_text=True)
    assert not response.headers.getlist("Set-Cookie")


def test_the_short_address_is_absolute_from_the_public_base_url(app):
    app.config.update(PUBLIC_BASE_URL="https://watch.example.org", PUBLIC_BASE_URL_IS_SET=True)
    assert short_campaign_url("its-not-ok") == "https://watch.example.org/c/its-not-ok"
    app.config.update(PUBLIC_BASE_URL="https://example.org/watch/")
    assert short_campaign_url("its-not-ok") == "https://example.org/watch/c/its-not-ok"


@pytest.mark.parametrize(("url", "printed"), [
    ("https://watch.example.org/c/its-not-ok", "watch.example.org/c/its-not-ok"),
    ("http://127.0.0.1:5000/c/x/", "127.0.0.1:5000/c/x"),
    ("HTTPS://www.met.police.uk/", "www.met.police.uk"),
    ("www.met.police.uk", "www.met.police.uk"),
    (" https://example.org ", "example.org"),
])
def test_a_printed_address_has_no_scheme_and_no_trailing_slash(url, printed):
    assert printable_address(url) == printed
