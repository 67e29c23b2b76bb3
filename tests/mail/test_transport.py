"""Transactional mail leaves through the bulletins' transport: a dropped connection is replaced at once, and
an outage or a refused sender address waits in the queue without counting against the message."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from coordinator import jobs
from coordinator.bulletins import subscribers
from coordinator.bulletins.models import SubscriberStatus
from coordinator.extensions import db
from coordinator.mail import MailStatus, OutgoingMail, deliver_queued_mail
from tests.factories import make_subscriber
from tests.helpers.servers import free_port


def confirmation_requests(scheme, count: int) -> list[str]:
    """`count` pending residents, each with a confirmation request queued; their addresses."""
    addresses = [f"resident{n}@example.net" for n in range(count)]
    with jobs.held():  # each test runs the delivery itself
        for address in addresses:
            subscribers.request_confirmation(make_subscriber(scheme, address, status=SubscriberStatus.PENDING))
        db.session.commit()
    return addresses


def outbox() -> list[tuple[MailStatus, int, str]]:
    db.session.expire_all()
    rows = db.session.scalars(select(OutgoingMail).order_by(OutgoingMail.id))
    return [(row.status, row.attempts, row.last_error) for row in rows]


def test_a_connection_the_server_drops_is_replaced_and_the_message_still_goes(two_schemes, smtp_server):
    addresses = confirmation_requests(two_schemes.scheme_a, 3)
    smtp_server.script_rcpt(addresses[1], ["421 4.7.0 Too many messages on one connection, closing"])

    assert deliver_queued_mail() == 3
    assert smtp_server.per_recipient() == Counter({address: 1 for address in addresses})
    assert outbox() == [(MailStatus.SENT, 1, "")] * 3


def test_an_unreachable_server_costs_no_message_however_long_it_lasts(app, two_schemes, smtp_server):
    addresses = confirmation_requests(two_schemes.scheme_a, 2)
    app.config["MAIL_PORT"] = free_port()  # nothing listens there
    for _ in range(10):  # more runs than a message is ever tried
        assert deliver_queued_mail() == 0
    rows = outbox()
    assert [(status, attempts) for status, attempts, _ in rows] == [(MailStatus.QUEUED, 0)] * 2
    assert rows[0][2].startswith("the mail server is unavailable: ConnectionRefusedError")

    app.config["MAIL_PORT"] = smtp_server.port
    assert deliver_queued_mail() == 2
    assert smtp_server.per_recipient() == Counter({address: 1 for address in addresses})


def test_a_refused_sender_address_is_ours_to_fix_and_the_messages_wait(two_schemes, smtp_server):
    confirmation_requests(two_schemes.scheme_a, 2)
    smtp_server.refuse_sender = "553 5.7.1 Sender address rejected: not owned by you"
    assert deliver_queued_mail() == 0
    refused = "the mail server refused the sender address: 553 5.7.1 Sender address rejected: not owned by you"
    assert outbox()[0] == (MailStatus.QUEUED, 0, refused)

    smtp_server.refuse_sender = ""
    assert deliver_queued_mail() == 2
