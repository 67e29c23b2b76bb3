"""Leaflet rules without HTTP: what may be printed, copies per street, records, audit and the cache."""

from __future__ import annotations

import os
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from coordinator.audit.models import AuditEntry
from coordinator.content import services as content
from coordinator.content.models import ContentKind, VersionState
from coordinator.extensions import db
from coordinator.leaflets import services
from coordinator.leaflets.cache import LeafletCache, app_cache, cache_key
from coordinator.leaflets.models import LeafletRecord
from coordinator.leaflets.services import LeafletChoice, LeafletChoiceError
from coordinator.settings import get_settings
from tests.content.factories import make_campaign, make_helpline, make_helpline_set, make_notice
from tests.factories import make_admin
from tests.leaflets.factories import (
    current,
    load_starter,
    make_coordinated_scheme,
    reader,
    starter_choice,
    verify_helplines,
)

# --- Copies per street ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("households", "none", "percent", "copies"),
    [
        (20, 0, 5, 21),  # 5% of 20 is exactly 1
        (21, 0, 5, 23),  # 1.05 rounds up to 2
        (1, 0, 5, 2),  # any household at all gets a spare with any spares at all
        (40, 10, 5, 32),  # 30 to deliver to, 1.5 rounds up to 2
        (100, 0, 0, 100),  # no spares
        (50, 0, 6, 53),  # 3 exactly: integer arithmetic, no 3.0000000001 rounding up to 4
        (12, 12, 5, 0),  # every household asked for none: no copies, no spares
        (0, 0, 5, 0),
    ],
)
def test_copies_are_households_less_those_asking_for_none_plus_spares_rounded_up(households, none, percent, copies):
    assert services.street_copies(households, none, percent) == copies


def test_a_print_run_uses_the_associations_spare_percentage_for_each_street():
    load_starter()
    get_settings().spare_copies_percent = 10
    scheme, _ = make_coordinated_scheme(streets=((30, 0), (11, 1), (8, 8)))
    prepared = services.prepare_print_run(scheme, starter_choice(), [s.id for s in scheme.streets])
    assert [s.copies for s in prepared.streets] == [33, 11, 0]
    assert prepared.copies == 44 == prepared.leaflet.recipe.copies
    assert [s.name for s in prepared.streets_with_none] == [scheme.streets[2].name]


def test_a_print_run_of_streets_that_all_asked_for_none_is_refused():
    load_starter()
    scheme, _ = make_coordinated_scheme(streets=((8, 8), (3, 3)))
    with pytest.raises(LeafletChoiceError) as raised:
        services.prepare_print_run(scheme, starter_choice(), [s.id for s in scheme.streets])
    assert "asked for no leaflets" in raised.value.errors["streets"]


def test_a_print_run_takes_only_its_own_schemes_streets():
    load_starter()
    scheme, _ = make_coordinated_scheme()
    other, _ = make_coordinated_scheme()
    with pytest.raises(LeafletChoiceError) as raised:
        services.create_print_run(scheme, starter_choice(), [scheme.streets[0].id, other.streets[0].id], None)
    assert raised.value.errors == {"streets": "Choose streets of this scheme only."}
    with pytest.raises(LeafletChoiceError, match="at least one street"):
        services.prepare_print_run(scheme, starter_choice(), [])


# --- What may be printed ----------------------------------------------------------------------------------------


