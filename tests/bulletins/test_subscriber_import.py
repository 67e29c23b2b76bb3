"""Importing existing members from a CSV without HTTP: all or nothing, each address asked to confirm."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from coordinator.audit.models import AuditEntry
from coordinator.bulletins import subscriber_import, subscribers
from coordinator.bulletins.models import Subscriber, SubscriberStatus
from coordinator.extensions import db
from coordinator.mail import OutgoingMail
from tests.bulletins.helpers import csv_bytes, mail_to, subscribers_of, token_in
from tests.factories import make_street, make_subscriber

Status = SubscriberStatus


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
    report = subscriber_import.import_subscribers(s.scheme_a, data, actor=s.coordinator_a)
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
    report = subscriber_import.import_subscribers(s.scheme_a, csv_bytes("member@example.net"), actor=None)
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
    report = subscriber_import.import_subscribers(s.scheme_a, data, actor=s.coordinator_a)
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
    report = subscriber_import.import_subscribers(s.scheme_a, csv_bytes("a@example.net,,Hayes Lane"), actor=None)
    assert not report.ok
    assert "write it with its postcode, like Hayes Lane (BR2 9E" in report.rows[0].problems[0]
    report = subscriber_import.import_subscribers(s.scheme_a, csv_bytes("a@example.net,,Hayes Lane (BR2 9EB)"), actor=None)
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
    report = subscriber_import.import_subscribers(two_schemes.scheme_a, data, actor=None)
    assert not report.ok
    assert message in " ".join(report.file_problems)
    assert report.lines()[-1] == "Nothing was imported: the file cannot be read."
    assert subscribers_of(two_schemes.scheme_a) == []
