"""Hostile subjects and names never change an email's headers: read back from a real SMTP server (aiosmtpd).

Each message is parsed from the bytes the server received, with the email package's default policy: it has
exactly the headers the app meant, one From mailbox and one To mailbox, and every text reads as typed.
"""

from __future__ import annotations

import email
from email import policy

import pytest
from sqlalchemy import select, update

from coordinator import jobs
from coordinator.bulletins import approval, subscriber_import, subscribers
from coordinator.bulletins.models import (
    Bulletin,
    BulletinDelivery,
    BulletinState,
    DeliveryState,
    Subscriber,
    SubscriberStatus,
)
from coordinator.bulletins.sending import bulletins_needing_a_job, send_bulletin
from coordinator.extensions import db
from coordinator.mail import MailStatus, OutgoingMail, deliver_queued_mail
from coordinator.settings import get_settings
from tests.bulletins.helpers import fast_sending
from tests.factories import make_bulletin, make_subscriber
from tests.helpers.web import login_as, post_form

# The issue's own example: decoded, it would end the header block and add a Reply-To.
INJECTING_SUBJECT = "=?utf-8?q?Hello=0D=0AReply-To:_x@evil.example=0D=0A=0D=0Abody?="
# A right-to-left override inside an encoded word, past the character checks.
OVERRIDE_SUBJECT = "=?utf-8?q?Call_=E2=80=AE0404_208_8080?="
HOSTILE_SCHEME_NAMES = [
    "Bickley, Sundridge and Plaistow Watch",
    'St. Mary\'s "Close" <Watch>, x@evil.example',
    "Zoë's Łukasz Close, Bromley",
    "=?utf-8?q?Hayes=0D=0ABcc:_everyone@evil.example?=",
]
HOSTILE_RESIDENT_NAMES = [
    "Robin Ash, second@evil.example",
    "Ash <second@evil.example>",
    'J. R. "Bob" Smith.',
    "Zoë Łukasz, 王",
    "=?utf-8?q?Robin=0D=0ABcc:_victim@evil.example?=",
    "=?utf-8?q?a=2C_b_=3Csecond=40evil.example=3E?=",
]
BULLETIN_HEADERS = {
    "From", "To", "Reply-To", "Subject", "Date", "Message-ID", "List-Id", "List-Unsubscribe",
    "List-Unsubscribe-Post", "MIME-Version", "Content-Type", "Content-Language",
}


def received(smtp_server) -> list[tuple[tuple[str, ...], email.message.EmailMessage]]:
    """(envelope recipients, message parsed from the exact bytes received), for every message."""
    return [(rcpt, email.message_from_bytes(data, policy=policy.default)) for rcpt, data in smtp_server.raw_messages()]


def only_mailbox(header) -> tuple[str, str]:
    """(display name, address) of a header that must hold one mailbox and nothing else."""
    assert len(header.groups) == 1 and len(header.addresses) == 1, str(header)
    return header.addresses[0].display_name, header.addresses[0].addr_spec


@pytest.mark.parametrize("scheme_name", HOSTILE_SCHEME_NAMES)
@pytest.mark.parametrize("subject", [INJECTING_SUBJECT, OVERRIDE_SUBJECT, "Zoë's list, the 3rd. <Read it>"])
def test_a_bulletin_has_exactly_the_headers_meant_whatever_its_subject_and_names(world, smtp_server, subject,
                                                                               scheme_name):
    fast_sending()
    scheme = world.s.scheme_a
    scheme.name = scheme_name  # as if stored before any check: the message must hold whatever is stored
    scheme.contact_email = "hayes.watch@example.org"
    get_settings().sender_address = "bulletins@bromley-watch.example.org"
    residents = [
        make_subscriber(scheme, email=f"resident{n}@example.net", name=name)
        for n, name in enumerate(HOSTILE_RESIDENT_NAMES)
    ]
    bulletin = make_bulletin(world)
    bulletin.subject = subject
    with jobs.held():  # the test runs the sending job itself
        approval.queue_bulletin(bulletin, world.s.coordinator_a)
        db.session.commit()

    assert send_bulletin(bulletin.id) == len(residents)

    messages = received(smtp_server)
    assert len(messages) == len(residents)
    association = get_settings().association_name
    for resident, (envelope, message) in zip(residents, sorted(messages, key=lambda m: m[0]), strict=True):
        assert envelope == (resident.email,)
        assert set(message.keys()) == BULLETIN_HEADERS and len(message.keys()) == len(BULLETIN_HEADERS)
        assert not message.defects
        assert only_mailbox(message["From"]) == (f"{scheme_name} via {association}",
                                                 "bulletins@bromley-watch.example.org")
        assert only_mailbox(message["To"]) == (resident.name, resident.email)
        assert only_mailbox(message["Reply-To"]) == ("", "hayes.watch@example.org")
        assert message["Subject"] == subject  # the characters typed, not what they would decode to
        assert "\u202e" not in message["Subject"] and "\r" not in message["Subject"]
        assert message["List-Id"].endswith(f"<{scheme.slug}.bulletins.bromley-watch.example.org>")
        assert message["List-Unsubscribe"] == f"<{subscribers.unsubscribe_url(resident)}>"
        assert message.get_content_type() == "multipart/alternative"
        assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]


