"""Job keys (how duplicates are spotted) and the sweep that rebuilds work from the database."""

from __future__ import annotations

from coordinator import jobs
from coordinator.extensions import db
from coordinator.mail import MailStatus, deliver_queued_mail, pending_mail_jobs, queue_mail
from tests.helpers.web import outbox_messages
from tests.jobs.helpers import mail_states


def test_a_job_key_names_the_function_and_its_arguments():
    assert jobs.job_key(deliver_queued_mail, ()) == "coordinator-mail-deliver_queued_mail"
    assert jobs.job_key("coordinator.bulletins.services:send_bulletin", (42,)) == (
        "coordinator-bulletins-services-send_bulletin-42"
    )


def test_arguments_that_read_alike_get_different_keys():
    assert jobs.job_key("m:f", ("a-b",)) != jobs.job_key("m:f", ("a.b",))
    assert jobs.job_key("m:f", (1, 2)) != jobs.job_key("m:f", ("1-2",))
    long_key = jobs.job_key("m:f", tuple(range(100)))
    assert len(long_key) <= 100
    assert long_key != jobs.job_key("m:f", tuple(range(101)))


def test_the_mail_sweeper_asks_for_delivery_only_while_mail_is_queued(app):
    assert pending_mail_jobs() == []
    with jobs.held():  # as if the process stopped between the commit and queueing the delivery
        queue_mail("password_reset", "sam@example.org", "password_reset", name="Sam", link="https://x.test/r", hours=2)
        db.session.commit()
    assert pending_mail_jobs() == [(deliver_queued_mail, ())]


def test_a_sweep_runs_what_the_database_still_needs(app):
    with jobs.held():  # as if the process stopped between the commit and queueing the delivery
        queue_mail("password_reset", "sam@example.org", "password_reset", name="Sam", link="https://x.test/r", hours=2)
        db.session.commit()

    assert jobs.requeue_pending() == 1  # eager mode: the delivery has run by now
    assert [message["To"] for message in outbox_messages(app)] == ["sam@example.org"]
    assert list(mail_states().values()) == [(MailStatus.SENT, 1)]
    assert jobs.requeue_pending() == 0, "nothing left to do, nothing asked for"
