"""Sending through a real SMTP server (aiosmtpd on loopback): who gets a bulletin, retries, refusals, resuming."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select, update

from coordinator import jobs
from coordinator.audit.models import AuditEntry
from coordinator.bulletins import approval, progress, subscriber_data, subscribers
from coordinator.bulletins.models import Bulletin, BulletinDelivery, BulletinState, DeliveryState, SubscriberStatus
from coordinator.bulletins.sending import (
    bulletins_needing_a_job,
    resume_unfinished_bulletins,
    send_bulletin,
    unfinished_bulletin_jobs,
)
from coordinator.db import utcnow
from coordinator.extensions import db
from coordinator.jobs import requeue_pending
from coordinator.settings import get_settings
from tests.bulletins.helpers import body, fast_sending
from tests.factories import make_bulletin, make_recipients, make_subscriber
from tests.helpers.web import outbox_messages

Status = SubscriberStatus


def queue(world, bulletin, send_at=None) -> BulletinState:
    with jobs.held():  # each test runs the sending job itself, when it is ready to
        state = approval.queue_bulletin(bulletin, world.s.coordinator_a, send_at)
        db.session.commit()
    return state


def deliveries(bulletin) -> list[BulletinDelivery]:
    db.session.expire_all()
    return list(db.session.scalars(
        select(BulletinDelivery).where(BulletinDelivery.bulletin_id == bulletin.id).order_by(BulletinDelivery.id)
    ))


def states(bulletin) -> Counter:
    return Counter(d.state for d in deliveries(bulletin))


def test_every_message_parses_with_both_parts_and_all_headers(world, smtp_server):
    fast_sending()
    residents = make_recipients(world.s.scheme_a, 12)
    bulletin = make_bulletin(world)
    queue(world, bulletin)
    assert send_bulletin(bulletin.id) == 12

    messages = smtp_server.messages()
    assert len(messages) == 12
    by_address = {m["To"].addresses[0].addr_spec: m for m in messages}
    assert set(by_address) == {r.email for r in residents}
    message_ids = set()
    for resident in residents:
        message = by_address[resident.email]
        assert not message.defects
        for header in ("From", "To", "Subject", "Date", "Message-ID", "List-Id", "List-Unsubscribe",
                       "List-Unsubscribe-Post"):
            assert message[header], header
        assert message["To"].addresses[0].display_name == resident.name
        text, html = body(message, "plain"), body(message, "html")
        assert f"Hello {resident.name}," in text and f"Hello {resident.name}," in html
        # Each resident's own unsubscribe link, in both parts and in the header.
        link = subscribers.unsubscribe_url(resident)
        assert message["List-Unsubscribe"] == f"<{link}>" and link in text and link in html
        message_ids.add(message["Message-ID"])
    assert len(message_ids) == 12
    # The Message-ID sent is the one fixed in the outbox row when sending started.
    rows = deliveries(bulletin)
    assert {row.message_id for row in rows} == message_ids
    assert all(row.state == DeliveryState.SENT and row.sent_at and row.attempts == 1 for row in rows)
    db.session.refresh(bulletin)
    assert bulletin.state == BulletinState.SENT
    assert (bulletin.recipient_count, bulletin.sent_count, bulletin.failed_count) == (12, 12, 0)
    assert smtp_server.connections == 1  # one SMTP connection carried all twelve


def test_unconfirmed_unsubscribed_bouncing_and_erased_addresses_never_receive_it(world, smtp_server):
    fast_sending()
    s = world.s
    confirmed = make_subscriber(s.scheme_a, "confirmed@example.net", name="Con Firmed")
    make_subscriber(s.scheme_a, "pending@example.net", status=Status.PENDING)
    make_subscriber(s.scheme_a, "left@example.net", status=Status.UNSUBSCRIBED)
    make_subscriber(s.scheme_a, "bouncing@example.net", status=Status.BOUNCING)
    erased = make_subscriber(s.scheme_a, "erased@example.net")
    make_subscriber(s.scheme_b, "other-scheme@example.net")
    subscriber_data.erase_subscriber(erased, actor=None)
    db.session.commit()
    bulletin = make_bulletin(world)
    queue(world, bulletin)
    send_bulletin(bulletin.id)

    assert list(smtp_server.per_recipient()) == ["confirmed@example.net"]
    assert [d.subscriber_id for d in deliveries(bulletin)] == [confirmed.id]


def test_a_street_bulletin_goes_only_to_residents_of_those_streets(world, smtp_server):
    fast_sending()
    s = world.s
    from tests.factories import make_street

    other_street = make_street(s.scheme_a, "Oak Road")
    make_subscriber(s.scheme_a, "hayes@example.net", street=s.street_a)
    make_subscriber(s.scheme_a, "oak@example.net", street=other_street)
    make_subscriber(s.scheme_a, "nostreet@example.net")
    db.session.commit()
    bulletin = make_bulletin(world, is_whole_scheme=False, street_ids=[s.street_a.id])
    queue(world, bulletin)
    send_bulletin(bulletin.id)
    assert list(smtp_server.per_recipient()) == ["hayes@example.net"]


def test_someone_who_leaves_after_sending_starts_is_skipped_not_sent(world, smtp_server):
    fast_sending()
    stays, leaves = make_subscriber(world.s.scheme_a, "stays@example.net"), make_subscriber(world.s.scheme_a,
                                                                                         "leaves@example.net")
    db.session.commit()
    bulletin = make_bulletin(world)
    queue(world, bulletin)
    assert progress.start_sending(bulletin, "example.org")
    db.session.commit()
    subscribers.unsubscribe(leaves)
    db.session.commit()
    send_bulletin(bulletin.id)

    assert list(smtp_server.per_recipient()) == ["stays@example.net"]
    by_subscriber = {d.subscriber_id: d for d in deliveries(bulletin)}
    assert by_subscriber[stays.id].state == DeliveryState.SENT
    assert by_subscriber[leaves.id].state == DeliveryState.SKIPPED
    assert "left the list" in by_subscriber[leaves.id].last_error
    db.session.refresh(bulletin)
    assert bulletin.state == BulletinState.SENT


def test_a_451_then_250_is_delivered_once(world, smtp_server):
    fast_sending()
    make_recipients(world.s.scheme_a, 3)
    smtp_server.script_rcpt("resident1@example.net", ["451 4.7.1 Greylisted, try again later"])
    bulletin = make_bulletin(world)
    queue(world, bulletin)
    send_bulletin(bulletin.id)

    assert smtp_server.per_recipient() == Counter({f"resident{n}@example.net": 1 for n in range(3)})
    row = next(d for d in deliveries(bulletin) if d.to_address == "resident1@example.net")
    assert row.state == DeliveryState.SENT and row.attempts == 2 and row.last_error == ""
    db.session.refresh(bulletin)
    assert bulletin.state == BulletinState.SENT


def test_a_4xx_is_deferred_with_backoff_and_a_later_run_delivers_it(app, world, smtp_server):
    fast_sending()
    app.config["BULLETIN_RETRY_BASE_SECONDS"] = 120  # longer than a job waits: left to a later run
    make_recipients(world.s.scheme_a, 2)
    smtp_server.script_rcpt("resident0@example.net", ["452 4.2.2 Mailbox full", "451 4.3.0 Try again later"])
    bulletin = make_bulletin(world)
    queue(world, bulletin)
    started = utcnow()
    send_bulletin(bulletin.id)

    row = deliveries(bulletin)[0]
    assert row.state == DeliveryState.DEFERRED and row.attempts == 1
    assert row.last_error.startswith("452") and "Mailbox full" in row.last_error
    assert timedelta(seconds=110) < row.next_attempt_at - started < timedelta(seconds=130)
    db.session.refresh(bulletin)
    assert bulletin.state == BulletinState.SENDING  # not finished while a copy waits
    assert bulletin.id not in bulletins_needing_a_job()  # not due yet

    with freeze_time(utcnow() + timedelta(seconds=125)):
        assert bulletins_needing_a_job() == [bulletin.id]
        send_bulletin(bulletin.id)
    row = deliveries(bulletin)[0]
    assert row.state == DeliveryState.DEFERRED and row.attempts == 2  # the second 4xx: twice the wait
    assert row.next_attempt_at - (started + timedelta(seconds=125)) > timedelta(seconds=230)

    with freeze_time(row.next_attempt_at + timedelta(seconds=1)):
        send_bulletin(bulletin.id)
    assert smtp_server.per_recipient() == Counter({"resident0@example.net": 1, "resident1@example.net": 1})
    db.session.refresh(bulletin)
    assert bulletin.state == BulletinState.SENT and bulletin.sent_count == 2


def test_a_4xx_gives_up_after_the_most_attempts_without_marking_the_address(app, world, smtp_server):
    fast_sending()
    app.config["BULLETIN_RETRY_MAX_ATTEMPTS"] = 3
    [resident] = make_recipients(world.s.scheme_a, 1)
    smtp_server.script_rcpt(resident.email, ["451 4.3.0 later"] * 5)
    bulletin = make_bulletin(world)
    queue(world, bulletin)
    send_bulletin(bulletin.id)
    [row] = deliveries(bulletin)
    assert row.state == DeliveryState.FAILED and row.attempts == 3
    assert row.last_error.startswith("gave up after 3 attempts: 451")
    db.session.refresh(resident)
    assert resident.status == Status.CONFIRMED and resident.hard_bounce_count == 0
    assert smtp_server.count() == 0


def test_a_550_is_failed_and_counts_towards_bouncing(world, smtp_server):
    fast_sending()
    residents = make_recipients(world.s.scheme_a, 3)
    smtp_server.refused.add("resident2@example.net")
    bulletin = make_bulletin(world)
    queue(world, bulletin)
    send_bulletin(bulletin.id)

    rows = {d.to_address: d for d in deliveries(bulletin)}
    refused = rows["resident2@example.net"]
    assert refused.state == DeliveryState.FAILED and refused.attempts == 1
    assert refused.last_error == "550 5.1.1 No such mailbox here"
    assert sum(1 for d in rows.values() if d.state == DeliveryState.SENT) == 2
    db.session.refresh(residents[2])
    assert residents[2].hard_bounce_count == 1 and residents[2].status == Status.CONFIRMED
    db.session.refresh(bulletin)
    assert (bulletin.state, bulletin.sent_count, bulletin.failed_count) == (BulletinState.SENT, 2, 1)


def test_three_hard_failures_mark_the_address_bouncing_and_it_gets_nothing_more(world, smtp_server):
    fast_sending()
    [resident] = make_recipients(world.s.scheme_a, 1)
    smtp_server.refused.add(resident.email)
    for _ in range(3):
        bulletin = make_bulletin(world)
        queue(world, bulletin)
        send_bulletin(bulletin.id)
    db.session.refresh(resident)
    assert resident.hard_bounce_count == 3 and resident.status == Status.BOUNCING
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "subscribers.bouncing")) == 1

    smtp_server.refused.clear()
    fourth = make_bulletin(world)
    queue(world, fourth)
    send_bulletin(fourth.id)
    assert deliveries(fourth) == [] and smtp_server.count() == 0


def test_messages_per_second_is_respected(world, smtp_server):
    get_settings().messages_per_second = 20
    db.session.commit()
    make_recipients(world.s.scheme_a, 11)
    bulletin = make_bulletin(world)
    queue(world, bulletin)
    started = time.monotonic()
    send_bulletin(bulletin.id)
    # Eleven messages at twenty a second: ten gaps of 50 ms at least.
    assert time.monotonic() - started >= 0.49
    assert smtp_server.count() == 11


def test_a_connection_the_server_drops_is_replaced_and_the_message_still_goes(world, smtp_server):
    fast_sending()
    make_recipients(world.s.scheme_a, 3)
    smtp_server.script_rcpt("resident1@example.net", ["421 4.7.0 Too many messages on one connection, closing"])
    bulletin = make_bulletin(world)
    queue(world, bulletin)
    send_bulletin(bulletin.id)
    assert smtp_server.per_recipient() == Counter({f"resident{n}@example.net": 1 for n in range(3)})
    assert all(d.state == DeliveryState.SENT and d.attempts == 1 for d in deliveries(bulletin))


def test_an_unreachable_server_leaves_the_outbox_for_a_later_run(app, world, smtp_server):
    fast_sending()
    make_recipients(world.s.scheme_a, 3)
    bulletin = make_bulletin(world)
    queue(world, bulletin)
    from tests.helpers.servers import free_port

    app.config["MAIL_PORT"] = free_port()  # nothing listens there
    for _ in range(10):  # an outage of any length: the try is not counted against anyone
        send_bulletin(bulletin.id)
    rows = deliveries(bulletin)
    assert [(r.state, r.attempts) for r in rows] == [(DeliveryState.QUEUED, 0)] * 3
    assert rows[0].last_error.startswith("the mail server is unavailable: ConnectionRefusedError")
    assert bulletins_needing_a_job() == [bulletin.id]  # the sweeper keeps trying

    app.config["MAIL_PORT"] = smtp_server.port
    assert resume_unfinished_bulletins() == 1
    assert smtp_server.per_recipient() == Counter({f"resident{n}@example.net": 1 for n in range(3)})
    db.session.refresh(bulletin)
    assert bulletin.state == BulletinState.SENT


def test_a_row_caught_in_sending_by_a_crash_is_sent_again_after_the_lease_runs_out(app, world, smtp_server):
    fast_sending()
    make_recipients(world.s.scheme_a, 3)
    bulletin = make_bulletin(world)
    queue(world, bulletin)
    progress.start_sending(bulletin, "example.org")
    db.session.commit()
    rows = deliveries(bulletin)
    # A worker that died after claiming the first row, while its lease (60 s) still looked alive.
    db.session.execute(update(BulletinDelivery).where(BulletinDelivery.id == rows[0].id).values(
        state=DeliveryState.SENDING, attempts=1, claimed_at=utcnow()))
    db.session.execute(update(Bulletin).where(Bulletin.id == bulletin.id).values(
        lease_token="dead-worker", lease_expires_at=utcnow() + timedelta(seconds=60)))
    db.session.commit()

    assert bulletins_needing_a_job() == []  # a live lease: its worker is presumed busy
    assert send_bulletin(bulletin.id) == 0 and smtp_server.count() == 0

    with freeze_time(utcnow() + timedelta(seconds=61)):
        assert bulletins_needing_a_job() == [bulletin.id]
        assert unfinished_bulletin_jobs() == [(send_bulletin, (bulletin.id,))]
        assert requeue_pending() >= 1  # the jobs module's sweep runs it (eager mode in tests)
    residents = {a: n for a, n in smtp_server.per_recipient().items() if a.startswith("resident")}
    assert residents == {f"resident{n}@example.net": 1 for n in range(3)}
    first = deliveries(bulletin)[0]
    assert first.state == DeliveryState.SENT and first.attempts == 2
    db.session.refresh(bulletin)
    assert bulletin.state == BulletinState.SENT and bulletin.lease_token == ""


def test_a_scheduled_bulletin_waits_for_its_time_and_the_sweeper_sends_it(world, smtp_server):
    fast_sending()
    make_recipients(world.s.scheme_a, 2)
    bulletin = make_bulletin(world)
    send_at = utcnow() + timedelta(hours=3)
    assert queue(world, bulletin, send_at) == BulletinState.SCHEDULED
    assert resume_unfinished_bulletins() == 0
    assert send_bulletin(bulletin.id) == 0  # too early: nothing made, nothing sent
    assert deliveries(bulletin) == [] and smtp_server.count() == 0

    with freeze_time(send_at + timedelta(seconds=1)):
        assert resume_unfinished_bulletins() == 1
    assert smtp_server.count() == 2
    db.session.refresh(bulletin)
    assert bulletin.state == BulletinState.SENT


def test_running_the_job_twice_sends_nothing_twice(world, smtp_server):
    fast_sending()
    make_recipients(world.s.scheme_a, 4)
    bulletin = make_bulletin(world)
    queue(world, bulletin)
    assert send_bulletin(bulletin.id) == 4
    assert send_bulletin(bulletin.id) == 0
    assert resume_unfinished_bulletins() == 0
    assert smtp_server.count() == 4


def test_stopping_a_bulletin_while_it_goes_skips_the_rest(world, smtp_server):
    fast_sending()
    make_recipients(world.s.scheme_a, 5)
    bulletin = make_bulletin(world)
    queue(world, bulletin)
    progress.start_sending(bulletin, "example.org")
    db.session.commit()
    assert approval.cancel_bulletin(bulletin, world.s.coordinator_a) == 5
    db.session.commit()
    assert send_bulletin(bulletin.id) == 0
    assert smtp_server.count() == 0
    assert states(bulletin) == Counter({DeliveryState.SKIPPED: 5})
    db.session.refresh(bulletin)
    assert bulletin.state == BulletinState.CANCELLED


def test_erasing_a_subscriber_scrubs_their_outbox_rows(world, smtp_server):
    fast_sending()
    sent_to = make_subscriber(world.s.scheme_a, "sent@example.net")
    db.session.commit()
    first = make_bulletin(world)
    queue(world, first)
    send_bulletin(first.id)
    before = subscriber_data.export_subscriber(sent_to, actor=None)["bulletins"]
    assert [(b["state"], b["to"], b["attempts"]) for b in before] == [("sent", "sent@example.net", 1)]
    waiting = make_subscriber(world.s.scheme_a, "waiting@example.net")
    db.session.commit()
    second = make_bulletin(world)
    queue(world, second)
    progress.start_sending(second, "example.org")
    db.session.commit()

    for subscriber in (sent_to, waiting):
        subscriber_data.erase_subscriber(subscriber, actor=None)
    db.session.commit()
    addresses = db.session.scalars(select(BulletinDelivery.to_address)).all()
    assert "sent@example.net" not in addresses and "waiting@example.net" not in addresses
    assert all(address.endswith("@invalid") for address in addresses)
    exported = subscriber_data.export_subscriber(sent_to, actor=None)
    # The record of what was sent stays, without the address; the copy still waiting will never go.
    assert [(b["bulletin_id"], b["state"], b["to"]) for b in exported["bulletins"]] == [
        (first.id, "sent", f"erased-{sent_to.id}@invalid"), (second.id, "skipped", f"erased-{sent_to.id}@invalid")
    ]
    waiting_row = next(d for d in deliveries(second) if d.subscriber_id == waiting.id)
    assert waiting_row.state == DeliveryState.SKIPPED
    send_bulletin(second.id)
    assert smtp_server.per_recipient() == Counter({"sent@example.net": 1})


def test_without_a_mail_server_messages_are_written_to_the_outbox_folder(app, world):
    fast_sending()
    assert app.config["MAIL_SERVER"] == ""
    make_recipients(world.s.scheme_a, 3)
    bulletin = make_bulletin(world)
    queue(world, bulletin)
    assert send_bulletin(bulletin.id) == 3
    messages = [m for m in outbox_messages(app) if m["List-Id"]]
    assert sorted(m["To"].addresses[0].addr_spec for m in messages) == [f"resident{n}@example.net" for n in range(3)]
    assert all(body(m, "html") and body(m, "plain") for m in messages)


@pytest.mark.parametrize("count", [0])
def test_a_bulletin_with_no_recipients_is_sent_to_no_one_and_finished(world, smtp_server, count):
    bulletin = make_bulletin(world)
    queue(world, bulletin)
    assert send_bulletin(bulletin.id) == count
    db.session.refresh(bulletin)
    assert bulletin.state == BulletinState.SENT and bulletin.recipient_count == 0


def test_a_broken_dkim_key_stops_the_run_and_loses_no_one(app, world, smtp_server, tmp_path):
    fast_sending()
    make_recipients(world.s.scheme_a, 3)
    bulletin = make_bulletin(world)
    queue(world, bulletin)
    app.config.update(DKIM_SELECTOR="bulletins", DKIM_PRIVATE_KEY_PATH=str(tmp_path / "missing.key"))
    assert send_bulletin(bulletin.id) == 0
    assert smtp_server.count() == 0
    rows = deliveries(bulletin)
    assert [(r.state, r.attempts) for r in rows] == [(DeliveryState.QUEUED, 0)] * 3
    assert "could not be built" in rows[0].last_error

    app.config.update(DKIM_SELECTOR="", DKIM_PRIVATE_KEY_PATH="")
    send_bulletin(bulletin.id)
    assert smtp_server.per_recipient() == Counter({f"resident{n}@example.net": 1 for n in range(3)})


def test_a_refused_sender_address_is_our_problem_not_the_residents(world, smtp_server):
    fast_sending()
    residents = make_recipients(world.s.scheme_a, 3)
    smtp_server.refuse_sender = "553 5.7.1 Sender address rejected: not owned by you"
    bulletin = make_bulletin(world)
    queue(world, bulletin)
    send_bulletin(bulletin.id)
    rows = deliveries(bulletin)
    assert [(r.state, r.attempts) for r in rows] == [(DeliveryState.QUEUED, 0)] * 3
    assert rows[0].last_error == (
        "the mail server refused the sender address: 553 5.7.1 Sender address rejected: not owned by you"
    )
    for resident in residents:
        db.session.refresh(resident)
        assert resident.hard_bounce_count == 0 and resident.status == Status.CONFIRMED

    assert progress.waiting_problem(bulletin).startswith("the mail server refused the sender address")

    smtp_server.refuse_sender = ""
    send_bulletin(bulletin.id)
    assert smtp_server.count() == 3
    assert progress.waiting_problem(bulletin) == ""