def test_a_confirmation_request_has_exactly_the_headers_meant(app, world, smtp_server):
    scheme = world.s.scheme_a
    scheme.name = "=?utf-8?q?Hayes=0D=0ABcc:_everyone@evil.example?=, Bickley"
    app.config["MAIL_DEFAULT_SENDER"] = '"Bromley Watch, the association" <watch@bromley-watch.example.org>'
    db.session.execute(update(OutgoingMail).values(status=MailStatus.SENT))  # the approvals' emails to admins
    expected = {}
    with jobs.held():  # the test runs the delivery itself
        for n, name in enumerate(HOSTILE_RESIDENT_NAMES):
            subscriber = make_subscriber(scheme, email=f"joining{n}@example.net", name=name,
                                         status=SubscriberStatus.PENDING)
            subscribers.request_confirmation(subscriber)
            expected[subscriber.email] = name
        db.session.commit()

    assert deliver_queued_mail() == len(expected)

    messages = received(smtp_server)
    assert len(messages) == len(expected)
    for envelope, message in messages:
        [address] = envelope
        assert set(message.keys()) == {"From", "To", "Subject", "Date", "Message-ID", "Content-Language",
                                       "MIME-Version", "Content-Type"}
        assert len(message.keys()) == 8 and not message.defects
        assert only_mailbox(message["From"]) == ("Bromley Watch, the association", "watch@bromley-watch.example.org")
        assert only_mailbox(message["To"]) == (expected[address], address)
        assert message["Subject"] == f"Please confirm: email bulletins from {scheme.name}"
        assert message["Content-Language"] == "en-GB"  # the language of the resident's bulletins, English here
        assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]


def test_a_contact_address_no_mail_server_takes_fails_each_message_once_with_the_reason(client, world, smtp_server):
    fast_sending()
    scheme = world.s.scheme_a
    scheme.contact_email = "hayes.watch@"  # stored before the contact form checked it
    for n in range(3):
        make_subscriber(scheme, email=f"resident{n}@example.net")
    bulletin = make_bulletin(world)
    with jobs.held():  # the test runs the sending job itself
        approval.queue_bulletin(bulletin, world.s.coordinator_a)
        db.session.commit()

    assert send_bulletin(bulletin.id) == 0

    db.session.expire_all()
    rows = list(db.session.scalars(select(BulletinDelivery).where(BulletinDelivery.bulletin_id == bulletin.id)))
    assert [(row.state, row.attempts) for row in rows] == [(DeliveryState.FAILED, 1)] * 3
    assert all("contact email" in row.last_error and "hayes.watch@" in row.last_error for row in rows)
    assert bulletin.state == BulletinState.SENT and bulletin.failed_count == 3
    # Nothing is left for a sweep to try again, and the bulletin's page still opens.
    assert bulletin.id not in bulletins_needing_a_job()
    assert send_bulletin(bulletin.id) == 0 and smtp_server.count() == 0
    login_as(client, world.s.coordinator_a)
    assert client.get(f"/schemes/{scheme.id}/bulletins/{bulletin.id}").status_code == 200


