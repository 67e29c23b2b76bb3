"""Subscriber rules without HTTP: sign-up, links, recipients, import, export, erasure and expiry."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from freezegun import freeze_time
from itsdangerous import URLSafeSerializer
from sqlalchemy import func, select

from coordinator.audit.models import AuditEntry
from coordinator.bulletins import services as subscribers
from coordinator.bulletins.models import Subscriber, SubscriberStatus
from coordinator.db import utcnow
from coordinator.extensions import db
from coordinator.mail import MailStatus, OutgoingMail, deliver_queued_mail
from tests.bulletins.conftest import csv_bytes, everything_stored, make_subscriber
from tests.factories import make_street

Status = SubscriberStatus


def mail_to(address: str) -> list[OutgoingMail]:
    return list(db.session.scalars(select(OutgoingMail).where(OutgoingMail.to_address == address)))


def subscribers_of(scheme) -> list[Subscriber]:
    return list(db.session.scalars(select(Subscriber).where(Subscriber.scheme_id == scheme.id).order_by(Subscriber.id)))


def token_in(row: OutgoingMail) -> str:
    return row.text_body.split("/join/confirm/", 1)[1].split()[0]


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
    subscribers.erase_subscriber(erased, actor=None)
    make_subscriber(s.scheme_b, "elsewhere@example.net", street=s.street_b)
    db.session.commit()

    assert subscribers.recipients_for(s.scheme_a) == [on_hayes, on_bourne, no_street]
    assert subscribers.recipients_for(s.scheme_a, street_ids=[s.street_a.id]) == [on_hayes]
    assert subscribers.recipients_for(s.scheme_a, street_ids=[s.street_a.id, other_street.id]) == [on_hayes, on_bourne]
    assert subscribers.recipients_for(s.scheme_a, street_ids=[]) == []
    # Another scheme's street names nobody of this scheme.
    assert subscribers.recipients_for(s.scheme_a, street_ids=[s.street_b.id]) == []


# --- export and erasure ------------------------------------------------------------------------------------------


def test_export_holds_the_consent_record_and_is_audited(two_schemes):
    s = two_schemes
    subscribers.sign_up(s.scheme_a, "robin@example.net", "Robin Ash", str(s.street_a.id))
    db.session.commit()
    deliver_queued_mail()
    subscriber = subscribers_of(s.scheme_a)[0]
    subscribers.confirm_subscription(subscriber)
    db.session.commit()
    data = subscribers.export_subscriber(subscriber, actor=s.coordinator_a)
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

    assert subscribers.erase_subscriber(subscriber, actor=s.coordinator_a) is True
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
    assert subscribers.erase_subscriber(subscriber, actor=s.coordinator_a) is False
    assert db.session.scalar(select(func.count()).where(AuditEntry.action == "subscribers.erased")) == 1


def test_erasing_cancels_unsent_requests_unless_another_scheme_awaits_the_same_person(two_schemes):
    s = two_schemes
    subscribers.sign_up(s.scheme_a, "both@example.net")
    subscribers.sign_up(s.scheme_b, "both@example.net")
    db.session.commit()
    in_a, in_b = subscribers_of(s.scheme_a)[0], subscribers_of(s.scheme_b)[0]
    subscribers.erase_subscriber(in_a, actor=None)
    db.session.commit()
    # Scheme B still holds the address and is waiting for the same person to confirm: queued requests to it
    # may be B's, so they are left alone (A's own one would only carry a link that no longer works).
    assert [row.status for row in mail_to("both@example.net")] == [MailStatus.QUEUED, MailStatus.QUEUED]
    assert subscribers.recipients_for(s.scheme_a) == []
    subscribers.erase_subscriber(in_b, actor=None)
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
        assert subscribers.expire_unconfirmed() == 2
        db.session.commit()
    emails = {sub.email: sub.status for sub in subscribers_of(s.scheme_a)}
    assert emails == {"came.back@example.net": Status.UNSUBSCRIBED, "fine@example.net": Status.CONFIRMED,
                      "fresh@example.net": Status.PENDING}
    assert "never@example.net" not in everything_stored()
    assert confirmed.status == Status.CONFIRMED and came_back.status == Status.UNSUBSCRIBED
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "subscribers.expired"))
    assert entry.details == {"count": 2} and entry.actor_label == "system"


# --- CSV import --------------------------------------------------------------------------------------------------


def test_import_adds_pending_addresses_each_asked_to_confirm(two_schemes):
    s = two_schemes
    make_subscriber(s.scheme_a, "already@example.net")
    db.session.commit()
    data = "\ufeff".encode() + csv_bytes(
        "Ann.Lee@Example.net,Ann Lée,Hayes Lane",
        "bob@example.net,,",
        "already@example.net,Already Here,",
        "ann.lee@example.net,Ann Again,",
        "carol@example.net,Carol,hayes lane (br2 9ea)",
    )
    report = subscribers.import_subscribers(s.scheme_a, data, actor=s.coordinator_a)
    assert report.ok, report.lines()
    db.session.commit()
    assert (report.added, report.already) == (3, 2)
    added = {sub.email: sub for sub in subscribers_of(s.scheme_a) if sub.status == Status.PENDING}
    assert set(added) == {"ann.lee@example.net", "bob@example.net", "carol@example.net"}
    assert added["ann.lee@example.net"].name == "Ann Lée" and added["ann.lee@example.net"].street_id == s.street_a.id
    assert added["carol@example.net"].street_id == s.street_a.id
    for subscriber in added.values():
        assert subscriber.consent_method == "imported by coordinator pat.okafor@example.org"
        assert subscriber.consented_at is None and subscriber.consent_wording
        [row] = mail_to(subscriber.email)
        assert "have added this address" in row.text_body
    assert mail_to("already@example.net") == []
    assert subscribers.recipients_for(s.scheme_a) == [db.session.scalar(
        select(Subscriber).where(Subscriber.email == "already@example.net"))]
    lines = report.lines()
    assert lines[0] == "Line 2: Ann.Lee@Example.net: added; a request to confirm is sent"
    assert lines[2] == "Line 4: already@example.net: already on the list (confirmed); left as it is"
    assert lines[3] == "Line 5: ann.lee@example.net: same address as line 2; added once"
    assert "Added 3 addresses" in lines[-1]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "subscribers.imported"))
    assert entry.details == {"count": 3, "already": 2} and entry.actor_id == s.coordinator_a.id


def test_an_imported_address_agrees_when_it_confirms(two_schemes):
    s = two_schemes
    report = subscribers.import_subscribers(s.scheme_a, csv_bytes("member@example.net"), actor=None)
    assert report.ok
    db.session.commit()
    [subscriber] = subscribers_of(s.scheme_a)
    assert subscriber.consent_method == "imported from the command line"
    token = token_in(mail_to("member@example.net")[0])
    subscribers.confirm_subscription(subscribers.subscriber_for_confirmation(token))
    assert subscriber.consented_at is not None and subscriber.consented_at == subscriber.confirmed_at
    assert subscribers.recipients_for(s.scheme_a) == [subscriber]


def test_a_file_with_any_bad_row_imports_nothing(two_schemes):
    s = two_schemes
    data = csv_bytes(
        "good@example.net,Good Person,Hayes Lane",
        "not-an-address,Bad Address,",
        ",No Address,",
        "=HYPERLINK(\"http://evil.example\"),Formula,",
        "formula@example.net,@SUM(A1:A2),",
        "nowhere@example.net,Lost,Nonexistent Road",
        "extra@example.net,Extra,,surplus",
    )
    report = subscribers.import_subscribers(s.scheme_a, data, actor=s.coordinator_a)
    assert not report.ok
    db.session.rollback()
    assert subscribers_of(s.scheme_a) == []
    assert db.session.scalar(select(func.count()).select_from(OutgoingMail)) == 0
    problems = {row.line: " ".join(row.problems) for row in report.rows}
    assert problems[2] == ""
    assert "right form" in problems[3]
    assert "missing" in problems[4]
    assert "formula" in problems[5]
    assert "formula" in problems[6]
    assert "no street called Nonexistent Road" in problems[7]
    assert "more cells" in problems[8]
    lines = report.lines()
    assert lines[0] == "Line 2: good@example.net: OK"
    assert lines[-1].startswith("Nothing was imported: 6 of 7 rows have problems")


def test_two_streets_with_one_name_need_the_postcode(two_schemes):
    s = two_schemes
    make_street(s.scheme_a, "Hayes Lane", postcode="BR2 9EB")
    db.session.commit()
    report = subscribers.import_subscribers(s.scheme_a, csv_bytes("a@example.net,,Hayes Lane"), actor=None)
    assert not report.ok
    assert "write it with its postcode, like Hayes Lane (BR2 9E" in report.rows[0].problems[0]
    report = subscribers.import_subscribers(s.scheme_a, csv_bytes("a@example.net,,Hayes Lane (BR2 9EB)"), actor=None)
    assert report.ok
    assert subscribers_of(s.scheme_a)[0].street.postcode == "BR2 9EB"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("email,name\r\nann@example.net,Ann Lée\r\n".encode("latin-1"), "not UTF-8"),
        (b"ann@example.net,Ann\r\nbob@example.net,Bob\r\n", "must be the header"),
        (b"name,street\r\nAnn,Hayes Lane\r\n", "Missing: email"),
        (b"email,name,street\r\n", "no addresses"),
        (b"", "empty"),
        (b"email\r\n\x00\x01\x02", "binary"),
    ],
    ids=["latin-1", "no-header", "no-email-column", "header-only", "empty", "binary"],
)
def test_a_file_that_cannot_be_read_is_refused_whole(two_schemes, data, message):
    report = subscribers.import_subscribers(two_schemes.scheme_a, data, actor=None)
    assert not report.ok
    assert message in " ".join(report.file_problems)
    assert report.lines()[-1] == "Nothing was imported: the file cannot be read."
    assert subscribers_of(two_schemes.scheme_a) == []


def test_find_scheme_by_name_for_the_command_line(two_schemes):
    assert subscribers.find_scheme_by_name("hayes lane WATCH") == two_schemes.scheme_a
    assert subscribers.find_scheme_by_name("secret-close-watch") == two_schemes.scheme_b
    assert subscribers.find_scheme_by_name("Nowhere Watch") is None
