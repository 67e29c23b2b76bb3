"""Helpline review, what leaflets and bulletins may use, campaign windows and local notices per scheme."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from coordinator.audit.models import AuditEntry
from coordinator.content import approval, comparison, drafting
from coordinator.content import services as content
from coordinator.content.models import ContentKind, VersionState
from coordinator.extensions import db
from tests.factories import (
    campaign_fields,
    helpline_fields,
    make_admin,
    make_campaign,
    make_helpline,
    make_helpline_set,
    make_notice,
    make_scheme,
    make_user,
    settle,
)

S = VersionState
R = content.ReviewStatus


def test_a_new_helpline_must_be_verified_before_use():
    helpline = make_helpline()
    review = content.helpline_review(helpline)
    assert review.status == R.UNVERIFIED and review.status.label == "verify before use"
    assert not review.is_usable


def test_reverifying_is_one_step_that_records_who_and_when_without_a_new_version():
    admin = make_admin(name="Vera Verifier")
    helpline = make_helpline()
    check = content.reverify_helpline(helpline.item, admin, on=date(2026, 11, 24))
    assert (check.checked_on, check.checked_by, check.checked_by_label) == (date(2026, 11, 24), admin, "Vera Verifier")
    assert len(helpline.item.versions) == 1
    review = content.helpline_review(helpline, on=date(2026, 11, 24))
    assert review.status == R.OK and review.checked_by == "Vera Verifier"
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "content.helpline_verified")).one()
    assert entry.actor_id == admin.id


def test_only_admins_verify_helplines():
    with pytest.raises(content.ContentPermissionError):
        content.reverify_helpline(make_helpline().item, make_user())


@pytest.mark.parametrize(
    "on, status",
    [
        (date(2026, 1, 31), R.OK),
        (date(2026, 7, 30), R.OK),  # the day before six months have passed
        (date(2026, 7, 31), R.DUE),
        (date(2026, 8, 29), R.DUE),  # the 29th day of the 30-day grace period
        (date(2026, 8, 30), R.OVERDUE),
    ],
)
def test_review_falls_due_after_the_interval_and_overdue_after_the_grace_period(on, status):
    helpline = make_helpline()
    content.reverify_helpline(helpline.item, make_admin(), on=date(2026, 1, 31))
    review = content.helpline_review(helpline, on=on)
    assert review.status == status
    assert review.due_on == date(2026, 7, 31) and review.left_out_from == date(2026, 8, 30)


def test_the_grace_period_is_one_setting(monkeypatch):
    helpline = make_helpline(review_interval_months=1)
    content.reverify_helpline(helpline.item, make_admin(), on=date(2026, 1, 1))
    assert content.helpline_review(helpline, on=date(2026, 2, 5)).status == R.DUE
    monkeypatch.setattr(content, "review_grace_days", lambda: 3)
    assert content.helpline_review(helpline, on=date(2026, 2, 5)).status == R.OVERDUE


def test_a_changed_number_needs_verifying_again_but_other_edits_do_not():
    author, approver = make_admin(), make_admin()
    helpline = make_helpline(author, approver=approver, number="0808 802 4040")
    content.reverify_helpline(helpline.item, approver, on=date(2026, 11, 1))
    hours = drafting.edit_item(helpline.item, helpline_fields(title=helpline.title, opening_hours="9 to 5"), author)
    settle(hours, S.APPROVED, author, approver)
    assert content.helpline_review(hours, on=date(2026, 11, 2)).status == R.OK
    moved = drafting.edit_item(helpline.item, helpline_fields(number="0808 801 0327"), author)
    settle(moved, S.APPROVED, author, approver)
    assert content.helpline_review(moved, on=date(2026, 11, 2)).status == R.UNVERIFIED


def test_usable_helplines_leave_out_overdue_and_unverified_ones_with_reasons():
    admin = make_admin()
    fresh, due, overdue, unverified = (make_helpline(title=t) for t in ("Fresh", "Due", "Overdue", "Unverified"))
    content.reverify_helpline(fresh.item, admin, on=date(2026, 11, 1))
    content.reverify_helpline(due.item, admin, on=date(2026, 5, 10))
    content.reverify_helpline(overdue.item, admin, on=date(2026, 1, 1))
    retired = make_helpline(title="Gone")
    set_version = make_helpline_set([fresh, unverified, due, overdue, retired])
    approval.retire_item(retired.item, admin)
    usable, left_out = content.usable_helplines(set_version, on=date(2026, 11, 24))
    assert [v.title for v in usable] == ["Fresh", "Due"]
    reasons = {row.title: row.reason for row in left_out}
    assert list(reasons) == ["Unverified", "Overdue", "Gone"]
    assert "verify before use" in reasons["Unverified"]
    assert "overdue" in reasons["Overdue"] and "1 January 2026" in reasons["Overdue"]
    assert "no approved version" in reasons["Gone"]


def test_a_set_follows_each_helplines_current_approved_version_but_pins_the_order():
    author, approver = make_admin(), make_admin()
    first, second = make_helpline(title="First"), make_helpline(title="Second")
    for h in (first, second):
        content.reverify_helpline(h.item, approver, on=date(2026, 11, 1))
    set_version = make_helpline_set([second, first])
    newer = drafting.edit_item(first.item, helpline_fields(title="First, renamed", number="0808 802 4040"), author)
    settle(newer, S.APPROVED, author, approver)
    usable, _ = content.usable_helplines(set_version, on=date(2026, 11, 24))
    assert [v.title for v in usable] == ["Second", "First, renamed"]


def test_helplines_needing_review_lists_overdue_then_due_then_unverified():
    admin = make_admin()
    ok, due, overdue, _unverified = (make_helpline(title=t) for t in ("Ok", "Due", "Overdue", "Unverified"))
    content.reverify_helpline(ok.item, admin, on=date(2026, 11, 1))
    content.reverify_helpline(due.item, admin, on=date(2026, 5, 10))
    content.reverify_helpline(overdue.item, admin, on=date(2026, 1, 1))
    rows = content.helplines_needing_review(on=date(2026, 11, 24))
    assert [(v.title, r.status) for v, r in rows] == [("Overdue", R.OVERDUE), ("Due", R.DUE),
                                                      ("Unverified", R.UNVERIFIED)]


def test_campaign_windows():
    on = date(2026, 11, 24)
    year_round = make_campaign(title="Year round")
    running = make_campaign(title="Running", first_day="2026-11-01", last_day="2026-11-30")
    upcoming = make_campaign(title="Upcoming", first_day="2026-12-01")
    ended = make_campaign(title="Ended", first_day="2018-02-04", last_day="2018-02-10")
    draft = make_campaign(title="Draft only", state=S.DRAFT)
    assert content.campaign_status(ended, on) == content.CampaignStatus.ENDED
    assert content.current_campaigns(on) == [running, year_round]
    assert content.upcoming_campaigns(on) == [upcoming]
    assert draft not in content.approved_campaigns()
    # The window's edges are inside it.
    assert content.campaign_status(running, date(2026, 11, 1)) == content.CampaignStatus.CURRENT
    assert content.campaign_status(running, date(2026, 11, 30)) == content.CampaignStatus.CURRENT


def test_current_campaigns_use_the_latest_approved_version_only():
    author, approver = make_admin(), make_admin()
    first = make_campaign(author, approver=approver, title="Old words")
    draft = drafting.edit_item(first.item, campaign_fields(title="New words, not approved"), author)
    assert content.current_campaigns() == [first]
    settle(draft, S.APPROVED, author, approver)
    assert content.current_campaigns() == [draft]
    assert content.get_version(first.id, ContentKind.CAMPAIGN) is first
    assert content.get_version(first.id, ContentKind.HELPLINE) is None


def test_local_notices_are_offered_only_to_their_own_scheme():
    pat, lukasz = make_user(), make_user()
    hayes, chislehurst = make_scheme(coordinators=[pat]), make_scheme(coordinators=[lukasz])
    approved = make_notice(hayes, pat, title="Hayes meeting")
    make_notice(hayes, pat, state=S.SUBMITTED, title="Waiting")
    other = make_notice(chislehurst, lukasz, title="Chislehurst meeting")
    assert content.local_notices_for_scheme(hayes) == [approved]
    assert content.local_notices_for_scheme(chislehurst) == [other]
    assert content.can_see(approved.item, pat) and not content.can_see(approved.item, lukasz)


def test_library_filters_by_kind_and_state():
    make_campaign(title="Approved one")
    make_campaign(title="Waiting one", state=S.SUBMITTED)
    make_helpline(title="Draft line", state=S.DRAFT)
    assert [i.title for i in content.library_items(ContentKind.CAMPAIGN)] == ["Approved one", "Waiting one"]
    assert [i.title for i in content.library_items(state=S.SUBMITTED)] == ["Waiting one"]
    assert [i.title for i in content.library_items(state=S.DRAFT)] == ["Draft line"]


def test_review_comparison_marks_removed_and_added_words():
    author, approver = make_admin(), make_admin()
    first = make_campaign(author, approver=approver, summary="Lock your doors at night.")
    draft = drafting.edit_item(first.item, campaign_fields(title=first.title, summary="Lock your windows at night."),
                              author)
    changes = {c.label: c for c in comparison.compare_versions(first, draft)}
    summary = changes["Summary"]
    assert summary.is_changed
    assert ("del", "doors") in summary.old and ("ins", "windows") in summary.new
    assert not changes["Title"].is_changed


def test_grace_period_and_default_interval_follow_the_association_settings():
    from coordinator.settings import get_settings

    settings = get_settings()
    settings.helpline_review_months, settings.helpline_grace_days = 3, 10
    helpline = make_helpline()
    assert helpline.review_interval_months == 3
    content.reverify_helpline(helpline.item, make_admin(), on=date(2026, 1, 1))
    assert content.helpline_review(helpline, on=date(2026, 4, 10)).status == R.DUE
    assert content.helpline_review(helpline, on=date(2026, 4, 11)).status == R.OVERDUE


def test_plain_data_for_print_and_email_templates():
    admin = make_admin()
    campaign = make_campaign(body="## Lock up\n\n[Met](https://www.met.police.uk)",
                             web_address="www.met.police.uk")
    data = content.campaign_data(campaign)
    assert data["version_id"] == campaign.id and data["web_href"] == "https://www.met.police.uk"
    assert str(data["body_html"]).startswith("<h2>Lock up</h2>") and data["image"] is None
    good, unchecked = make_helpline(title="Good", number="0808 8024040"), make_helpline(title="Unchecked")
    content.reverify_helpline(good.item, admin)
    set_data = content.helpline_set_data(make_helpline_set([good, unchecked]))
    assert set_data["helplines"] == [{
        "version_id": good.id, "name": "Good", "number": "0808 802 4040", "tel_href": "tel:+448088024040",
        "opening_hours": "", "is_24_7": False, "who_for": "anyone who needs it", "web_address": "", "web_href": "",
        "is_free_to_call": True,
    }]
    assert set_data["left_out"] == [{"name": "Unchecked", "reason": "not yet verified by an admin: verify before use"}]
