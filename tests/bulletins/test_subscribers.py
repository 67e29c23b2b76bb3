"""Subscriber rules without HTTP: sign-up, confirmation and unsubscribe links, and who a bulletin goes to."""

from __future__ import annotations

from datetime import timedelta

import pytest
from freezegun import freeze_time
from itsdangerous import URLSafeSerializer
from sqlalchemy import func, select

from coordinator.audit.models import AuditEntry
from coordinator.bulletins import subscriber_data, subscribers
from coordinator.bulletins.models import SubscriberStatus
from coordinator.db import utcnow
from coordinator.extensions import db
from coordinator.mail import OutgoingMail
from tests.bulletins.helpers import mail_to, subscribers_of, token_in
from tests.factories import make_street, make_subscriber

Status = SubscriberStatus


# --- sign-up -----------------------------------------------------------------------------------------------------


def test_sign_up_stores_the_consent_record_and_queues_one_confirmation(two_schemes):
    s = two_schemes
    subscribers.sign_up(s.scheme_a, "  Robin.Ash@Example.ORG ", "  Robin   Ash ", str(s.street_a.id))
    db.session.commit()
    [subscriber] = subscribers_of(s.scheme_a)
    assert subscriber.email == "robin.ash@example.org"
    assert subscriber.name == "Robin Ash"
    assert subscriber.street_id == s.street_a.id
    assert subscriber.status == Status.PENDING
    assert subscriber.consent_method == "web form"
    assert subscriber.consent_wording == subscribers.consent_wording(s.scheme_a)
    assert "Hayes Lane Watch" in subscriber.consent_wording
    assert subscriber.consented_at is not None and subscriber.confirmed_at is None
    [row] = mail_to("robin.ash@example.org")
    assert row.kind == "subscription_confirm" and row.to_name == "Robin Ash"
    assert "Hayes Lane Watch" in row.subject
    assert "http://127.0.0.1:5000/join/confirm/" in row.text_body
    assert subscriber.consent_wording in row.text_body
    assert subscribers.recipients_for(s.scheme_a) == []  # pending receives no bulletin


def test_an_address_is_one_subscriber_whatever_its_case(two_schemes):
    s = two_schemes
    subscribers.sign_up(s.scheme_a, "Pat@Example.org")
    with freeze_time(utcnow() + timedelta(hours=1)):
        subscribers.sign_up(s.scheme_a, "pat@EXAMPLE.org")
    db.session.commit()
    assert [sub.email for sub in subscribers_of(s.scheme_a)] == ["pat@example.org"]
    # The same address may subscribe to another scheme on its own.
    subscribers.sign_up(s.scheme_b, "pat@example.org")
    assert len(subscribers_of(s.scheme_b)) == 1


def test_a_confirmed_address_gets_no_second_email_and_nothing_changes(two_schemes):
    s = two_schemes
    existing = make_subscriber(s.scheme_a, "known@example.net", name="Known Person", street=s.street_a)
    db.session.commit()
    subscribers.sign_up(s.scheme_a, "KNOWN@example.net", "Someone Else", "")
    db.session.commit()
    db.session.refresh(existing)
    assert existing.status == Status.CONFIRMED
    assert existing.name == "Known Person" and existing.street_id == s.street_a.id
    assert mail_to("known@example.net") == []


def test_asking_again_at_once_sends_nothing_and_later_sends_a_new_link(two_schemes):
    s = two_schemes
    subscribers.sign_up(s.scheme_a, "twice@example.net")
    subscribers.sign_up(s.scheme_a, "twice@example.net")
    db.session.commit()
    assert len(mail_to("twice@example.net")) == 1
    first_token = token_in(mail_to("twice@example.net")[0])
    with freeze_time(utcnow() + timedelta(minutes=11)):
        subscribers.sign_up(s.scheme_a, "twice@example.net")
        db.session.commit()
        rows = mail_to("twice@example.net")
        assert len(rows) == 2
        # Only the newest link works.
        with pytest.raises(subscribers.LinkError, match="already been used"):
            subscribers.subscriber_for_confirmation(first_token)
        assert subscribers.subscriber_for_confirmation(token_in(rows[1])).email == "twice@example.net"