def test_only_current_approved_campaigns_approved_sets_and_the_schemes_own_notices_are_offered():
    admin = load_starter()
    scheme, coordinator = make_coordinated_scheme()
    other, other_coordinator = make_coordinated_scheme()
    mine = make_notice(scheme, coordinator, approver=admin)
    theirs = make_notice(other, other_coordinator, approver=admin)
    ended = make_campaign(author=admin, first_day=date(2020, 1, 1), last_day=date(2020, 1, 31))
    upcoming = make_campaign(author=admin, first_day=content.today() + timedelta(days=30))
    retired = make_campaign(author=admin, state=VersionState.RETIRED)
    draft_set = make_helpline_set([make_helpline(author=admin)], author=admin, state=VersionState.SUBMITTED)

    offer = services.content_offer(scheme)
    assert {v.item.slug for v in offer.campaigns} == {"its-not-ok", "vawg-prevention", "you-are-not-alone",
                                                      "metoo-bystanders"}
    assert [v.id for v in offer.local_notices] == [mine.id]

    base = starter_choice()
    renders = services.render_count()
    for changes, field in [
        ({"campaign_version_id": ended.id}, "campaign"),
        ({"campaign_version_id": upcoming.id}, "campaign"),
        ({"campaign_version_id": retired.id}, "campaign"),
        ({"campaign_version_id": None}, "campaign"),
        ({"helpline_set_version_id": draft_set.id}, "helplines"),
        ({"helpline_set_version_id": base.campaign_version_id}, "helplines"),
        ({"local_notice_version_id": theirs.id}, "notice"),
        ({"layout": "a3"}, "layout"),
        ({"print_mode": "office"}, "print_mode"),
        ({"layout": "a6", "is_large_print": True}, "is_large_print"),
    ]:
        choice = LeafletChoice(**{**base.__dict__, **changes})
        with pytest.raises(LeafletChoiceError) as raised:
            services.generate_leaflet(scheme, choice, coordinator)
        assert list(raised.value.errors) == [field], changes
    assert services.render_count() == renders
    assert db.session.scalar(select(LeafletRecord.id)) is None
    # Their own notice is fine.
    record, prepared = services.generate_leaflet(scheme, LeafletChoice(**{**base.__dict__,
                                                 "local_notice_version_id": mine.id}), coordinator)
    assert prepared.recipe.data.local_notice.title == mine.title and record.local_notice_version_id == mine.id


def test_a_campaign_replaced_by_a_newer_version_is_refused_by_its_old_id():
    admin = load_starter()
    scheme, _ = make_coordinated_scheme()
    old_choice = starter_choice()
    item = content.find_item(ContentKind.CAMPAIGN, "its-not-ok")
    new = content.edit_item(item, {**content.version_fields(item.current_version), "title": "#ITSNOTOK 2026"}, admin)
    content.submit_version(new, admin)
    content.approve_version(new, make_admin())  # four eyes: another admin approves
    with pytest.raises(LeafletChoiceError, match="changed or ended"):
        services.prepare_leaflet(scheme, old_choice)
    assert services.prepare_leaflet(scheme, starter_choice()).recipe.data.headline == "#ITSNOTOK 2026"


def test_overdue_helplines_are_left_out_with_a_note_and_due_ones_carry_a_warning():
    admin = load_starter(verified=False)
    scheme, _ = make_coordinated_scheme()
    settings = get_settings()
    today = content.today()
    # Verified 190 days ago (6-month interval): due, within the 30-day grace. Verified 9 months ago: overdue.
    verify_helplines(admin, on=today - timedelta(days=190))
    overdue = content.find_item(ContentKind.HELPLINE, "rape-crisis")
    overdue.helpline_checks[-1].checked_on = today - timedelta(days=9 * 31)
    assert settings.helpline_grace_days == 30
    prepared = services.prepare_leaflet(scheme, starter_choice("its-not-ok"))
    printed = [h.name for h in prepared.recipe.data.helplines]
    assert "Rape Crisis" not in printed and "Victim Support" in printed
    left_out = [n for n in prepared.notes if n.is_left_out]
    assert [n.name for n in left_out] == ["Rape Crisis"] and "review overdue" in left_out[0].message
    due = [n for n in prepared.notes if not n.is_left_out]
    assert {n.name for n in due} == {"Victim Support", "Police, non-emergency", "Police, emergency"}
    assert all("Review due" in n.message for n in due)
    assert current(ContentKind.HELPLINE, "rape-crisis").id not in prepared.recipe.helpline_version_ids


