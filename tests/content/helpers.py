"""Small things the content tests share: a campaign form filled in as an admin sends it."""

from __future__ import annotations


def campaign_form(**overrides) -> dict:
    """The new-campaign form filled in, with `overrides` on top."""
    data = {
        "title": "Bike marking day",
        "summary": "Free bike marking at the library.",
        "body": "Bring your bike.\n\n- **Saturday** 10am",
        "key_messages": "Mark your bike\nRegister it online",
        "call_to_action": "Come along",
        "hashtag": "#BikeSafe",
        "web_address": "www.met.police.uk",
        "first_day": "",
        "last_day": "",
        "language": "en-GB",
        "audience_tags": "cyclists, families",
    }
    data.update(overrides)
    return data
