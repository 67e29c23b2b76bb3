"""Bounces and complaints: each copy's own return path, and reports read back from a real IMAP server (Dovecot)
and from standard input, as an MTA pipes them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from coordinator import jobs
from coordinator.audit.models import AuditEntry
from coordinator.bulletins import approval, bounces, subscriber_data
from coordinator.bulletins.models import BounceKind, BulletinDelivery, SubscriberBounce, SubscriberStatus
from coordinator.bulletins.sending import send_bulletin
from coordinator.db import utcnow
from coordinator.extensions import db
from coordinator.mail import return_path
from tests.bulletins.helpers import everything_stored, fast_sending
from tests.bulletins.reports import arf, auto_reply, dsn
from tests.factories import make_bulletin, make_subscriber
from tests.helpers.dovecot import Dovecot, require_dovecot
from tests.helpers.web import login_as
from tests.smtp import SMTPServer

Status = SubscriberStatus
BOUNCE_ADDRESS = "bounces@watch.example"


class EnvelopeServer(SMTPServer):
    """The tests' SMTP server, also keeping each message's envelope sender (MAIL FROM)."""

    def __init__(self) -> None:
        super().__init__()
        self.senders: dict[str, str] = {}

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            for recipient in envelope.rcpt_tos:
                self.senders[recipient] = envelope.mail_from
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def envelope_server(app):
    server = EnvelopeServer()
    server.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, MAIL_USE_TLS=False, BOUNCE_ADDRESS=BOUNCE_ADDRESS)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def dovecot(app):
    server = Dovecot(require_dovecot()).start()
    app.config.update(server.config_for())
    try:
        yield server
    finally:
        server.stop()


def send_to(world, *addresses: str) -> dict[str, BulletinDelivery]:
    """A bulletin of scheme A sent to these confirmed residents; their deliveries by address."""
    fast_sending()
    for address in addresses:
        make_subscriber(world.s.scheme_a, address)
    bulletin = make_bulletin(world)
    with jobs.held():
        approval.queue_bulletin(bulletin, world.s.coordinator_a, None)
        db.session.commit()
    assert send_bulletin(bulletin.id) == len(addresses)
    db.session.expire_all()
    rows = db.session.scalars(select(BulletinDelivery).where(BulletinDelivery.bulletin_id == bulletin.id))
    return {row.to_address: row for row in rows}


def path_of(delivery: BulletinDelivery) -> str:
    return return_path(bounces.delivery_token(delivery.id))


def status_of(delivery: BulletinDelivery) -> Status:
    db.session.expire_all()
    return db.session.get(BulletinDelivery, delivery.id).subscriber.status


def pipe(runner, data: bytes):
    result = runner.invoke(args=["bulletin", "process-bounces", "--stdin"], input=data)
    assert result.exit_code == 0, result.output
    return result


def actions_about(delivery: BulletinDelivery) -> list[str]:
    return list(db.session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.object_type == "Subscriber", AuditEntry.object_id == str(delivery.subscriber_id))
        .order_by(AuditEntry.id)
    ))


# --- The return path -------------------------------------------------------------------------------------------


def test_each_copy_goes_out_with_a_return_path_naming_its_delivery(world, envelope_server):
    sent = send_to(world, "pat@example.net", "sam@example.net")

    for address, delivery in sent.items():
        sender = envelope_server.senders[address]
        assert sender == f"bounces+{delivery.id}.{bounces.delivery_token(delivery.id).split('.')[1]}@watch.example"
        token = sender.split("+", 1)[1].split("@")[0]
        assert bounces.delivery_of_token(token) == delivery.id
    assert len(set(envelope_server.senders.values())) == 2
    # The From address residents see is unchanged.
    assert all("bounces" not in str(m["From"]) for m in envelope_server.messages())


def test_without_a_bounce_address_the_sender_address_stays_the_envelope_sender(world, envelope_server, app):
    app.config["BOUNCE_ADDRESS"] = ""
    send_to(world, "pat@example.net")
    assert envelope_server.senders["pat@example.net"] == app.config["MAIL_DEFAULT_SENDER"]


def test_a_token_is_refused_when_changed_and_read_under_an_older_key(app):
    token = bounces.delivery_token(41)
    assert bounces.delivery_of_token(token) == 41
    assert bounces.delivery_of_token(token.upper()) == 41  # some servers change the case of the local part
    assert bounces.delivery_of_token("42." + token.split(".")[1]) is None
    assert bounces.delivery_of_token(token[:-1] + ("0" if token[-1] != "0" else "1")) is None
    assert bounces.delivery_of_token("41") is None

    old_key = app.config["SECRET_KEY"]
    app.config.update(SECRET_KEY="a-new-key-after-rotation", SECRET_KEY_FALLBACKS=[old_key])
    assert bounces.delivery_of_token(token) == 41
    app.config["SECRET_KEY_FALLBACKS"] = []
    assert bounces.delivery_of_token(token) is None


# --- Through a real IMAP server ------------------------------------------------------------------------------------


def test_a_hard_bounce_in_the_mailbox_marks_the_address_bouncing_at_once(world, envelope_server, dovecot, runner):
    sent = send_to(world, "gone@example.net", "fine@example.net")
    gone = sent["gone@example.net"]
    dovecot.deliver(dsn(path_of(gone), "gone@example.net", "5.1.1", delivered_to=path_of(gone)))

    result = runner.invoke(args=["bulletin", "process-bounces"])

    assert result.exit_code == 0, result.output
    assert "1 hard bounce(s)" in result.output and "1 address(es) marked bouncing" in result.output
    assert status_of(gone) == Status.BOUNCING
    assert status_of(sent["fine@example.net"]) == Status.CONFIRMED
    row = db.session.scalar(select(SubscriberBounce))
    assert (row.kind, row.status, row.delivery_id) == (BounceKind.HARD, "5.1.1", gone.id)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "subscribers.bouncing"))
    assert entry.details["status"] == "5.1.1" and entry.details["reason"] == "hard"
    # The server's words quote the address: kept on the bounce row (erased with it), never in the audit log.
    assert "gone@example.net" not in repr(entry.details) + entry.summary
    assert dovecot.messages() == []  # read, recorded, then deleted from the mailbox


def test_a_complaint_in_the_mailbox_unsubscribes_at_once(world, envelope_server, dovecot, runner):
    sent = send_to(world, "cross@example.net")
    delivery = sent["cross@example.net"]
    # Feedback loops write to an address of their own; the copy they send back has our return path on it.
    dovecot.deliver(arf(path_of(delivery), "cross@example.net"))

    result = runner.invoke(args=["bulletin", "process-bounces"])

    assert result.exit_code == 0, result.output
    assert "1 complaint(s)" in result.output
    assert status_of(delivery) == Status.UNSUBSCRIBED
    assert actions_about(delivery)[-1] == "subscribers.complained"
    assert db.session.scalar(select(SubscriberBounce.kind)) == BounceKind.COMPLAINT


def test_messages_that_are_not_reports_stay_for_a_person_and_are_passed_over_next_time(
        world, envelope_server, dovecot, runner):
    sent = send_to(world, "away@example.net")
    delivery = sent["away@example.net"]
    dovecot.deliver(auto_reply(path_of(delivery)), dsn(path_of(delivery), "away@example.net", "4.2.2"))

    first = bounces.process_mailbox()
    second = bounces.process_mailbox()

    assert (first.not_reports, first.soft) == (1, 1)
    assert (second.not_reports, second.read) == (0, 0)
    left = dovecot.messages()
    assert len(left) == 1 and bounces.NOT_A_REPORT_FLAG in left[0][0] and b"Out of office" in left[0][1]
    assert status_of(delivery) == Status.CONFIRMED  # one soft bounce is not enough


def test_the_worker_sweep_reads_the_mailbox_when_one_is_configured(world, envelope_server, dovecot, app):
    sent = send_to(world, "gone@example.net")
    dovecot.deliver(dsn(path_of(sent["gone@example.net"]), "gone@example.net"))

    assert bounces.bounce_mailbox_jobs() == [(bounces.read_bounce_mailbox, ())]
    jobs.requeue_pending()  # the sweep: jobs run at once in tests

    assert status_of(sent["gone@example.net"]) == Status.BOUNCING
    app.config["BOUNCE_IMAP_HOST"] = ""
    assert bounces.bounce_mailbox_jobs() == []


def test_an_unreachable_mailbox_is_an_error_for_the_command_and_a_later_try_for_the_sweep(app, runner):
    from tests.helpers.servers import free_port

    app.config.update(BOUNCE_IMAP_HOST="127.0.0.1", BOUNCE_IMAP_PORT=free_port(), BOUNCE_IMAP_SECURITY="none")
    result = runner.invoke(args=["bulletin", "process-bounces"])
    assert result.exit_code == 1 and "cannot be read" in result.output
    assert bounces.read_bounce_mailbox() == 0

    app.config["BOUNCE_IMAP_HOST"] = ""
    result = runner.invoke(args=["bulletin", "process-bounces"])
    assert result.exit_code == 1 and "BOUNCE_IMAP_HOST" in result.output


# --- Through standard input -------------------------------------------------------------------------------------


def test_soft_bounces_mark_the_address_after_three_within_thirty_days(world, envelope_server, runner):
    sent = send_to(world, "full@example.net")
    delivery = sent["full@example.net"]

    def report(n: int) -> bytes:
        return dsn(path_of(delivery), "full@example.net", "4.2.2", diagnostic=f"smtp; 452 4.2.2 Mailbox full (try {n})")

    with freeze_time(utcnow() - timedelta(days=31)):
        pipe(runner, report(0))  # too long ago to count
    pipe(runner, report(1))
    pipe(runner, report(2))
    assert status_of(delivery) == Status.CONFIRMED

    result = pipe(runner, report(3))

    assert "1 address(es) marked bouncing" in result.output
    assert status_of(delivery) == Status.BOUNCING
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "subscribers.bouncing"))
    assert entry.details["reason"] == "soft" and entry.details["count"] == 3


def test_a_piped_complaint_naming_the_return_path_in_its_report_unsubscribes(world, envelope_server, runner):
    sent = send_to(world, "cross@example.net")
    delivery = sent["cross@example.net"]
    pipe(runner, arf(path_of(delivery), "cross@example.net", original_mail_from=True))
    assert status_of(delivery) == Status.UNSUBSCRIBED


def test_the_same_report_read_twice_counts_once(world, envelope_server, runner):
    sent = send_to(world, "full@example.net")
    delivery = sent["full@example.net"]
    report = dsn(path_of(delivery), "full@example.net", "4.2.2")
    pipe(runner, report)
    pipe(runner, report)
    result = pipe(runner, report)
    assert "1 read before" in result.output
    assert len(list(db.session.scalars(select(SubscriberBounce)))) == 1


def test_notices_forged_tokens_and_mail_for_erased_residents_change_nothing(world, envelope_server, runner):
    sent = send_to(world, "slow@example.net", "erased@example.net")
    slow = sent["slow@example.net"]
    assert "1 notice(s)" in pipe(runner, dsn(path_of(slow), "slow@example.net", "4.4.7", action="delayed")).output
    forged = f"bounces+{slow.id}.0123456789abcdef0123@watch.example"
    assert "1 about no bulletin" in pipe(runner, dsn(forged, "slow@example.net", "5.1.1")).output
    assert status_of(slow) == Status.CONFIRMED

    erased = sent["erased@example.net"]
    path = path_of(erased)
    subscriber_data.erase_subscriber(db.session.get(BulletinDelivery, erased.id).subscriber, world.admin)
    db.session.commit()
    assert "1 about no bulletin" in pipe(runner, dsn(path, "erased@example.net", "5.1.1")).output
    assert "erased@example.net" not in everything_stored()


def test_a_piped_message_that_is_not_a_report_changes_nothing(world, envelope_server, runner):
    sent = send_to(world, "away@example.net")
    path = path_of(sent["away@example.net"])
    for junk in (auto_reply(path), b"", b"\xff\xfe\x00 not mail at all", b"Content-Type: multipart/report\r\n\r\n--"):
        assert "nothing was done" in pipe(runner, junk).output
    assert status_of(sent["away@example.net"]) == Status.CONFIRMED


def test_a_piped_message_that_cannot_be_recorded_asks_the_mta_to_try_again(world, envelope_server, runner,
                                                                           monkeypatch):
    sent = send_to(world, "gone@example.net")

    def broken(*args, **kwargs):
        raise OperationalError("INSERT ...", {}, Exception("the database is away"))

    # The one stand-in here: a database that fails mid-write cannot be arranged on cue, so the write raises the
    # error the driver would; everything before it (the pipe, the parsing, the token check) is real.
    monkeypatch.setattr(bounces, "apply_reports", broken)
    result = runner.invoke(args=["bulletin", "process-bounces", "--stdin"],
                           input=dsn(path_of(sent["gone@example.net"]), "gone@example.net"))
    assert result.exit_code == 75  # EX_TEMPFAIL: Postfix and Exim keep the message and pipe it again later


# --- What the coordinator sees, and erasure ---------------------------------------------------------------------------


def test_the_coordinator_sees_bounces_and_complaints_on_the_subscribers_page(world, envelope_server, runner, client):
    sent = send_to(world, "gone@example.net", "cross@example.net")
    pipe(runner, dsn(path_of(sent["gone@example.net"]), "gone@example.net", "5.1.1"))
    pipe(runner, arf(path_of(sent["cross@example.net"]), "cross@example.net"))

    login_as(client, world.s.coordinator_a)
    page = client.get(f"/schemes/{world.s.scheme_a.id}/subscribers").get_data(as_text=True)

    assert "Bounces and complaints" in page
    assert "Permanent failure" in page and "5.1.1" in page
    assert "Complaint" in page and "gone@example.net" in page and "cross@example.net" in page


def test_erasing_a_subscriber_removes_their_bounce_history(world, envelope_server, runner):
    sent = send_to(world, "gone@example.net")
    delivery = sent["gone@example.net"]
    pipe(runner, dsn(path_of(delivery), "gone@example.net", "5.1.1"))
    assert db.session.scalar(select(SubscriberBounce)) is not None

    subscriber_data.erase_subscriber(db.session.get(BulletinDelivery, delivery.id).subscriber, world.admin)
    db.session.commit()

    assert db.session.scalar(select(SubscriberBounce)) is None
    assert "gone@example.net" not in everything_stored()


def test_three_soft_bounces_read_in_one_run_mark_the_address(world, envelope_server, dovecot):
    sent = send_to(world, "full@example.net")
    delivery = sent["full@example.net"]
    dovecot.deliver(*(dsn(path_of(delivery), "full@example.net", "4.2.2", diagnostic=f"smtp; 452 4.2.2 full {n}")
                      for n in range(3)))

    run = bounces.process_mailbox()

    assert (run.soft, run.marked_bouncing) == (3, 1)
    assert status_of(delivery) == Status.BOUNCING


def test_two_readers_of_the_mailbox_at_once_record_each_report_once(world, envelope_server, dovecot, monkeypatch):
    sent = send_to(world, "gone@example.net")
    report = dsn(path_of(sent["gone@example.net"]), "gone@example.net")
    dovecot.deliver(report)
    original = bounces._soft_counts

    def other_reader_first(subscriber_ids):
        # Another worker records the same report, and commits, between this reader's check and its insert.
        monkeypatch.setattr(bounces, "_soft_counts", original)
        bounces.process_message(report)
        db.session.commit()
        return original(subscriber_ids)

    monkeypatch.setattr(bounces, "_soft_counts", other_reader_first)
    bounces.process_mailbox()  # stops without an error; the report stays in the mailbox

    assert len(list(db.session.scalars(select(SubscriberBounce)))) == 1
    assert status_of(sent["gone@example.net"]) == Status.BOUNCING
    assert len(dovecot.messages()) == 1
    assert bounces.process_mailbox().already_read == 1  # the next sweep sees it was read, and deletes it
    assert dovecot.messages() == []