def test_someone_who_left_can_ask_again_and_is_pending_until_they_confirm(two_schemes):
    s = two_schemes
    left = make_subscriber(s.scheme_a, "left@example.net", status=Status.UNSUBSCRIBED)
    db.session.commit()
    subscribers.sign_up(s.scheme_a, "left@example.net")
    db.session.commit()
    assert left.status == Status.PENDING
    assert len(mail_to("left@example.net")) == 1
    assert subscribers.recipients_for(s.scheme_a) == []


@pytest.mark.parametrize("email", ["", "not-an-address", "pat@", "@example.org", "pat@@example.org",
                                   "Pat <pat@example.org>", "pat@example.org\r\nBcc: x@example.org",
                                   "a" * 250 + "@example.org"])
def test_a_malformed_address_is_refused_at_the_field(two_schemes, email):
    with pytest.raises(subscribers.SubscriberProblems) as caught:
        subscribers.sign_up(two_schemes.scheme_a, email)
    assert list(caught.value.errors) == ["email"]
    assert subscribers_of(two_schemes.scheme_a) == []
    assert db.session.scalar(select(func.count()).select_from(OutgoingMail)) == 0


def test_a_street_of_another_scheme_or_a_bad_name_is_refused(two_schemes):
    s = two_schemes
    with pytest.raises(subscribers.SubscriberProblems) as caught:
        subscribers.sign_up(s.scheme_a, "pat@example.org", "=HYPERLINK(\"x\")", str(s.street_b.id))
    assert set(caught.value.errors) == {"name", "street"}
    for street_id in ("99999999999999999999", "abc", "-1"):
        with pytest.raises(subscribers.SubscriberProblems):
            subscribers.sign_up(s.scheme_a, "pat@example.org", "", street_id)
    assert subscribers_of(s.scheme_a) == []


# --- confirmation links ------------------------------------------------------------------------------------------


def test_confirming_by_the_link_makes_a_recipient_once(two_schemes):
    s = two_schemes
    subscribers.sign_up(s.scheme_a, "robin@example.net")
    db.session.commit()
    token = token_in(mail_to("robin@example.net")[0])
    subscriber = subscribers.subscriber_for_confirmation(token)
    subscribers.confirm_subscription(subscriber)
    db.session.commit()
    assert subscriber.status == Status.CONFIRMED and subscriber.confirmed_at is not None
    assert subscribers.recipients_for(s.scheme_a) == [subscriber]
    with pytest.raises(subscribers.LinkError, match="already been used"):
        subscribers.subscriber_for_confirmation(token)
    # After unsubscribing, the old link must never bring them back.
    subscribers.unsubscribe(subscriber)
    with pytest.raises(subscribers.LinkError):
        subscribers.subscriber_for_confirmation(token)


def test_a_confirmation_link_expires_after_seven_days(two_schemes):
    s = two_schemes
    start = utcnow()
    with freeze_time(start):
        subscribers.sign_up(s.scheme_a, "slow@example.net")
        db.session.commit()
        token = token_in(mail_to("slow@example.net")[0])
    with freeze_time(start + timedelta(days=6, hours=23)):
        assert subscribers.subscriber_for_confirmation(token).email == "slow@example.net"
    with freeze_time(start + timedelta(days=7, minutes=1)):
        with pytest.raises(subscribers.LinkError, match="expired") as caught:
            subscribers.subscriber_for_confirmation(token)
        assert caught.value.scheme == s.scheme_a  # the page can offer to sign up again