def test_a_set_with_no_helpline_usable_today_is_refused_with_the_reasons():
    load_starter(verified=False)
    scheme, _ = make_coordinated_scheme()
    with pytest.raises(LeafletChoiceError) as raised:
        services.prepare_leaflet(scheme, starter_choice("vawg-prevention"))
    message = raised.value.errors["helplines"]
    assert "None of the helplines in “Domestic abuse” can be printed now" in message
    assert "not yet verified" in message and "Ask an admin to verify them" in message


def test_build_leaflet_data_maps_versions_to_plain_data():
    admin = load_starter()
    scheme, coordinator = make_coordinated_scheme("Chislehurst West", contact_other="Meetings: St Nicholas hall")
    notice = make_notice(scheme, coordinator, approver=admin, title="Residents' meeting", body="Tuesday 7pm\nAll welcome")
    campaign = current(ContentKind.CAMPAIGN, "you-are-not-alone")
    helpline_set = current(ContentKind.HELPLINE_SET, "domestic-abuse")
    data = services.build_leaflet_data(scheme, campaign, helpline_set, notice, printed_on=date(2026, 3, 12))
    assert data.headline == campaign.title and data.hashtag == "#YouAreNotAlone"
    assert data.key_messages == tuple(campaign.key_messages) and data.call_to_action == campaign.call_to_action
    assert [h.name for h in data.helplines] == [item.title for item in helpline_set.helpline_items]
    assert data.helplines[0].number_display == "0808 2000 247" and data.helplines[0].is_24_7
    assert data.local_notice.body == "Tuesday 7pm\nAll welcome"
    assert data.contact_line == ("Contact your local scheme, Chislehurst West: watch@example.org · 020 7946 0018 · "
                                 "Meetings: St Nicholas hall")
    assert data.association_name == get_settings().association_name and data.printed_on == date(2026, 3, 12)
    # The reference names the exact versions: another notice, another reference.
    other = services.build_leaflet_data(scheme, campaign, helpline_set, None, printed_on=date(2026, 3, 12))
    assert other.reference != data.reference and len(data.reference) == 9


def test_a_scheme_without_contact_lines_prints_none():
    load_starter()
    scheme, _ = make_coordinated_scheme(contact_email="", contact_phone="")
    assert services.scheme_contact_line(scheme) == ""
    assert services.prepare_leaflet(scheme, starter_choice()).recipe.data.contact_line == ""


# --- Records and audit --------------------------------------------------------------------------------------------


def test_generating_a_leaflet_records_the_versions_and_audits_it():
    load_starter()
    scheme, coordinator = make_coordinated_scheme()
    record, prepared = services.generate_leaflet(scheme, starter_choice(layout="dl", print_mode="shop"), coordinator)
    db.session.commit()
    helpline_set = current(ContentKind.HELPLINE_SET, "sexual-violence")
    assert record.created_by == coordinator and record.scheme == scheme
    assert record.campaign_version_id == current(ContentKind.CAMPAIGN, "its-not-ok").id
    assert record.helpline_set_version_id == helpline_set.id
    assert record.helpline_version_ids == [item.current_version.id for item in helpline_set.helpline_items]
    assert (record.layout, record.print_mode, record.is_large_print, record.copies) == ("dl", "shop", False, 1)
    assert record.reference == prepared.recipe.data.reference and record.printed_on == content.today()
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "leaflets.generated"))
    assert entry.actor_id == coordinator.id and entry.object_id == str(record.id)
    assert entry.details["helpline_version_ids"] == record.helpline_version_ids
    assert entry.details["layout"] == "dl" and entry.details["scheme_id"] == scheme.id


