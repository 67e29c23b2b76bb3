"""Addresses for every script: a campaign's slug is made from its title in any script, or typed by an admin, and a
renamed campaign's old address still leads to it (issue 14, item 8)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from coordinator.audit.models import AuditEntry
from coordinator.content import addresses
from coordinator.content.approval import retire_item
from coordinator.content.fields import FieldErrors
from coordinator.content.models import ContentItem, ContentKind
from coordinator.extensions import db
from coordinator.slugs import GENERIC_WORDS, slug_problem, slugify
from tests.content.helpers import campaign_form
from tests.factories import make_admin, make_campaign
from tests.helpers.web import login_as, post_form


@pytest.mark.parametrize(("title", "slug"), [
    # Arabic: "It is not OK"; Urdu: "You are not alone"; Bengali: "You are not alone"; Polish: "Łódź against violence"
    ("ليس الأمر على ما يرام", "lys-l-mr-la-m-yrm"),
    ("آپ اکیلے نہیں ہیں", "ap-kyle-nhyn-hyn"),
    ("আপনি একা নন", "apni-eka-nn"),
    ("Łódź przeciw przemocy", "lodz-przeciw-przemocy"),
    ("Nu ești singur", "nu-esti-singur"),
    ("Hayes Lane Watch", "hayes-lane-watch"),
])
def test_a_title_in_any_script_gets_a_meaningful_latin_slug(title, slug):
    assert slugify(title) == slug


@pytest.mark.parametrize("title", ["", "   ", "!!!", "—", "<script>", "'; DROP TABLE x; --", "\u200f\u200e", "Campaign"])
def test_hostile_empty_or_generic_titles_never_get_a_bare_generic_word(title):
    slug = slugify(title, fallback="campaign")
    assert slug_problem(slug) is None and slug not in GENERIC_WORDS
    assert slug.split("-")[0] in {"campaign", "script", "drop"}
    assert len(slug) <= 120 and slug == slug.strip("-")


def test_a_long_title_is_cut_at_a_word_boundary_within_the_limit():
    slug = slugify("ਤੁਸੀਂ ਇਕੱਲੇ ਨਹੀਂ ਹੋ " * 20, max_length=100)
    assert len(slug) <= 100 and not slug.endswith("-") and slug.startswith("tusim-ik-le-nhim-ho")


def test_an_arabic_campaign_is_at_a_transliterated_address_not_a_generic_one(client):
    campaign = make_campaign(make_admin(), title="ليس الأمر على ما يرام", web_address="", language="ar")
    db.session.commit()
    assert campaign.item.slug == "lys-l-mr-la-m-yrm"
    assert client.get("/campaigns/lys-l-mr-la-m-yrm").status_code == 200
    # A second campaign with the same title gets its own address.
    second = make_campaign(make_admin(), title="ليس الأمر على ما يرام", web_address="", language="ar")
    assert second.item.slug == "lys-l-mr-la-m-yrm-2"


def test_the_admin_types_an_address_on_the_content_form(client):
    admin = make_admin()
    db.session.commit()
    login_as(client, admin)
    response = post_form(client, "/content/new/campaign", campaign_form(title="آپ اکیلے نہیں ہیں", slug="not-alone-ur"))
    assert response.status_code == 302
    item = db.session.scalars(select(ContentItem)).one()
    assert item.slug == "not-alone-ur"
    form = client.get(f"/content/items/{item.id}/edit").get_data(as_text=True)
    assert 'value="not-alone-ur"' in form


@pytest.mark.parametrize(("typed", "problem"), [
    ("Not Alone", "lower-case letters"),
    ("not--alone", "lower-case letters"),
    ("نہیں", "lower-case letters"),
    ("x" * 101, "at most 100"),
    ("campaign", "names nothing in particular"),
    ("taken-one", "Another item already has this address"),
])
def test_a_typed_address_is_checked_and_the_problem_shown_beside_the_field(client, typed, problem):
    admin = make_admin()
    make_campaign(admin, title="Taken one")
    db.session.commit()
    login_as(client, admin)
    response = post_form(client, "/content/new/campaign", campaign_form(slug=typed))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert problem in html and 'href="#slug"' in html
    assert db.session.scalar(select(ContentItem).where(ContentItem.slug != "taken-one")) is None


def test_a_renamed_campaign_keeps_its_old_address_leading_to_it(client):
    admin = make_admin()
    campaign = make_campaign(admin, title="Lock up", web_address="")
    db.session.commit()
    login_as(client, admin)
    edit = f"/content/items/{campaign.item_id}/edit"
    response = post_form(client, edit, campaign_form(title="Lock up", slug="lock-up-tonight", web_address=""))
    assert response.status_code == 302
    db.session.expire_all()
    item = db.session.get(ContentItem, campaign.item_id)
    assert item.slug == "lock-up-tonight"
    # The approved version stays in use; the address is the item's and changed at once.
    assert client.get("/campaigns/lock-up-tonight").status_code == 200
    for old, new in (("/campaigns/lock-up", "/campaigns/lock-up-tonight"), ("/c/lock-up", "/c/lock-up-tonight")):
        response = client.get(old)
        assert response.status_code == 302 and response.headers["Location"] == new
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "content.address_changed")).one()
    assert entry.details["old_slug"] == "lock-up" and entry.details["new_slug"] == "lock-up-tonight"

    # No other campaign may take the old address: leaflets printed with it lead to Lock up.
    with pytest.raises(FieldErrors, match="Another item had this address"):
        addresses.check_slug_for(ContentKind.CAMPAIGN, "lock-up")
    assert addresses.item_slug(ContentKind.CAMPAIGN, "Lock up") == "lock-up-2"
    # The campaign itself may take it back.
    addresses.rename(item, "lock-up", admin)
    db.session.commit()
    assert client.get("/campaigns/lock-up").status_code == 200
    assert client.get("/c/lock-up-tonight").headers["Location"] == "/c/lock-up"


def test_a_renamed_campaign_that_is_not_running_is_the_same_not_running_page(client):
    admin = make_admin()
    campaign = make_campaign(admin, title="Secret plan", web_address="")
    addresses.rename(campaign.item, "secret-plan-renamed", admin)
    retire_item(campaign.item, admin)
    db.session.commit()
    never = client.get("/campaigns/never-used").get_data(as_text=True)
    response = client.get("/campaigns/secret-plan")
    assert response.status_code == 404 and response.get_data(as_text=True) == never