def test_a_forged_or_foreign_confirmation_link_is_refused(app, two_schemes):
    s = two_schemes
    subscribers.sign_up(s.scheme_a, "robin@example.net")
    db.session.commit()
    token = token_in(mail_to("robin@example.net")[0])
    subscriber = subscribers_of(s.scheme_a)[0]
    forged = [
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        "not-a-token",
        # Signed with the right key but for the unsubscribe purpose: another salt, so refused.
        subscribers.make_unsubscribe_token(subscriber),
        # Signed with another key.
        URLSafeSerializer("another-secret", salt="coordinator.subscriber-confirm").dumps({"s": subscriber.id}),
    ]
    for bad in forged:
        with pytest.raises(subscribers.LinkError, match="not valid"):
            subscribers.subscriber_for_confirmation(bad)


# --- unsubscribing -----------------------------------------------------------------------------------------------


def test_unsubscribe_links_never_expire_and_are_bound_to_one_subscriber(app, two_schemes):
    s = two_schemes
    subscriber = make_subscriber(s.scheme_a, "reader@example.net")
    db.session.commit()
    url = subscribers.unsubscribe_url(subscriber)
    assert url.startswith("http://127.0.0.1:5000/unsubscribe/")
    token = url.rsplit("/", 1)[1]
    with freeze_time(utcnow() + timedelta(days=5 * 365)):
        assert subscribers.subscriber_for_unsubscribe(token) is subscriber
    # A token naming the right subscriber but another scheme is refused.
    wrong_scheme = URLSafeSerializer(app.config["SECRET_KEY"], salt="coordinator.subscriber-unsubscribe").dumps(
        {"s": subscriber.id, "k": s.scheme_b.id}
    )
    with pytest.raises(subscribers.LinkError):
        subscribers.subscriber_for_unsubscribe(wrong_scheme)
    with pytest.raises(subscribers.LinkError):
        subscribers.subscriber_for_unsubscribe(token[:-3] + "xyz")
    headers = subscribers.unsubscribe_headers(subscriber)
    assert headers == {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def test_unsubscribing_is_audited_and_happens_once(two_schemes):
    s = two_schemes
    subscriber = make_subscriber(s.scheme_a)
    db.session.commit()
    assert subscribers.unsubscribe(subscriber, is_one_click=True) is True
    assert subscribers.unsubscribe(subscriber) is False
    db.session.commit()
    assert subscriber.status == Status.UNSUBSCRIBED and subscriber.unsubscribed_at is not None
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "subscribers.unsubscribed"))
    assert entry.details["method"] == "one-click" and entry.object_id == str(subscriber.id)


# --- recipients --------------------------------------------------------------------------------------------------


def test_recipients_are_only_confirmed_and_not_erased(two_schemes):
    s = two_schemes
    other_street = make_street(s.scheme_a, "Bourne Way", postcode="BR2 7EY")
    on_hayes = make_subscriber(s.scheme_a, "hayes@example.net", street=s.street_a)
    on_bourne = make_subscriber(s.scheme_a, "bourne@example.net", street=other_street)
    no_street = make_subscriber(s.scheme_a, "nostreet@example.net")
    for status in (Status.PENDING, Status.UNSUBSCRIBED, Status.BOUNCING):
        make_subscriber(s.scheme_a, f"{status.value}@example.net", status=status, street=s.street_a)
    erased = make_subscriber(s.scheme_a, "erased@example.net", street=s.street_a)
    subscriber_data.erase_subscriber(erased, actor=None)
    make_subscriber(s.scheme_b, "elsewhere@example.net", street=s.street_b)
    db.session.commit()

    assert subscribers.recipients_for(s.scheme_a) == [on_hayes, on_bourne, no_street]
    assert subscribers.recipients_for(s.scheme_a, street_ids=[s.street_a.id]) == [on_hayes]
    assert subscribers.recipients_for(s.scheme_a, street_ids=[s.street_a.id, other_street.id]) == [on_hayes, on_bourne]
    assert subscribers.recipients_for(s.scheme_a, street_ids=[]) == []
    # Another scheme's street names nobody of this scheme.
    assert subscribers.recipients_for(s.scheme_a, street_ids=[s.street_b.id]) == []
