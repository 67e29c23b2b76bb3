"""Bulletin rules without HTTP: what a draft may hold, the state machine, approval with four eyes, batches."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from coordinator.audit.models import AuditEntry
from coordinator.bulletins import approval, batches, drafts, progress, subscribers, transitions
from coordinator.bulletins.models import BulletinState
from coordinator.content import drafting
from coordinator.content.approval import approve_version, submit_version
from coordinator.content.models import VersionState
from coordinator.db import UTC, utcnow
from coordinator.extensions import db
from coordinator.settings import get_settings
from tests.factories import (
    bulletin_draft,
    make_admin,
    make_bulletin,
    make_campaign,
    make_notice,
    make_recipients,
    make_street,
)

B = BulletinState


def require_approval(is_four_eyes: bool = True) -> None:
    settings = get_settings()
    settings.is_bulletin_approval_required = True
    settings.is_four_eyes_required = is_four_eyes
    db.session.commit()


def actions(bulletin) -> list[str]:
    return list(db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.object_type == "Bulletin", AuditEntry.object_id == str(bulletin.id))
        .order_by(AuditEntry.id)
    ))


# --- what a draft may hold ----------------------------------------------------------------------------------------


def test_a_draft_keeps_the_exact_versions_it_uses(world):
    bulletin = make_bulletin(world)
    assert bulletin.state == B.DRAFT
    assert bulletin.campaign_version_ids == [world.campaign.id]
    assert bulletin.helpline_set_version_id == world.helpline_set.id
    assert bulletin.local_notice_version_ids == [world.notice.id]
    assert bulletin.intro == "Hello from your coordinators.\n\nPlease read this one."
    assert bulletin.created_by == world.s.coordinator_a
    assert actions(bulletin) == ["bulletins.created"]


def test_every_wrong_field_is_named_at_once(world):
    s = world.s
    other_notice = make_notice(s.scheme_b, s.coordinator_b, approver=world.admin)
    with pytest.raises(transitions.BulletinProblems) as raised:
        drafts.create_bulletin(s.scheme_a, bulletin_draft(
            world,
            subject="",
            intro="x" * 601,
            campaign_version_ids=[],
            helpline_set_version_id=None,
            local_notice_version_ids=[other_notice.id],
            is_whole_scheme=False,
            street_ids=[],
        ), s.coordinator_a)
    errors = raised.value.errors
    assert errors["subject"] == ["Enter a subject"]
    assert errors["intro"] == ["The introduction must be 600 characters or fewer (it has 601)"]
    assert errors["campaigns"] == ["Choose at least one campaign"]
    assert errors["helpline_set"] == ["Choose a helpline set"]
    assert "this scheme's approved notices" in errors["notices"][0]  # another scheme's notice
    assert "at least one street" in errors["streets"][0]


def test_only_current_approved_content_and_the_schemes_own_streets_can_be_chosen(world):
    s = world.s
    draft_campaign = make_campaign(world.admin, state=VersionState.SUBMITTED)
    ended = make_campaign(world.admin, first_day=datetime(2020, 1, 1).date(), last_day=datetime(2020, 2, 1).date())
    with pytest.raises(transitions.BulletinProblems) as raised:
        make_bulletin(world, campaign_version_ids=[draft_campaign.id, ended.id],
                      helpline_set_version_id=world.helplines[0].id,  # a helpline, not a set
                      is_whole_scheme=False, street_ids=[s.street_b.id])
    errors = raised.value.errors
    assert set(errors) == {"campaigns", "helpline_set", "streets"}


def test_the_subject_is_one_line_and_the_intro_keeps_its_line_breaks(world):
    for subject in ("Line\nbreak", "Tab\tinside", "Zero\u200bwidth", "Bell\x07"):
        with pytest.raises(transitions.BulletinProblems):
            make_bulletin(world, subject=subject)
    bulletin = make_bulletin(world, subject="  Plenty    of   spaces  ", intro="One\r\nTwo\r\n\r\n\r\n\r\nThree  ")
    assert bulletin.subject == "Plenty of spaces"
    assert bulletin.intro == "One\nTwo\n\nThree"
    with pytest.raises(transitions.BulletinProblems):
        make_bulletin(world, intro="A bell \x07 in the text")


def test_a_coordinator_cannot_write_for_another_scheme(world):
    s = world.s
    with pytest.raises(transitions.BulletinPermissionError):
        drafts.create_bulletin(s.scheme_b, bulletin_draft(world, local_notice_version_ids=[]), s.coordinator_a)


def test_only_drafts_change_and_a_change_unfixes_the_helplines(world):
    bulletin = make_bulletin(world)
    drafts.update_bulletin(bulletin, bulletin_draft(world, subject="New subject"), world.s.coordinator_a)
    assert bulletin.subject == "New subject"
    approval.queue_bulletin(bulletin, world.s.coordinator_a, utcnow() + timedelta(days=1))
    with pytest.raises(transitions.BulletinError):
        drafts.update_bulletin(bulletin, bulletin_draft(world, subject="Too late"), world.s.coordinator_a)


def test_editing_a_draft_offers_the_newer_version_of_changed_content(world):
    bulletin = make_bulletin(world)
    newer = drafting.edit_item(world.campaign.item, {**drafting.version_fields(world.campaign), "title": "Scams v2"},
                              world.admin)
    submit_version(newer, world.admin)
    approve_version(newer, make_admin())
    db.session.commit()
    draft = drafts.draft_from_bulletin(bulletin)
    assert draft.campaign_version_ids == [newer.id]
    # Sending the old version is refused: it is retired now.
    with pytest.raises(transitions.BulletinError, match="no longer current"):
        approval.queue_bulletin(bulletin, world.s.coordinator_a)


# --- sending without approval -----------------------------------------------------------------------------------


def test_send_now_makes_it_ready_and_fixes_the_helplines(world):
    bulletin = make_bulletin(world)
    assert approval.queue_bulletin(bulletin, world.s.coordinator_a) == B.APPROVED
    assert bulletin.helpline_version_ids == [h.id for h in world.helplines]
    assert bulletin.send_at is None
    assert actions(bulletin) == ["bulletins.created", "bulletins.queued"]


def test_send_at_a_time_schedules_it_in_uk_time(world):
    bulletin = make_bulletin(world)
    with freeze_time("2026-07-01 09:00:00"):
        # 18:30 in July is British Summer Time: 17:30 UTC.
        state = approval.queue_bulletin(bulletin, world.s.coordinator_a, datetime(2026, 7, 3, 18, 30))
    assert state == B.SCHEDULED
    assert bulletin.send_at == datetime(2026, 7, 3, 17, 30, tzinfo=UTC)
    assert approval.local_time_text(bulletin.send_at) == "Friday 3 July 2026, 18:30 (UK time)"


@pytest.mark.parametrize("when", [datetime(2026, 6, 30, 8, 0), datetime(2026, 10, 1, 9, 0)])
def test_a_time_in_the_past_or_too_far_ahead_is_refused(world, when):
    bulletin = make_bulletin(world)
    with freeze_time("2026-07-01 09:00:00"), pytest.raises(transitions.BulletinProblems) as raised:
        approval.queue_bulletin(bulletin, world.s.coordinator_a, when)
    assert set(raised.value.errors) == {"send_at"}
    assert bulletin.state == B.DRAFT


def test_cancelling_a_scheduled_bulletin_is_final(world):
    bulletin = make_bulletin(world)
    approval.queue_bulletin(bulletin, world.s.coordinator_a, utcnow() + timedelta(hours=2))
    approval.cancel_bulletin(bulletin, world.s.coordinator_a)
    assert bulletin.state == B.CANCELLED and bulletin.cancelled_by == world.s.coordinator_a
    with pytest.raises(transitions.BulletinError):
        approval.cancel_bulletin(bulletin, world.s.coordinator_a)
    assert not progress.start_sending(bulletin, "example.org")
    assert actions(bulletin)[-1] == "bulletins.cancelled"


def test_a_move_from_a_stale_state_is_refused(world):
    """Two people acting on the same bulletin at once: the second move finds the state changed."""
    bulletin = make_bulletin(world)
    db.session.commit()
    from sqlalchemy import update

    from coordinator.bulletins.models import Bulletin

    # Another person's request, which this session has not seen.
    db.session.execute(update(Bulletin).where(Bulletin.id == bulletin.id).values(state=B.CANCELLED),
                       execution_options={"synchronize_session": False})
    with pytest.raises(transitions.BulletinError, match="Someone changed this bulletin"):
        approval.queue_bulletin(bulletin, world.s.coordinator_a)


# --- approval -----------------------------------------------------------------------------------------------------


def test_with_approval_required_a_bulletin_waits_for_an_admin(world):
    require_approval()
    bulletin = make_bulletin(world)
    assert approval.queue_bulletin(bulletin, world.s.coordinator_a) == B.AWAITING_APPROVAL
    assert bulletin.submitted_by == world.s.coordinator_a
    assert not progress.start_sending(bulletin, "example.org")
    assert approval.approve_bulletin(bulletin, world.admin) == B.APPROVED
    assert bulletin.approved_by == world.admin
    assert actions(bulletin) == ["bulletins.created", "bulletins.submitted", "bulletins.approved"]


def test_a_coordinator_cannot_approve(world):
    require_approval()
    bulletin = make_bulletin(world)
    approval.queue_bulletin(bulletin, world.s.coordinator_a)
    with pytest.raises(transitions.BulletinPermissionError, match="Only an admin"):
        approval.approve_bulletin(bulletin, world.s.coordinator_a)
    with pytest.raises(transitions.BulletinPermissionError):
        approval.request_bulletin_changes(bulletin, world.s.coordinator_b, "no")
    assert bulletin.state == B.AWAITING_APPROVAL


def test_four_eyes_an_admin_cannot_approve_their_own_bulletin_while_another_admin_exists(world):
    require_approval()
    bulletin = make_bulletin(world, actor=world.admin)
    approval.queue_bulletin(bulletin, world.admin)
    with pytest.raises(transitions.BulletinPermissionError, match="another admin must approve"):
        approval.approve_bulletin(bulletin, world.admin)
    other = make_admin()
    assert approval.approve_bulletin(bulletin, other) == B.APPROVED


def test_four_eyes_off_an_admin_may_approve_their_own(world):
    require_approval(is_four_eyes=False)
    make_admin()
    bulletin = make_bulletin(world, actor=world.admin)
    approval.queue_bulletin(bulletin, world.admin)
    assert approval.approve_bulletin(bulletin, world.admin) == B.APPROVED


def test_approving_a_bulletin_whose_time_is_still_to_come_schedules_it(world):
    require_approval()
    bulletin = make_bulletin(world)
    approval.queue_bulletin(bulletin, world.s.coordinator_a, utcnow() + timedelta(days=2))
    assert approval.approve_bulletin(bulletin, world.admin) == B.SCHEDULED


def test_asking_for_changes_needs_a_reason_and_returns_a_draft(world):
    require_approval()
    bulletin = make_bulletin(world)
    approval.queue_bulletin(bulletin, world.s.coordinator_a)
    with pytest.raises(transitions.BulletinProblems) as raised:
        approval.decide_bulletin(bulletin, world.admin, "request_changes", "  ")
    assert "reason" in raised.value.errors
    approval.decide_bulletin(bulletin, world.admin, "request_changes", "Please add the meeting date.")
    assert bulletin.state == B.DRAFT and bulletin.change_request_reason == "Please add the meeting date."
    # The author changes it and sends it again; the reason is cleared.
    assert approval.queue_bulletin(bulletin, world.s.coordinator_a) == B.AWAITING_APPROVAL
    assert bulletin.change_request_reason == ""


def test_the_author_can_take_it_back_before_approval(world):
    require_approval()
    bulletin = make_bulletin(world)
    approval.queue_bulletin(bulletin, world.s.coordinator_a)
    approval.withdraw_bulletin(bulletin, world.s.coordinator_a)
    assert bulletin.state == B.DRAFT
    with pytest.raises(transitions.BulletinPermissionError):
        approval.withdraw_bulletin(bulletin, world.s.coordinator_b)


# --- one campaign for every scheme ------------------------------------------------------------------------------


def test_one_campaign_for_every_scheme_makes_a_bulletin_per_scheme_with_subscribers(world):
    s = world.s
    make_recipients(s.scheme_a, 2, prefix="a")
    make_recipients(s.scheme_b, 3, prefix="b")
    from tests.factories import make_scheme

    empty = make_scheme("Quiet Close Watch")
    report = batches.send_campaign_to_schemes(
        [s.scheme_a, s.scheme_b, empty], [world.campaign.item.slug], world.helpline_set.item.slug,
        "Scams this autumn", "", world.admin,
    )
    assert [b.scheme for b in report.bulletins] == [s.scheme_a, s.scheme_b]
    assert all(b.state == B.APPROVED and b.batch == report.batch and b.batch for b in report.bulletins)
    assert report.skipped == [(empty, "no confirmed subscribers")]
    assert "Quiet Close Watch: no bulletin (no confirmed subscribers)" in report.lines()


def test_one_campaign_for_every_scheme_waits_for_approval_and_a_batch_is_approved_at_once(world):
    require_approval()
    s = world.s
    make_recipients(s.scheme_a, 1, prefix="a")
    make_recipients(s.scheme_b, 1, prefix="b")
    report = batches.send_campaign_to_schemes(
        [s.scheme_a, s.scheme_b], [world.campaign.item.slug], world.helpline_set.item.slug, "Scams", "", None,
        actor_label="command line",
    )
    assert all(b.state == B.AWAITING_APPROVAL for b in report.bulletins)
    approved, problems = approval.approve_batch(report.batch, world.admin)
    assert problems == [] and {b.id for b in approved} == {b.id for b in report.bulletins}
    assert all(b.state == B.APPROVED for b in report.bulletins)


def test_one_campaign_for_every_scheme_checks_its_slugs_and_who_asks(world):
    s = world.s
    with pytest.raises(transitions.BulletinProblems) as raised:
        batches.send_campaign_to_schemes([s.scheme_a], ["no-such-campaign"], "no-such-set", "", "", world.admin)
    assert set(raised.value.errors) == {"campaigns", "helpline_set", "subject"}
    with pytest.raises(transitions.BulletinPermissionError):
        batches.send_campaign_to_schemes([s.scheme_a], [world.campaign.item.slug], world.helpline_set.item.slug,
                                          "Scams", "", s.coordinator_a)


def test_a_street_audience_counts_only_its_streets(world):
    s = world.s
    oak = make_street(s.scheme_a, "Oak Road")
    from tests.factories import make_subscriber

    make_subscriber(s.scheme_a, street=s.street_a)
    make_subscriber(s.scheme_a, street=oak)
    make_subscriber(s.scheme_a)
    assert subscribers.count_recipients(s.scheme_a) == 3
    assert subscribers.count_recipients(s.scheme_a, [oak.id]) == 1
    assert subscribers.count_recipients(s.scheme_a, []) == 0
