"""Nothing shown to someone logged in is kept by a browser or a proxy; the app's own static files still are."""

from __future__ import annotations

import pytest

from coordinator.bulletins.models import Subscriber, SubscriberStatus
from coordinator.db import utcnow
from coordinator.extensions import db
from tests.factories import make_admin, make_campaign, make_scheme, make_user
from tests.helpers.images import png
from tests.helpers.web import login_as


@pytest.fixture
def world(app):
    admin = make_admin()
    coordinator = make_user()
    scheme = make_scheme(coordinators=[coordinator])
    campaign = make_campaign(author=admin, image_upload=png())
    db.session.commit()
    return admin, coordinator, scheme, campaign


def test_an_admins_private_pages_and_files_are_never_stored(client, world):
    admin, _coordinator, scheme, campaign = world
    login_as(client, admin)
    for url in (
        "/admin/users",
        f"/admin/users/{admin.id}",
        "/admin/audit",
        "/admin/audit.csv",
        "/admin/reach.csv",
        "/content/packs/export.json",
        f"/schemes/{scheme.id}/subscribers",
        # Sent by send_file with "public, max-age=3600": a picture still in review must not sit in a shared cache.
        f"/content/images/{campaign.image_id}",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store", url
        assert "Expires" not in response.headers, url


def test_a_coordinators_subscriber_pages_are_never_stored(client, world):
    _admin, coordinator, scheme, _campaign = world
    subscriber = Subscriber(scheme=scheme, email="resident@example.org", name="Rita Resident",
                            status=SubscriberStatus.CONFIRMED, consented_at=utcnow(), confirmed_at=utcnow(),
                            consent_method="web form", consent_wording="I agree.", confirmation_sent_at=utcnow())
    db.session.add(subscriber)
    db.session.commit()
    login_as(client, coordinator)
    for url in (f"/schemes/{scheme.id}/subscribers", f"/schemes/{scheme.id}/subscribers/{subscriber.id}", "/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store", url


def test_static_files_and_pictures_for_residents_keep_their_own_caching(client, world):
    admin, _coordinator, _scheme, campaign = world
    # Only what depends on who is logged in is private: the login page is the same for everyone.
    assert "no-store" not in client.get("/account/login").headers.get("Cache-Control", "")
    login_as(client, admin)
    for url in ("/static/app.css", "/favicon.ico"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" not in response.headers.get("Cache-Control", ""), url
        response.close()
    picture = client.get(f"/bulletin-images/{campaign.image.sha256}.png")
    assert picture.status_code == 200 and picture.headers["Cache-Control"] == "public, max-age=86400"
