"""Leaflet factories: the starter content loaded and its helplines verified, and leaflet choices of it."""

from __future__ import annotations

from coordinator.content import services as content
from coordinator.content.models import ContentKind
from coordinator.content.starter import load_starter_content
from coordinator.leaflets.offers import LeafletChoice
from tests.factories.people import make_admin

NATURAL_SETS = {
    "its-not-ok": "sexual-violence",
    "metoo-bystanders": "sexual-violence",
    "vawg-prevention": "domestic-abuse",
    "you-are-not-alone": "domestic-abuse",
}


def verify_helplines(admin, on=None) -> None:
    """An admin confirms every approved helpline today, so leaflets may print them."""
    for item in content.library_items(ContentKind.HELPLINE):
        if item.current_version is not None:
            content.reverify_helpline(item, admin, on)


def load_starter(verified: bool = True):
    """The starter pack, approved by a new admin (and its helplines verified); returns the admin."""
    admin = make_admin()
    report = load_starter_content(admin)
    assert report is not None and report.ok
    if verified:
        verify_helplines(admin)
    return admin


def current(kind: ContentKind, slug: str):
    """The approved version of the item with this slug."""
    item = content.find_item(kind, slug)
    assert item is not None and item.current_version is not None, slug
    return item.current_version


def starter_choice(campaign: str = "its-not-ok", helplines: str | None = None, **changes) -> LeafletChoice:
    """A choice of a starter campaign and (by default) its natural helpline set."""
    values = {
        "campaign_version_id": current(ContentKind.CAMPAIGN, campaign).id,
        "helpline_set_version_id": current(ContentKind.HELPLINE_SET, helplines or NATURAL_SETS[campaign]).id,
        "layout": "a5",
        "print_mode": "home",
    }
    values.update(changes)
    return LeafletChoice(**values)
