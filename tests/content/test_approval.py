"""The one approval state machine: every legal move, every illegal one, four eyes, immutability."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from coordinator.audit.models import AuditEntry
from coordinator.content import approval, drafting
from coordinator.content import services as content
from coordinator.content.models import (
    CampaignVersion,
    ContentKind,
    ContentVersion,
    HelplineSetEntry,
    SettledVersionError,
    VersionState,
)
from coordinator.extensions import db
from coordinator.settings import get_settings
from tests.factories import (
    campaign_fields,
    make_admin,
    make_campaign,
    make_helpline,
    make_helpline_set,
    make_scheme,
    make_user,
    settle,
)
from tests.helpers.web import outbox_messages

S = VersionState


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_legal_path_draft_submitted_approved_is_audited():
    author, approver = make_admin(), make_admin()
    version = drafting.create_item(ContentKind.CAMPAIGN, campaign_fields(title="Lock it"), author)
    assert version.state == S.DRAFT and version.number == 1
    approval.submit_version(version, author)
    assert version.state == S.SUBMITTED and version.submitted_by == author and version.submitted_at
    approval.approve_version(version, approver)
    assert version.state == S.APPROVED and version.approved_by == approver and version.approved_at
    assert version.item.current_version is version
    assert actions() == ["content.created", "content.submitted", "content.approved"]


def test_changes_requested_goes_back_to_draft_then_can_be_approved():
    author, approver = make_admin(), make_admin()
    version = make_campaign(author, S.CHANGES_REQUESTED, approver=approver)
    assert version.state == S.CHANGES_REQUESTED
    assert version.change_request_reason == "Please fix"
    drafting.update_version(version, campaign_fields(title="Fixed title"), author)
    assert version.state == S.DRAFT and version.title == "Fixed title"
    approval.submit_version(version, author)
    approval.approve_version(version, approver)
    assert version.state == S.APPROVED
    assert "content.changes_requested" in actions() and "content.revised" in actions()


def test_withdraw_takes_a_submission_back_to_draft():
    author = make_admin()
    version = make_campaign(author, S.SUBMITTED)
    approval.withdraw_version(version, author)
    assert version.state == S.DRAFT
    assert actions()[-1] == "content.withdrawn"


def test_asking_for_changes_needs_a_reason():
    version = make_campaign(state=S.SUBMITTED)
    with pytest.raises(content.ContentError, match="Say what needs to change"):
        approval.request_changes(version, make_admin(), "   ")
    assert version.state == S.SUBMITTED


@pytest.mark.parametrize(
    "start, target",
    [
        (S.DRAFT, S.APPROVED),  # approve a draft
        (S.DRAFT, S.CHANGES_REQUESTED),
        (S.DRAFT, S.RETIRED),
        (S.SUBMITTED, S.RETIRED),
        (S.SUBMITTED, S.SUBMITTED),
        (S.CHANGES_REQUESTED, S.APPROVED),
        (S.CHANGES_REQUESTED, S.SUBMITTED),
        (S.APPROVED, S.DRAFT),
        (S.APPROVED, S.SUBMITTED),
        (S.APPROVED, S.APPROVED),
        (S.APPROVED, S.CHANGES_REQUESTED),
        (S.RETIRED, S.APPROVED),
        (S.RETIRED, S.DRAFT),
        (S.RETIRED, S.SUBMITTED),
    ],
)
def test_illegal_transitions_are_refused(start, target):
    admin = make_admin()
    version = make_campaign(admin, start)
    before = version.state
    with pytest.raises(content.ContentError, match="cannot be made"):
        approval.transition(version, target, make_admin(), reason="because")
    assert version.state == before


def test_every_listed_transition_is_legal_and_no_other():
    legal = {(a, b) for (a, b) in approval.TRANSITIONS}
    assert legal == {
        (S.DRAFT, S.SUBMITTED),
        (S.SUBMITTED, S.DRAFT),
        (S.SUBMITTED, S.APPROVED),
        (S.SUBMITTED, S.CHANGES_REQUESTED),
        (S.CHANGES_REQUESTED, S.DRAFT),
        (S.APPROVED, S.RETIRED),
    }


def test_a_coordinator_cannot_approve_or_request_changes():
    version = make_campaign(state=S.SUBMITTED)
    coordinator = make_user()
    with pytest.raises(content.ContentPermissionError, match="Only an admin"):
        approval.approve_version(version, coordinator)
    with pytest.raises(content.ContentPermissionError, match="Only an admin"):
        approval.request_changes(version, coordinator, "no")
    assert version.state == S.SUBMITTED


def test_a_coordinator_cannot_create_or_submit_campaigns():
    coordinator = make_user()
    with pytest.raises(content.ContentPermissionError):
        drafting.create_item(ContentKind.CAMPAIGN, campaign_fields(), coordinator)
    draft = make_campaign(state=S.DRAFT)
    with pytest.raises(content.ContentPermissionError):
        approval.submit_version(draft, coordinator)
    assert draft.state == S.DRAFT


def test_an_admin_cannot_approve_their_own_submission_while_another_active_admin_exists():
    author = make_admin()
    make_admin()  # the colleague who should approve
    version = make_campaign(author, S.SUBMITTED)
    with pytest.raises(content.ContentPermissionError, match="another admin must approve"):
        approval.approve_version(version, author)
    assert version.state == S.SUBMITTED


def test_a_sole_admin_may_approve_their_own_submission():
    author = make_admin()
    make_admin(active=False)  # an inactive admin cannot be the second pair of eyes
    make_user()
    version = make_campaign(author, S.SUBMITTED)
    approval.approve_version(version, author)
    assert version.state == S.APPROVED


def test_four_eyes_rule_is_one_switch():
    author = make_admin()
    make_admin()
    version = make_campaign(author, S.SUBMITTED)
    get_settings().is_four_eyes_required = False
    approval.approve_version(version, author)
    assert version.state == S.APPROVED


def test_an_inactive_admin_cannot_approve():
    version = make_campaign(state=S.SUBMITTED)
    with pytest.raises(content.ContentPermissionError):
        approval.approve_version(version, make_admin(active=False))


def test_approved_version_cannot_be_edited_through_the_service():
    version = make_campaign(state=S.APPROVED, title="Original")
    with pytest.raises(content.ContentError, match="can never change"):
        drafting.update_version(version, campaign_fields(title="Changed"), make_admin())
    db.session.refresh(version)
    assert version.title == "Original"


def test_retired_version_cannot_be_edited_through_the_service():
    version = make_campaign(state=S.RETIRED, title="Old")
    with pytest.raises(content.ContentError, match="can never change"):
        drafting.update_version(version, campaign_fields(title="New"), make_admin())


def test_submitted_version_must_be_withdrawn_before_editing():
    version = make_campaign(state=S.SUBMITTED)
    with pytest.raises(content.ContentError, match="Withdraw"):
        drafting.update_version(version, campaign_fields(), version.created_by)
    with pytest.raises(content.ContentError, match="Withdraw"):
        drafting.edit_item(version.item, campaign_fields(), version.created_by)


def test_approved_version_fields_refused_at_flush_whatever_the_code_path():
    version = make_campaign(state=S.APPROVED, summary="Approved words")
    db.session.commit()
    version.summary = "Sneaky change"
    with pytest.raises(SettledVersionError, match="summary"):
        db.session.flush()
    db.session.rollback()
    assert db.session.get(CampaignVersion, version.id).summary == "Approved words"


def test_approved_version_cannot_go_back_or_be_deleted_at_flush():
    version = make_campaign(state=S.APPROVED)
    db.session.commit()
    version.state = S.DRAFT
    with pytest.raises(SettledVersionError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(ContentVersion, version.id))
    with pytest.raises(SettledVersionError, match="never deleted"):
        db.session.flush()
    db.session.rollback()


def test_approved_helpline_set_membership_is_fixed_at_flush():
    first, second = make_helpline(), make_helpline()
    set_version = make_helpline_set([first])
    db.session.commit()
    set_version.entries.append(HelplineSetEntry(position=2, helpline_item=second.item))
    with pytest.raises(SettledVersionError):
        db.session.flush()
    db.session.rollback()
    set_version = db.session.get(ContentVersion, set_version.id)
    set_version.entries[0].position = 5
    with pytest.raises(SettledVersionError):
        db.session.flush()
    db.session.rollback()


def test_edit_of_an_approved_item_starts_a_new_draft_and_keeps_the_approved_one():
    author, approver = make_admin(), make_admin()
    approved = make_campaign(author, S.APPROVED, approver=approver, title="First words")
    draft = drafting.edit_item(approved.item, campaign_fields(title="Second words"), author)
    assert draft is not approved
    assert (draft.number, draft.state, draft.title) == (2, S.DRAFT, "Second words")
    assert approved.title == "First words" and approved.state == S.APPROVED
    assert approved.item.current_version is approved
    # A second edit changes the same draft rather than opening a third version.
    again = drafting.edit_item(approved.item, campaign_fields(title="Third words"), author)
    assert again is draft and len(approved.item.versions) == 2


def test_a_newer_approval_retires_the_previous_approved_version():
    author, approver = make_admin(), make_admin()
    first = make_campaign(author, S.APPROVED, approver=approver)
    second = drafting.edit_item(first.item, campaign_fields(title="Newer"), author)
    settle(second, S.APPROVED, author, approver)
    assert first.state == S.RETIRED and first.retired_at is not None
    assert second.state == S.APPROVED and first.item.current_version is second
    retired = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "content.retired")).one()
    assert retired.details["reason"] == "replaced by version 2"


def test_retiring_an_item_stops_it_being_offered():
    version = make_campaign(state=S.APPROVED)
    assert version in content.current_campaigns()
    approval.retire_item(version.item, make_admin())
    assert version.state == S.RETIRED
    assert version not in content.current_campaigns()
    assert content.get_version(version.id) is version  # kept for what was printed with it


def test_submitter_is_emailed_on_approval(app):
    author, approver = make_admin(name="Sam Author"), make_admin(name="Ria Reviewer")
    version = make_campaign(author, S.SUBMITTED, title="Bike marking day")
    approval.approve_version(version, approver)
    db.session.commit()
    from coordinator.mail import deliver_queued_mail

    deliver_queued_mail()
    [message] = outbox_messages(app)
    assert message["To"].addresses[0].addr_spec == author.email
    assert message["Subject"] == "Approved: Bike marking day"
    text = message.get_body(("plain",)).get_content()
    assert "Ria Reviewer has approved version 1" in text
    assert f"/content/items/{version.item_id}" in text


def test_submitter_is_emailed_the_reason_when_changes_are_asked_for(app):
    author, approver = make_admin(), make_admin(name="Ria Reviewer")
    version = make_campaign(author, S.SUBMITTED, title="Bike marking day")
    approval.request_changes(version, approver, "The date is wrong: <b>check</b> it")
    db.session.commit()
    from coordinator.mail import deliver_queued_mail

    deliver_queued_mail()
    [message] = outbox_messages(app)
    assert message["Subject"] == "Changes asked for: Bike marking day"
    assert "The date is wrong: <b>check</b> it" in message.get_body(("plain",)).get_content()
    assert "The date is wrong: &lt;b&gt;check&lt;/b&gt; it" in message.get_body(("html",)).get_content()


def test_local_notice_rules_follow_the_scheme():
    pat, other = make_user(), make_user()
    scheme = make_scheme(coordinators=[pat])
    version = drafting.create_item(ContentKind.LOCAL_NOTICE, {"title": "Meeting", "body": "Tuesday 7pm"}, pat,
                                  scheme=scheme)
    with pytest.raises(content.ContentPermissionError):
        drafting.create_item(ContentKind.LOCAL_NOTICE, {"title": "Meeting", "body": "x"}, other, scheme=scheme)
    with pytest.raises(content.ContentPermissionError):
        drafting.update_version(version, {"title": "Mine now", "body": "x"}, other)
    approval.submit_version(version, pat)
    with pytest.raises(content.ContentPermissionError):
        approval.approve_version(version, pat)
    approval.approve_version(version, make_admin())
    assert version.state == S.APPROVED


def test_four_eyes_follow_the_association_setting():
    from coordinator.settings import get_settings

    author = make_admin()
    make_admin()
    version = make_campaign(author, S.SUBMITTED)
    get_settings().is_four_eyes_required = False
    approval.approve_version(version, author)
    assert version.state == S.APPROVED