def test_a_transactional_message_that_cannot_be_built_fails_once_with_the_reason(world, smtp_server):
    db.session.execute(update(OutgoingMail).values(status=MailStatus.SENT))  # the approvals' emails to admins
    subscriber = make_subscriber(world.s.scheme_a, status=SubscriberStatus.PENDING)
    row = subscribers.request_confirmation(subscriber)
    row.to_address = "robin@"  # as if stored some other way
    db.session.commit()

    assert deliver_queued_mail() == 0
    assert deliver_queued_mail() == 0

    db.session.expire_all()
    row = db.session.get(OutgoingMail, row.id)
    assert (row.status, row.attempts) == (MailStatus.FAILED, 1)
    assert row.last_error.startswith("not sent: 'robin@'")
    assert smtp_server.count() == 0


# --- Where the text is typed -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("subject", "words"), [
    (INJECTING_SUBJECT, "contains mail code like =?utf-8?q?...?= that hides a line break"),
    (OVERRIDE_SUBJECT, "contains mail code like =?utf-8?q?...?= that hides a line break"),
    ("=?utf-8?q?Doorstep_scams?=", "contains mail code like =?utf-8?q?...?=. Type the words themselves"),
    ("Call \u202e0404 208 8080", "must be one line, without line breaks, invisible characters"),
    ("Doorstep\u2066 scams", "must be one line, without line breaks, invisible characters"),
])
def test_the_compose_form_refuses_mail_code_and_invisible_characters_in_a_subject(client, world, subject, words):
    from tests.bulletins.helpers import compose_values

    login_as(client, world.s.coordinator_a)
    response = post_form(client, f"/schemes/{world.s.scheme_a.id}/bulletins/new",
                         compose_values(world, subject=subject))
    assert response.status_code == 200
    assert f"The subject {words}" in response.get_data(as_text=True)
    assert db.session.scalar(select(Bulletin.id)) is None


def test_the_all_schemes_form_refuses_mail_code_in_a_subject(client, world):
    login_as(client, world.admin)
    response = post_form(client, "/admin/bulletins/all-schemes", {
        "schemes": "all", "campaigns": [world.campaign.item.slug], "helpline_set": world.helpline_set.item.slug,
        "subject": INJECTING_SUBJECT,
    })
    assert response.status_code == 200
    assert "The subject contains mail code like" in response.get_data(as_text=True)
    assert db.session.scalar(select(Bulletin.id)) is None


@pytest.mark.parametrize("name", ["=?utf-8?q?Robin=0D=0ABcc:_victim@evil.example?=", "Robin \u202eAsh"])
def test_the_sign_up_form_refuses_mail_code_and_invisible_characters_in_a_name(client, two_schemes, name):
    response = post_form(client, f"/join/{two_schemes.scheme_a.slug}",
                         {"email": "robin@example.net", "name": name, "street": "", "consent": "y"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "The name contains mail code" in page or "The name must be one line" in page
    assert db.session.scalar(select(Subscriber.id)) is None


def test_the_command_line_refuses_mail_code_in_a_subject(runner, world):
    result = runner.invoke(args=["bulletin", "send", "--scheme", "Hayes Lane Watch",
                                 "--campaign", world.campaign.item.slug, "--helplines", world.helpline_set.item.slug,
                                 "--subject", INJECTING_SUBJECT])
    assert result.exit_code == 1
    assert "The subject contains mail code like =?utf-8?q?...?= that hides a line break" in result.output
    assert db.session.scalar(select(Bulletin.id)) is None


def test_an_import_refuses_mail_code_in_a_name(two_schemes):
    from tests.bulletins.helpers import csv_bytes

    data = csv_bytes("robin@example.net,Robin =?utf-8?q?Ash=0D=0ABcc:_victim@evil.example?=,",
                     "ash@example.net,Ash =?utf-8?q?Khan?=,", "good@example.net,Zoë Łukasz,")
    report = subscriber_import.import_subscribers(two_schemes.scheme_a, data, actor=two_schemes.coordinator_a)
    assert not report.ok
    problems = {row.line: " ".join(row.problems) for row in report.rows}
    assert "The name contains mail code like =?utf-8?q?...?= that hides a line break" in problems[2]
    assert "The name contains mail code like =?utf-8?q?...?=. Type the words themselves" in problems[3]
    assert not problems[4]
