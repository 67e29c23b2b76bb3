"""The four starter campaigns as plain leaflet data, straight from the starter pack (no database).

The golden pictures (tests/leaflets/test_goldens.py, `make goldens`) and bench/leaflets.py render these, so a
change of design is seen on the leaflets the toolkit ships with. Each campaign prints with its natural helpline
set, as `tests.factories.NATURAL_SETS` pairs them; the date, reference and contact line are fixed.
"""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from pathlib import Path

from coordinator.leaflets.render import LeafletData, LeafletHelpline, content_reference

STARTER_PACK = Path(__file__).resolve().parents[2] / "coordinator" / "content" / "starter_pack.json"
CAMPAIGN_SETS = {
    "its-not-ok": "sexual-violence",
    "metoo-bystanders": "sexual-violence",
    "vawg-prevention": "domestic-abuse",
    "you-are-not-alone": "domestic-abuse",
}
PRINTED_ON = date(2026, 11, 24)
CONTACT_LINE = "Contact your local scheme, Bickley Park: bickley.park@example.org · 020 7946 0018"
ASSOCIATION = "Bromley Neighbourhood Watch Association"
FOOTER = "Neighbourhood Watch volunteers are unpaid, at every level."
PUBLIC_BASE_URL = "https://watch.example.org"


@cache
def _items() -> dict[tuple[str, str], dict]:
    pack = json.loads(STARTER_PACK.read_text(encoding="utf-8"))
    return {(item["kind"], item["slug"]): item["fields"] for item in pack["items"]}


def _helpline(slug: str) -> LeafletHelpline:
    fields = _items()[("helpline", slug)]
    return LeafletHelpline(
        name=fields["title"],
        number_display=fields["number"],
        hours=fields["opening_hours"],
        who_for=fields["who_for"],
        is_free=fields["is_free_to_call"],
        is_24_7=fields["is_24_7"],
    )


def starter_leaflet(slug: str, **changes) -> LeafletData:
    """The starter campaign `slug` with its natural helpline set, as a leaflet prints it."""
    campaign = _items()[("campaign", slug)]
    helpline_set = _items()[("helpline_set", CAMPAIGN_SETS[slug])]
    values = {
        "headline": campaign["title"],
        "printed_on": PRINTED_ON,
        "reference": content_reference(campaign=slug, helplines=CAMPAIGN_SETS[slug]),
        "key_messages": tuple(campaign["key_messages"]),
        "summary": campaign["summary"],
        "call_to_action": campaign["call_to_action"],
        "hashtag": campaign["hashtag"],
        "web_address": campaign["web_address"],
        "helplines": tuple(_helpline(line) for line in helpline_set["helplines"]),
        "contact_line": CONTACT_LINE,
        "association_name": ASSOCIATION,
        "footer_text": FOOTER,
        "language": campaign["language"],
        "short_address": f"{PUBLIC_BASE_URL}/c/{slug}",
        "is_sensitive": campaign.get("is_sensitive", False) or helpline_set.get("is_sensitive", False),
    }
    values.update(changes)
    return LeafletData(**values)
