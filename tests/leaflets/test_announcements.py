"""Telling the coordinators: one email when a campaign opens (or a weekly digest, or none, as each account says),
through the transactional outbox, with links to each of their schemes' builder for it; audited, and sent once."""

from __future__ import annotations

from datetime import datetime
from unittest import mock

from sqlalchemy import func, select

from coordinator.audit.models import AuditEntry
from coordinator.content.models import ContentKind
from coordinator.extensions import db
from coordinator.leaflets import announcements
from coordinator.leaflets.announcements import announce_campaign, announcements_due, send_weekly_digest
from coordinator.mail import OutgoingMail
from tests.factories import make_coordinated_scheme, make_user
from tests.factories.leaflets import current, load_starter
from tests.helpers.web import login_as, post_form

HOSTILE = '<script>alert(1)</script>'


def mails(kind: str) -> list[OutgoingMail]:
    return list(db.session.scalars(select(OutgoingMail).where(OutgoingMail.kind == kind).order_by(OutgoingMail.id)))


def test_when_a_yearly_window_opens_each_coordinator_gets_one_email_with_their_schemes_builders():
    load_starter(with_windows=True)
    pat = make_user(name="Pat " + HOSTILE)
    make_coordinated_scheme("Bickley Park", coordinator=pat)
    make_coordinated_scheme("Hayes Lane", coordinator=pat)
    weekly = make_user(name="Weekly Wendy")
    weekly.campaign_emails = "weekly"
    make_coordinated_scheme("Elsewhere", coordinator=weekly)
    gone = make_user(name="Gone", active=False)
    make_coordinated_scheme("Gone Road", coordinator=gone)
    db.session.commit()
    its_not_ok = current(ContentKind.CAMPAIGN, "its-not-ok")

    # Only the clock is set (the UK hour the sweep reads); the mail, the outbox and the database are real.
    opening = datetime(2027, 2, 1, 9, 0, tzinfo=announcements.LOCAL_TIME)
    with mock.patch.object(announcements, "_local_now", return_value=opening):
        due = announcements_due()
    assert (announce_campaign, (its_not_ok.item_id, "2027-02-01")) in due
    assert announce_campaign(its_not_ok.item_id, "2027-02-01") == 1
    assert announce_campaign(its_not_ok.item_id, "2027-02-01") == 0  # once, however often asked
    (message,) = mails("campaign_opened")
    assert message.to_address == pat.email and "A campaign opens today: #ITSNOTOK" in message.subject
    assert "/leaflets/schemes/" in message.text_body and "campaign=its-not-ok" in message.text_body
    assert "Bickley Park" in message.text_body and "Hayes Lane" in message.text_body
    assert "Every year, 1 February to 14 February" in message.text_body
    assert "<script>" not in message.html_body and "&lt;script&gt;" in message.html_body
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "leaflets.campaign_announced"))
    assert entry.details["recipients"] == 1
    # Not on another day of the window, and not before the hour.
    assert announce_campaign(its_not_ok.item_id, "2027-02-02") == 0
    with mock.patch.object(announcements, "_local_now", return_value=opening.replace(hour=5)):
        assert announcements_due() == []

    # The Monday after: the weekly digest for those who chose it.
    assert send_weekly_digest("2027-02-08") == 1
    (digest,) = mails("campaign_digest")
    assert digest.to_address == weekly.email and "#ITSNOTOK" in digest.text_body and "Elsewhere" in digest.text_body
    assert send_weekly_digest("2027-02-08") == 0
    assert db.session.scalar(select(func.count()).select_from(OutgoingMail)) == 2


def test_a_coordinator_chooses_their_campaign_emails_on_their_account_page(client):
    pat = make_user()
    make_coordinated_scheme(coordinator=pat)
    db.session.commit()
    login_as(client, pat)
    page = client.get("/account/").get_data(as_text=True)
    assert "Campaign emails" in page and 'value="each"' in page and "checked" in page
    response = post_form(client, "/account/campaign-emails", {"campaign_emails": "none"}, page="/account/")
    assert response.status_code == 302
    assert db.session.get(type(pat), pat.id).campaign_emails == "none"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "auth.campaign_emails_changed"))
    assert entry.details == {"before": "each", "after": "none"}
    response = post_form(client, "/account/campaign-emails", {"campaign_emails": "daily"}, page="/account/")
    assert response.status_code == 200 and "Choose one of the campaign email options." in response.get_data(as_text=True)


def test_the_sweep_asks_for_a_digest_only_after_a_week_with_openings():
    load_starter(with_windows=True)
    db.session.commit()
    quiet_monday = datetime(2027, 1, 11, 9, 0, tzinfo=announcements.LOCAL_TIME)
    with mock.patch.object(announcements, "_local_now", return_value=quiet_monday):
        assert announcements_due() == []
    monday_after = datetime(2027, 2, 8, 9, 0, tzinfo=announcements.LOCAL_TIME)
    with mock.patch.object(announcements, "_local_now", return_value=monday_after):
        assert announcements_due() == [(send_weekly_digest, ("2027-02-08",))]
