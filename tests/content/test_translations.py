"""Translations belong to their original: approved with four eyes, marked when the original changes, confirmed by an
admin, and read by leaflets, bulletins and pages through usable_translation / translation_languages /
translation_state."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from coordinator.audit.models import AuditEntry
from coordinator.content import approval, drafting, translations
from coordinator.content import services as content
from coordinator.content.fields import FieldErrors
from coordinator.content.models import (
    CampaignVersion,
    ContentItem,
    ContentKind,
    HelplineVersion,
    SettledVersionError,
    VersionState,
)
from coordinator.extensions import db
from coordinator.schemes.models import Scheme
from coordinator.settings import get_settings
from tests.factories import (
    make_admin,
    make_campaign,
    make_helpline,
    make_helpline_set,
    make_notice,
    make_scheme,
    make_user,
)

S = VersionState
# A line each, written for these tests (no machine translation, nothing claimed as approved wording).
POLISH = {"title": "Nie jesteś sam", "summary": "Pomoc jest blisko, także w nocy.",
          "body": "Zadzwoń, jeśli potrzebujesz pomocy.", "key_messages": ["Zamknij drzwi", "Zgłoś niepokój"],
          "call_to_action": "Zadzwoń pod 101."}
ARABIC = {"title": "لست وحدك", "summary": "المساعدة قريبة منك.", "body": "اتصل بنا إذا احتجت إلى المساعدة.",
          "key_messages": ["أغلق الباب"], "call_to_action": "اتصل على 101."}
URDU = {"title": "آپ اکیلے نہیں ہیں", "summary": "مدد قریب ہے۔", "body": "مدد کے لیے فون کریں۔",
        "key_messages": [], "call_to_action": ""}


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def approved_translation(original, language, fields, author=None, approver=None):
    author, approver = author or make_admin(), approver or make_admin()
    version = translations.add_translation(original.item, language, fields, author)
    approval.submit_version(version, author)
    approval.approve_version(version, approver)
    return version


def new_original_version(original_version, **changes):
    """A newer approved version of the original, as an admin edits and another approves it."""
    item = original_version.item
    fields = {"title": original_version.title, "summary": original_version.summary, "body": original_version.body,
              "key_messages": original_version.key_messages, "call_to_action": original_version.call_to_action,
              "web_address": original_version.web_address, **changes}
    author = make_admin()
    version = drafting.edit_item(item, fields, author)
    approval.submit_version(version, author)
    approval.approve_version(version, make_admin())
    return version


# --- The model and four eyes --------------------------------------------------------------------


def test_a_translation_is_an_item_of_the_same_kind_belonging_to_its_original():
    original = make_campaign(title="You are not alone")
    version = translations.add_translation(original.item, "PL", POLISH, make_admin())
    item = version.item
    assert item.kind == ContentKind.CAMPAIGN and item.translation_of is original.item and item.language == "pl"
    assert item.slug == f"{original.item.slug}-pl"
    assert version.state == S.DRAFT and version.source_version is original
    assert isinstance(version, CampaignVersion) and version.title == "Nie jesteś sam" and version.language == "pl"
    assert original.item.translations == [item]
    assert actions()[-1] == "content.translation_created"


def test_the_library_the_catalogue_and_public_lookups_show_originals_only():
    original = make_campaign(title="Only once")
    approved_translation(original, "pl", POLISH)
    assert [v.item for v in content.approved_campaigns()] == [original.item]
    assert content.library_items(ContentKind.CAMPAIGN) == [original.item]
    assert content.find_item(ContentKind.CAMPAIGN, f"{original.item.slug}-pl") is None
    assert content.find_item(ContentKind.CAMPAIGN, original.item.slug) is original.item


def test_one_translation_per_language_and_never_in_the_originals_own():
    original = make_campaign()
    translations.add_translation(original.item, "pl", POLISH, make_admin())
    with pytest.raises(FieldErrors, match="already a pl translation"):
        translations.add_translation(original.item, "PL", POLISH, make_admin())
    with pytest.raises(FieldErrors, match="written in en-GB"):
        translations.add_translation(original.item, "en-US", POLISH, make_admin())


def test_the_database_refuses_a_second_translation_in_one_language():
    original = make_campaign()
    translations.add_translation(original.item, "ar", ARABIC, make_admin())
    db.session.add(ContentItem(kind=ContentKind.CAMPAIGN, slug="another-slug", translation_of=original.item,
                               language="ar"))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize(("typed", "stored"), [("UR_pk", "ur-PK"), ("pa-guru", "pa-Guru"), (" ar ", "ar"),
                                               ("sr-latn-rs", "sr-Latn-RS"), ("es-419", "es-419")])
def test_language_tags_are_stored_as_bcp_47_writes_them(typed, stored):
    assert translations.normalise_language(typed) == stored


@pytest.mark.parametrize("typed", ["", "polish", "p", "en-GB-oxendict", "x-klingon", "<b>", "ar-", "12"])
def test_what_is_not_a_language_tag_is_refused_with_a_message(typed):
    with pytest.raises(FieldErrors) as caught:
        translations.normalise_language(typed)
    assert caught.value.errors["language"].startswith("Language:")


def test_only_approved_wording_is_translated():
    draft = make_campaign(state=S.DRAFT)
    with pytest.raises(content.ContentError, match="no approved version"):
        translations.add_translation(draft.item, "pl", POLISH, make_admin())


def test_a_coordinator_cannot_translate_association_content_but_can_translate_their_own_notice():
    coordinator = make_user()
    scheme = make_scheme(coordinators=[coordinator])
    with pytest.raises(content.ContentPermissionError):
        translations.add_translation(make_campaign().item, "pl", POLISH, coordinator)
    notice = make_notice(scheme, coordinator)
    version = translations.add_translation(notice.item, "pl", {"title": "Zebranie", "body": "We wtorek o 19."},
                                           coordinator)
    assert version.item.scheme_id == scheme.id and version.body == "We wtorek o 19."


def test_the_translations_wording_is_checked_like_the_originals():
    original = make_campaign()
    with pytest.raises(FieldErrors) as caught:
        translations.add_translation(original.item, "pl", {**POLISH, "title": "", "summary": "x" * 201,
                                                           "body": "<script>alert(1)</script>"}, make_admin())
    assert set(caught.value.errors) == {"title", "summary", "body"}


def test_four_eyes_the_author_of_a_translation_cannot_approve_it():
    assert get_settings().is_four_eyes_required
    author, other = make_admin(), make_admin()
    version = translations.add_translation(make_campaign().item, "pl", POLISH, author)
    approval.submit_version(version, author)
    with pytest.raises(content.ContentPermissionError, match="another admin must approve"):
        approval.approve_version(version, author)
    approval.approve_version(version, other)
    assert version.state == S.APPROVED and version.approved_by == other
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "content.approved")
                               .order_by(AuditEntry.id.desc())).first()
    assert "(pl translation)" in entry.summary


def test_an_approved_translation_never_changes():
    version = approved_translation(make_campaign(), "pl", POLISH)
    version.summary = "Changed after approval"
    with pytest.raises(SettledVersionError):
        db.session.flush()
    db.session.rollback()


# --- States: stale marking and the confirm action -----------------------------------------------


def test_each_state_and_what_usable_translation_gives():
    original = make_campaign(title="Lock it", first_day=None)
    item = original.item
    assert translations.translation_state(item, "en") == "original"
    assert translations.usable_translation(item, "en-GB") is original
    assert translations.translation_state(item, "pl") == "none"
    assert translations.usable_translation(item, "pl") is None

    author = make_admin()
    draft = translations.add_translation(item, "pl", POLISH, author)
    assert translations.translation_state(item, "pl") == "draft"
    assert translations.usable_translation(item, "pl") is None
    approval.submit_version(draft, author)
    assert translations.translation_state(item, "pl") == "draft"
    approval.approve_version(draft, make_admin())
    assert translations.translation_state(item, "pl") == "current"
    used = translations.usable_translation(item, "pl")
    assert used.title == "Nie jesteś sam" and used.translation is draft
    assert translations.translation_languages(item) == ["en-GB", "pl"]

    newer = new_original_version(original, web_address="www.gov.uk")
    assert translations.translation_state(item, "pl") == "original-changed"
    assert translations.usable_translation(item, "pl") is None
    assert translations.translation_languages(item) == ["en-GB"]
    assert translations.usable_translation(item, "en") is newer

    translations.confirm_translation(draft.item, make_admin(), newer.id)
    assert translations.translation_state(item, "pl") == "confirmed"
    used = translations.usable_translation(item, "pl")
    assert used.translation is draft and used.original is newer and used.web_address == "www.gov.uk"
    assert translations.translation_languages(item) == ["en-GB", "pl"]

    # A confirmation is of one pair: the original's next version needs reading again.
    new_original_version(newer, summary="Newer still.")
    assert translations.translation_state(item, "pl") == "original-changed"


def test_a_new_translation_version_made_from_the_current_original_is_up_to_date_again():
    original = make_campaign()
    first = approved_translation(original, "ar", ARABIC)
    newer = new_original_version(original, summary="New words.")
    assert translations.translation_state(original.item, "ar") == "original-changed"
    author = make_admin()
    second = translations.edit_translation(first.item, {**ARABIC, "summary": "كلمات جديدة."}, author)
    assert second.number == 2 and second.source_version is newer
    approval.submit_version(second, author)
    approval.approve_version(second, make_admin())
    assert translations.translation_state(original.item, "ar") == "current"
    assert first.state == S.RETIRED
    assert translations.usable_translation(original.item, "ar").summary == "كلمات جديدة."


def test_confirming_is_audited_admin_only_and_refused_when_there_is_nothing_to_confirm():
    original = make_campaign()
    translation = approved_translation(original, "pl", POLISH)
    admin = make_admin(name="Cara Admin")
    with pytest.raises(content.ContentError, match="nothing to confirm"):
        translations.confirm_translation(translation.item, admin, original.id)
    newer = new_original_version(original, summary="Changed.")
    with pytest.raises(content.ContentPermissionError):
        translations.confirm_translation(translation.item, make_user(), newer.id)
    with pytest.raises(content.ContentError, match="approved after you opened the page"):
        translations.confirm_translation(translation.item, admin, original.id)
    confirmation = translations.confirm_translation(translation.item, admin, newer.id)
    assert confirmation.original_version is newer and confirmation.translation_version is translation
    assert confirmation.confirmed_by_label == "Cara Admin"
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.action == "content.translation_confirmed"
    assert f"still right for version {newer.number}" in entry.summary
    with pytest.raises(content.ContentError, match="already confirmed"):
        translations.confirm_translation(translation.item, admin, newer.id)


def test_a_retired_original_is_used_in_no_language():
    original = make_campaign()
    approved_translation(original, "pl", POLISH)
    approval.retire_item(original.item, make_admin())
    assert translations.usable_translation(original.item, "pl") is None
    assert translations.usable_translation(original.item, "en") is None
    assert translations.translation_languages(original.item) == []


def test_a_language_is_found_by_its_primary_subtag_and_an_unknown_tag_finds_nothing():
    original = make_campaign()
    approved_translation(original, "ur-PK", URDU)
    assert translations.usable_translation(original.item, "ur").title == "آپ اکیلے نہیں ہیں"
    assert translations.translation_state(original.item, "UR_pk") == "current"
    assert translations.usable_translation(original.item, "not a tag") is None
    assert translations.usable_translation(original.item, "ar") is None


# --- What renderers get -------------------------------------------------------------------------


def test_the_translated_version_has_the_translations_words_and_the_originals_everything_else():
    image_free = make_campaign(hashtag="#StaySafe", web_address="www.met.police.uk", is_sensitive=True,
                               every_year_from="02-01", every_year_until="02-14")
    approved_translation(image_free, "ar", ARABIC)
    used = translations.usable_translation(image_free.item, "ar")
    assert isinstance(used, CampaignVersion)
    assert (used.title, used.summary, used.body, used.key_messages, used.call_to_action) == \
        (ARABIC["title"], ARABIC["summary"], ARABIC["body"], ARABIC["key_messages"], ARABIC["call_to_action"])
    assert used.language == "ar" and used.dir == "rtl"
    assert used.id == image_free.id and used.item is image_free.item
    assert (used.hashtag, used.web_address, used.is_sensitive, used.every_year_from) == \
        ("#StaySafe", "www.met.police.uk", True, "02-01")
    data = content.campaign_data(used)
    assert data["title"] == ARABIC["title"] and data["slug"] == image_free.item.slug and data["language"] == "ar"


def test_a_translated_helpline_keeps_its_name_and_number_and_a_set_keeps_its_helplines():
    helpline = make_helpline(title="Karma Nirvana", number="0800 5999 247", who_for="people facing forced marriage",
                             opening_hours="Mon to Fri 9am to 5pm")
    author = make_admin()
    version = translations.add_translation(helpline.item, "ur", {"who_for": "جبری شادی کا سامنا کرنے والے لوگ",
                                                                 "opening_hours": "پیر تا جمعہ"}, author)
    assert isinstance(version, HelplineVersion) and version.phone_number == helpline.phone_number
    approval.submit_version(version, author)
    approval.approve_version(version, make_admin())
    used = translations.usable_translation(helpline.item, "ur")
    assert used.title == "Karma Nirvana" and used.phone_number_shown == helpline.phone_number_shown
    assert used.who_for == "جبری شادی کا سامنا کرنے والے لوگ" and used.opening_hours == "پیر تا جمعہ"
    assert content.helpline_data(used)["name"] == "Karma Nirvana"

    the_set = make_helpline_set([helpline], title="Support")
    set_translation = translations.add_translation(the_set.item, "pl", {"title": "Wsparcie"}, author)
    approval.submit_version(set_translation, author)
    approval.approve_version(set_translation, make_admin())
    used_set = translations.usable_translation(the_set.item, "pl")
    assert used_set.title == "Wsparcie" and used_set.helpline_items == [helpline.item]
    assert [v.item for v in content.approved_helpline_sets()] == [the_set.item]
    assert [v.item for v, _ in content.helplines_needing_review()] == [helpline.item]


def test_translations_of_lists_every_language_with_its_state():
    original = make_campaign()
    approved_translation(original, "pl", POLISH)
    translations.add_translation(original.item, "ar", ARABIC, make_admin())
    rows = translations.translations_of(original.item)
    assert [(t.language, state) for t, state in rows] == [("ar", "draft"), ("pl", "current")]
    assert translations.translation_languages(original.item) == ["en-GB", "pl"]


def test_deleting_a_scheme_takes_its_notices_and_their_translations_with_it():
    coordinator = make_user()
    scheme = make_scheme(coordinators=[coordinator])
    notice = make_notice(scheme, coordinator)
    version = translations.add_translation(notice.item, "pl", {"title": "Zebranie", "body": "We wtorek o 19."},
                                           coordinator)
    approval.submit_version(version, coordinator)
    approval.approve_version(version, make_admin())
    kept = make_campaign()
    db.session.commit()
    db.session.execute(delete(Scheme).where(Scheme.id == scheme.id))
    db.session.commit()
    assert list(db.session.scalars(select(ContentItem))) == [kept.item]
