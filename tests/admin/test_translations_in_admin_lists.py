"""A campaign's translation is not a campaign of its own in the reach report, and the approval queue names its language."""

from __future__ import annotations

from coordinator.admin import reach
from coordinator.content import approval, translations
from tests.factories import make_admin, make_campaign

POLISH = {"title": "Nie jesteś sam", "summary": "Pomoc jest blisko.", "body": "Zadzwoń.", "key_messages": [],
          "call_to_action": ""}


def test_the_campaign_choices_list_originals_only(app):
    original = make_campaign(title="You are not alone")
    author = make_admin()
    version = translations.add_translation(original.item, "pl", POLISH, author)
    approval.submit_version(version, author)
    approval.approve_version(version, make_admin())

    assert reach.campaign_choices() == [(original.item.id, "You are not alone")]


def test_the_approval_queue_names_a_translations_language(app):
    from coordinator.admin.approvals import approval_queue

    original = make_campaign(title="You are not alone")
    author = make_admin()
    version = translations.add_translation(original.item, "pl", POLISH, author)
    approval.submit_version(version, author)

    (entry,) = [e for e in approval_queue() if e.title == "Nie jesteś sam"]
    assert entry.kind == "campaign: Polish translation"
