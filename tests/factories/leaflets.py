"""Leaflet factories: the starter content loaded and its helplines verified, and leaflet choices of it."""

from __future__ import annotations

import json

from coordinator.content import services as content
from coordinator.content.models import ContentKind
from coordinator.content.packs import import_pack
from coordinator.content.starter import STARTER_PACK
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


def starter_pack_all_year() -> bytes:
    """The starter pack with #ITSNOTOK's yearly window lifted, so tests can print it on any day of the year."""
    pack = json.loads(STARTER_PACK.read_text(encoding="utf-8"))
    for item in pack["items"]:
        item["fields"].pop("every_year_from", None)
        item["fields"].pop("every_year_until", None)
    return json.dumps(pack).encode("utf-8")


def load_starter(verified: bool = True, *, with_windows: bool = False):
    """The starter pack, approved by a new admin (and its helplines verified); returns the admin.

    Leaflet and bulletin tests print #ITSNOTOK whatever today's date, so its yearly window (1 to 14 February) is
    lifted unless `with_windows`; the calendar's own tests keep it.
    """
    admin = make_admin()
    data = STARTER_PACK.read_bytes() if with_windows else starter_pack_all_year()
    report = import_pack(data, None, approve_as=admin, system_label="starter content")
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
