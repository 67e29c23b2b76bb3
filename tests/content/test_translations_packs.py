"""Content packs carry translations: export, import into another library, round trip, and old packs unchanged."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from coordinator.content import approval, drafting, translations
from coordinator.content.models import ContentItem, ContentKind, HelplineSetEntry, VersionState
from coordinator.content.packs import PackError, export_pack, import_pack, pack_json
from coordinator.extensions import db
from tests.factories import make_admin, make_campaign, make_helpline, make_helpline_set

S = VersionState
POLISH = {"title": "Nie jesteś sam", "summary": "Pomoc jest blisko.", "body": "Zadzwoń, jeśli potrzebujesz **pomocy**.",
          "key_messages": ["Zamknij drzwi"], "call_to_action": "Zadzwoń pod 101."}
URDU_HOURS = {"who_for": "ہر اس شخص کے لیے جسے مدد چاہیے", "opening_hours": "پیر تا جمعہ"}


def approve(version):
    author = version.created_by
    approval.submit_version(version, author)
    approval.approve_version(version, make_admin())
    return version


def library_with_translations():
    helpline = make_helpline(title="Karma Nirvana", number="0800 5999 247")
    the_set = make_helpline_set([helpline], title="Support")
    campaign = make_campaign(title="You are not alone", summary="Help is close.")
    author = make_admin()
    approve(translations.add_translation(campaign.item, "pl", POLISH, author))
    approve(translations.add_translation(helpline.item, "ur", URDU_HOURS, author))
    approve(translations.add_translation(the_set.item, "ar", {"title": "الدعم"}, author))
    return campaign, helpline, the_set


def test_export_carries_usable_translations_and_an_import_brings_them_back_awaiting_approval():
    campaign, helpline, the_set = library_with_translations()
    exported = export_pack()
    by_slug = {entry["slug"]: entry for entry in exported["items"]}
    assert by_slug[campaign.item.slug]["translations"] == [{"language": "pl", "fields": POLISH}]
    assert by_slug[helpline.item.slug]["translations"] == [{"language": "ur", "fields": URDU_HOURS}]
    assert by_slug[the_set.item.slug]["translations"] == [{"language": "ar", "fields": {"title": "الدعم"}}]
    text, slug = pack_json(exported), campaign.item.slug
    db.session.commit()

    # Another association's library: the same database emptied, as a pack travels between installs.
    db.session.expunge_all()
    db.session.execute(HelplineSetEntry.__table__.delete())
    db.session.execute(ContentItem.__table__.delete())
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(ContentItem)) == 0

    importer, approver = make_admin(), make_admin()
    report = import_pack(text.encode(), importer)
    assert "pl translation of campaign “You are not alone”" in report.added
    imported = db.session.scalar(select(ContentItem).where(ContentItem.slug == slug,
                                                           ContentItem.kind == ContentKind.CAMPAIGN))
    [polish] = imported.translations
    assert polish.language == "pl" and polish.latest_version.state == S.SUBMITTED
    assert polish.latest_version.source_version is imported.latest_version
    # Once another admin approves both, the translation is up to date with the original it came with.
    approval.approve_version(imported.latest_version, approver)
    approval.approve_version(polish.latest_version, approver)
    used = translations.usable_translation(imported, "pl")
    assert (used.title, used.summary, used.body, used.key_messages, used.call_to_action) == tuple(POLISH.values())
    # Round trip: the new library exports what the old one did.
    again = {e["slug"]: e for e in export_pack()["items"]}
    assert again[slug]["translations"] == [{"language": "pl", "fields": POLISH}]


def test_importing_the_same_pack_again_leaves_translations_alone():
    library_with_translations()
    text = pack_json(export_pack()).encode()
    report = import_pack(text, make_admin())
    assert report.added == [] and report.updated == []
    assert "pl translation of campaign “You are not alone”" in report.unchanged


def test_a_changed_translation_in_a_pack_becomes_a_new_version_of_the_existing_one():
    campaign, _, _ = library_with_translations()
    pack = export_pack()
    entry = next(e for e in pack["items"] if e["slug"] == campaign.item.slug)
    entry["translations"][0]["fields"]["summary"] = "Pomoc jest zawsze blisko."
    report = import_pack(pack_json(pack).encode(), make_admin())
    assert report.updated == ["pl translation of campaign “You are not alone”"]
    [polish] = campaign.item.translations
    assert polish.latest_version.number == 2 and polish.latest_version.state == S.SUBMITTED
    assert polish.current_version.summary == "Pomoc jest blisko."


def test_a_translation_whose_original_changed_since_stays_behind():
    campaign, _, _ = library_with_translations()
    author = make_admin()
    newer = drafting.edit_item(campaign.item, {"title": "You are not alone", "summary": "New.", "body": ""}, author)
    approve(newer)
    entry = next(e for e in export_pack()["items"] if e["slug"] == campaign.item.slug)
    assert "translations" not in entry


def test_an_old_pack_without_translations_still_imports():
    old = {"format": "nwc-content-pack", "version": 1, "items": [
        {"kind": "campaign", "slug": "plain", "fields": {"title": "Plain", "summary": "Short.", "body": "Words."}}]}
    report = import_pack(json.dumps(old).encode(), make_admin())
    assert report.added == ["campaign “Plain”"]


@pytest.mark.parametrize(("translations_value", "problem"), [
    ("pl", "translations must be a list"),
    ([{"language": "Polish", "fields": {"title": "x", "summary": "y"}}], "is not a language tag"),
    ([{"language": "pl", "fields": {"title": "x", "summary": "y", "hashtag": "#x"}}], "unknown field 'hashtag'"),
    ([{"language": "en", "fields": {"title": "x", "summary": "y"}}], "the item is written in en-GB"),
    ([{"language": "pl", "fields": {"title": "x", "summary": "y"}}, {"language": "PL", "fields": {"title": "z",
                                                                                                  "summary": "y"}}],
     "the same language appears twice"),
    ([{"language": "pl", "fields": {"title": "", "summary": "y"}}], "Enter the title"),
    ([{"language": "pl", "fields": {"title": "x", "summary": "y", "body": "<script>alert(1)</script>"}}], "Body"),
    ([{"language": "pl"}], "language and fields only"),
])
def test_a_bad_translation_refuses_the_whole_pack(translations_value, problem):
    before = db.session.scalar(select(func.count()).select_from(ContentItem))
    bad = {"format": "nwc-content-pack", "version": 1, "items": [
        {"kind": "campaign", "slug": "plain", "fields": {"title": "Plain", "summary": "Short.", "body": "Words."},
         "translations": translations_value}]}
    with pytest.raises(PackError) as caught:
        import_pack(json.dumps(bad).encode(), make_admin())
    assert any(problem in p for p in caught.value.problems), caught.value.problems
    assert db.session.scalar(select(func.count()).select_from(ContentItem)) == before