def test_a_record_makes_the_same_pdf_again_after_the_content_and_settings_move_on():
    admin = load_starter()
    scheme, coordinator = make_coordinated_scheme()
    record, prepared = services.generate_leaflet(scheme, starter_choice(print_mode="shop"), coordinator)
    first = services.record_pdf(record)
    # Later: the association renames itself, the scheme changes its contact lines, the campaign is retired.
    get_settings().association_name = "Another name"
    scheme.contact_email = "new@example.org"
    content.retire_item(content.find_item(ContentKind.CAMPAIGN, "its-not-ok"), admin)
    app_cache().evict()  # nothing to evict; the cache is small
    assert services.recipe_of(record) == prepared.recipe
    for path in list(app_cache().folder.rglob("*.pdf")):
        path.unlink()
    before = services.render_count()
    again = services.record_pdf(record)
    assert services.render_count() == before + 1
    assert "Another name" not in reader(again).pages[1].extract_text()
    assert reader(again).pages[1].extract_text() == reader(first).pages[1].extract_text()


# --- The cache ------------------------------------------------------------------------------------------------------


def test_the_same_leaflet_again_comes_from_the_cache_byte_for_byte_without_rendering():
    load_starter()
    scheme, coordinator = make_coordinated_scheme()
    before = services.render_count()
    _, first = services.generate_leaflet(scheme, starter_choice(), coordinator)
    pdf = services.leaflet_pdf(first.recipe)
    assert services.render_count() == before + 1
    record, second = services.generate_leaflet(scheme, starter_choice(), coordinator)
    assert services.leaflet_pdf(second.recipe) == pdf
    assert services.record_pdf(record) == pdf
    assert services.render_count() == before + 1
    # Anything that changes the bytes is a new key: copies, layout, mode, large print, the contact line, the date.
    keys = {first.recipe.key}
    for choice, copies in [
        (starter_choice(), 2),
        (starter_choice(layout="dl"), 1),
        (starter_choice(print_mode="shop"), 1),
        (starter_choice(is_large_print=True), 1),
    ]:
        keys.add(services.prepare_leaflet(scheme, choice, copies=copies).recipe.key)
    scheme.contact_phone = "020 7946 0999"
    keys.add(services.prepare_leaflet(scheme, starter_choice()).recipe.key)
    keys.add(services.prepare_leaflet(scheme, starter_choice(), on=content.today() + timedelta(days=1)).recipe.key)
    get_settings().footer_text = "Printed by volunteers."
    keys.add(services.prepare_leaflet(scheme, starter_choice()).recipe.key)
    assert len(keys) == 8


def test_the_cache_key_covers_the_template_version(monkeypatch):
    load_starter()
    scheme, _ = make_coordinated_scheme()
    recipe = services.prepare_leaflet(scheme, starter_choice()).recipe
    key = recipe.key
    monkeypatch.setattr(services, "template_version", lambda: "a-new-template")
    assert recipe.key != key


def test_the_cache_stays_under_its_cap_dropping_the_least_recently_used(tmp_path):
    cache = LeafletCache(tmp_path / "cache", max_bytes=3000)
    keys = [cache_key(n=n) for n in range(4)]
    for index, key in enumerate(keys[:3]):
        cache.put(key, bytes([index]) * 1000)
        past = time.time() - 100 + index
        os.utime(cache.path(key, ".pdf"), (past, past))
    assert cache.get(keys[0]) == b"\x00" * 1000  # used now: the most recent
    cache.put(keys[3], b"\x03" * 1000)
    assert cache.size() <= 3000
    assert cache.get(keys[1]) is None  # the least recently used went first
    assert cache.get(keys[0]) is not None and cache.get(keys[2]) is not None and cache.get(keys[3]) is not None
    cache.put(cache_key(n="big"), b"x" * 5000)  # larger than the whole cache: not kept
    assert cache.size() <= 3000
    with pytest.raises(ValueError):
        cache.path("../../etc/passwd", ".pdf")


def test_the_apps_cache_lives_in_the_instance_folder_with_the_configured_cap(app):
    assert app_cache().max_bytes == 500 * 1024 * 1024  # LEAFLET_CACHE_MAX_MB unset: 500 MB
    app.config["LEAFLET_CACHE_MAX_MB"] = 2
    cache = app_cache()
    assert cache.folder == Path(app.instance_path) / "leaflet-cache"
    assert cache.max_bytes == 2 * 1024 * 1024
