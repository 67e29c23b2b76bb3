"""A resident's data without HTTP: export, erasure, and the expiry of unconfirmed sign-ups."""

from __future__ import annotations

import json
from datetime import timedelta

from freezegun import freeze_time
from sqlalchemy import func, select

from coordinator import jobs
from coordinator.audit.models import AuditEntry
from coordinator.bulletins import subscriber_data, subscribers
from coordinator.bulletins.models import Subscriber, SubscriberStatus
from coordinator.db import utcnow
from coordinator.extensions import db
from coordinator.mail import MailStatus, OutgoingMail, deliver_queued_mail
from tests.bulletins.helpers import everything_stored, mail_to, subscribers_of
from tests.factories import make_subscriber

Status = SubscriberStatus


# --- export and erasure ------------------------------------------------------------------------------------------


def test_export_holds_the_consent_record_and_is_audited(two_schemes):
    s = two_schemes
    subscribers.sign_up(s.scheme_a, "robin@example.net", "Robin Ash", str(s.street_a.id))
    db.session.commit()
    deliver_queued_mail()
    subscriber = subscribers_of(s.scheme_a)[0]
    subscribers.confirm_subscription(subscriber)
    db.session.commit()
    data = subscriber_data.export_subscriber(subscriber, actor=s.coordinator_a)
    db.session.commit()
    json.dumps(data)  # plain JSON values only
    assert data["subscriber"]["email"] == "robin@example.net"
    assert data["subscriber"]["street"]["name"] == "Hayes Lane"
    assert data["consent"]["method"] == "web form"
    assert data["consent"]["wording"] == subscribers.consent_wording(s.scheme_a)
    assert data["consent"]["consented_at"] and data["consent"]["confirmed_at"]
    assert [m["status"] for m in data["emails_sent"]] == ["sent"]
    assert [h["action"] for h in data["history"]] == ["subscribers.signed_up", "subscribers.confirmed"]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "subscribers.exported"))
    assert entry.actor_id == s.coordinator_a.id and entry.object_id == str(subscriber.id)


def test_erasing_removes_the_address_everywhere_and_keeps_the_counts(app, two_schemes):
    s = two_schemes
    make_subscriber(s.scheme_a)
    with app.test_request_context(environ_base={"REMOTE_ADDR": "203.0.113.77"}):
        subscribers.sign_up(s.scheme_a, "forget.me@example.net", "Forget Me Please", str(s.street_a.id))
    db.session.commit()
    deliver_queued_mail()
    subscriber = db.session.scalar(select(Subscriber).where(Subscriber.email == "forget.me@example.net"))
    subscribers.confirm_subscription(subscriber)
    db.session.commit()
    before = subscribers.count_subscribers(s.scheme_a)
    assert "forget.me@example.net" in everything_stored() and "203.0.113.77" in everything_stored()

    assert subscriber_data.erase_subscriber(subscriber, actor=s.coordinator_a) is True
    db.session.commit()
    after = subscribers.count_subscribers(s.scheme_a)
    assert after.total == before.total == 2
    assert (before.confirmed, before.erased) == (2, 0) and (after.confirmed, after.erased) == (1, 1)
    stored = everything_stored()
    for trace in ("forget.me@example.net", "Forget Me Please", "203.0.113.77"):
        assert trace not in stored, trace
    assert subscriber.email == f"erased-{subscriber.id}@invalid" and subscriber.name == ""
    assert subscriber.erased_at is not None and subscriber.street_id == s.street_a.id
    assert subscriber.consent_wording  # the association's own words are kept
    assert subscriber not in subscribers.recipients_for(s.scheme_a)
    assert subscriber_data.erase_subscriber(subscriber, actor=s.coordinator_a) is False
    assert db.session.scalar(select(func.count()).where(AuditEntry.action == "subscribers.erased")) == 1


def test_erasing_cancels_unsent_requests_unless_another_scheme_awaits_the_same_person(two_schemes):
    s = two_schemes
    with jobs.held():  # the requests stay unsent, as they are until the job runs
        subscribers.sign_up(s.scheme_a, "both@example.net")
        subscribers.sign_up(s.scheme_b, "both@example.net")
        db.session.commit()
    in_a, in_b = subscribers_of(s.scheme_a)[0], subscribers_of(s.scheme_b)[0]
    subscriber_data.erase_subscriber(in_a, actor=None)
    db.session.commit()
    # Scheme B still holds the address and is waiting for the same person to confirm: queued requests to it
    # may be B's, so they are left alone (A's own one would only carry a link that no longer works).
    assert [row.status for row in mail_to("both@example.net")] == [MailStatus.QUEUED, MailStatus.QUEUED]
    assert subscribers.recipients_for(s.scheme_a) == []
    subscriber_data.erase_subscriber(in_b, actor=None)
    db.session.commit()
    assert mail_to("both@example.net") == []
    assert {m.status for m in db.session.scalars(select(OutgoingMail))} == {MailStatus.FAILED}


# --- expiry of unconfirmed sign-ups ------------------------------------------------------------------------------


def test_unconfirmed_sign_ups_expire_and_leave_no_address(two_schemes):
    s = two_schemes
    start = utcnow()
    with freeze_time(start):
        subscribers.sign_up(s.scheme_a, "never@example.net")
        came_back = make_subscriber(s.scheme_a, "came.back@example.net", status=Status.UNSUBSCRIBED, confirmed_at=start)
        db.session.commit()
        with freeze_time(start + timedelta(hours=1)):
            subscribers.sign_up(s.scheme_a, "came.back@example.net")
        confirmed = make_subscriber(s.scheme_a, "fine@example.net")
        db.session.commit()
    with freeze_time(start + timedelta(days=3)):
        subscribers.sign_up(s.scheme_a, "fresh@example.net")
        db.session.commit()
    with freeze_time(start + timedelta(days=8)):
        assert subscriber_data.expire_unconfirmed() == 2
        db.session.commit()
    emails = {sub.email: sub.status for sub in subscribers_of(s.scheme_a)}
    assert emails == {"came.back@example.net": Status.UNSUBSCRIBED, "fine@example.net": Status.CONFIRMED,
                      "fresh@example.net": Status.PENDING}
    assert "never@example.net" not in everything_stored()
    assert confirmed.status == Status.CONFIRMED and came_back.status == Status.UNSUBSCRIBED
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "subscribers.expired"))
    assert entry.details == {"count": 2} and entry.actor_label == "system"
