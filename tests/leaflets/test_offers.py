"""What a scheme may print: only what is offered today; each refusal names its field and renders nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from coordinator.content import approval, drafting
from coordinator.content import services as content
from coordinator.content.models import ContentKind, VersionState
from coordinator.extensions import db
from coordinator.leaflets import builder, offers, pdfs, recipes
from coordinator.leaflets.models import LeafletRecord
from coordinator.leaflets.offers import LeafletChoice, LeafletChoiceError
from coordinator.settings import get_settings
from tests.factories import (
    current,
    load_starter,
    make_admin,
    make_campaign,
    make_coordinated_scheme,
    make_helpline,
    make_helpline_set,
    make_notice,
    starter_choice,
    verify_helplines,
)


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

    offer = offers.content_offer(scheme)
    assert {v.item.slug for v in offer.campaigns} == {"its-not-ok", "vawg-prevention", "you-are-not-alone",
                                                      "metoo-bystanders"}
    assert [v.id for v in offer.local_notices] == [mine.id]

    base = starter_choice()
    renders = pdfs.render_count()
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
            builder.generate_leaflet(scheme, choice, coordinator)
        assert list(raised.value.errors) == [field], changes
    assert pdfs.render_count() == renders
    assert db.session.scalar(select(LeafletRecord.id)) is None
    # Their own notice is fine.
    record, prepared = builder.generate_leaflet(scheme, LeafletChoice(**{**base.__dict__,
                                                 "local_notice_version_id": mine.id}), coordinator)
    assert prepared.recipe.data.local_notice.title == mine.title and record.local_notice_version_id == mine.id


def test_a_campaign_replaced_by_a_newer_version_is_refused_by_its_old_id():
    admin = load_starter()
    scheme, _ = make_coordinated_scheme()
    old_choice = starter_choice()
    item = content.find_item(ContentKind.CAMPAIGN, "its-not-ok")
    new = drafting.edit_item(item, {**drafting.version_fields(item.current_version), "title": "#ITSNOTOK 2026"}, admin)
    approval.submit_version(new, admin)
    approval.approve_version(new, make_admin())  # four eyes: another admin approves
    with pytest.raises(LeafletChoiceError, match="changed or ended"):
        recipes.prepare_leaflet(scheme, old_choice)
    assert recipes.prepare_leaflet(scheme, starter_choice()).recipe.data.headline == "#ITSNOTOK 2026"


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
    prepared = recipes.prepare_leaflet(scheme, starter_choice("its-not-ok"))
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
        recipes.prepare_leaflet(scheme, starter_choice("vawg-prevention"))
    message = raised.value.errors["helplines"]
    assert "None of the helplines in “Domestic abuse” can be printed now" in message
    assert "not yet verified" in message and "Ask an admin to verify them" in message
