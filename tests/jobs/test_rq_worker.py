"""Background work on Redis: a real redis-server, real `flask --app coordinator worker` processes, a real SMTP server.

Faults are real too: Redis is SIGKILLed and restarted empty, a work-horse or a whole worker is SIGKILLed in
the middle of a delivery. After each, every queued message arrives, and the database records each as sent.
"""

from __future__ import annotations

import json
import os
import re

from coordinator import jobs
from coordinator.admin.services import invite_coordinator
from coordinator.extensions import db
from coordinator.mail import MailStatus, deliver_queued_mail
from tests.factories import make_admin
from tests.jobs import tasks
from tests.jobs.helpers import all_sent, duplicates, invite_coordinators, is_gone, mail_states, wait_for


def test_invitation_is_delivered_by_a_worker_process(rq_app, redis_server, smtp_sink, start_worker):
    admin = make_admin(name="Ada Admin")
    invite_coordinator("nia.okoro@example.org", "Nia Okoro", invited_by=admin)
    db.session.commit()  # the invitation asked for its delivery: queued at this commit
    assert len(redis_server.queued_job_ids()) == 1, "the delivery job waits in Redis until a worker takes it"

    worker = start_worker()
    wait_for(all_sent(1), 20, "the invitation sent", worker.log)

    [message] = smtp_sink.messages()
    assert message["To"] == "Nia Okoro <nia.okoro@example.org>"
    assert "Ada Admin" in message.get_body(preferencelist=("plain",)).get_content()
    assert list(mail_states().values()) == [(MailStatus.SENT, 1)]
    wait_for(lambda: not redis_server.queued_job_ids(), 5, "the queue to be empty", worker.log)


def test_asking_again_while_a_delivery_waits_queues_nothing_more(rq_app, redis_server):
    invite_coordinators(2)
    for _ in range(3):
        deliver_queued_mail.later()
    assert jobs.requeue_pending() == 1, "the sweep finds queued mail and asks for its delivery"
    [job_id] = redis_server.queued_job_ids()
    assert job_id.startswith(jobs.job_key(deliver_queued_mail, ()) + "-")

    # Another function, or other arguments, is another job.
    jobs.enqueue(tasks.refuse, "another job")
    assert len(redis_server.queued_job_ids()) == 2

    # A waiting mark whose job has gone (here: deleted by hand) stops nothing.
    redis_server.client.delete(f"rq:job:{job_id}")
    redis_server.client.lrem(f"rq:queue:{jobs.QUEUE_NAME}", 0, job_id)
    deliver_queued_mail.later()
    assert len(redis_server.queued_job_ids()) == 2
    assert job_id not in redis_server.queued_job_ids()


def test_jobs_lost_with_a_redis_restart_are_rebuilt_from_the_database(rq_app, redis_server, smtp_sink,
                                                                     start_worker):
    rows = invite_coordinators(5)
    assert len(redis_server.queued_job_ids()) == 1

    redis_server.kill()
    redis_server.start()
    assert redis_server.queued_job_ids() == [], "the restarted Redis has forgotten the job"

    worker = start_worker()
    wait_for(all_sent(5), 20, "every invitation sent", worker.log)
    assert sorted(smtp_sink.message_ids()) == sorted(row.message_id for row in rows), "each delivered exactly once"


def test_mail_queued_while_redis_is_down_is_sent_when_it_returns(rq_app, redis_server, smtp_sink, start_worker):
    worker = start_worker()
    wait_for(lambda: redis_server.client.exists(jobs.rq_worker.SWEPT_MARK), 20, "the worker's first sweep", worker.log)

    redis_server.kill()
    rows = invite_coordinators(3)  # Redis is down: logged, not raised; the rows are committed, which is what counts
    redis_server.start()

    wait_for(all_sent(3), 20, "the worker to find Redis emptied and sweep", worker.log)
    assert sorted(smtp_sink.message_ids()) == sorted(row.message_id for row in rows)


def test_work_horse_killed_mid_delivery_is_retried_by_rq(rq_app, redis_server, smtp_sink, start_worker):
    rows = invite_coordinators(30)
    smtp_sink.delay = 0.05
    worker = start_worker()
    wait_for(lambda: smtp_sink.count() >= 5, 20, "the delivery to be under way", worker.log)

    worker.kill_horse()
    assert any(status == MailStatus.QUEUED for status, _ in mail_states().values()), "killed mid-delivery"

    wait_for(all_sent(30), 30, "the retried job to send the rest", worker.log)
    received = smtp_sink.message_ids()
    assert set(received) == {row.message_id for row in rows}
    # One crash: at most one message went twice (accepted by the server, then the process died before the
    # database recorded it). Every row records one successful attempt; the lost one was never committed.
    assert duplicates(received) <= 1, received
    assert {attempts for _, attempts in mail_states().values()} == {1}
    log = worker.log()
    assert "Work-horse terminated unexpectedly" in log
    runs = re.findall(rf"coordinator: {re.escape(deliver_queued_mail.name)}\(\) \(([\w-]+)\)", log)
    assert len(runs) == 2 and runs[0] == runs[1], f"RQ ran the same job again: {runs}"


def test_worker_killed_mid_delivery_a_new_worker_finishes_it(rq_app, redis_server, smtp_sink, start_worker):
    rows = invite_coordinators(30)
    smtp_sink.delay = 0.05
    first = start_worker()
    wait_for(lambda: smtp_sink.count() >= 5, 20, "the delivery to be under way", first.log)

    horse = first.horse_pid()
    assert horse is not None, "a work-horse is delivering"
    killed = first.kill()
    assert horse in killed
    wait_for(lambda: all(is_gone(pid) for pid in killed), 10, "the worker, its scheduler and its work-horse to end")
    still_queued = [s for s, _ in mail_states().values() if s == MailStatus.QUEUED]
    assert still_queued, "the kill landed mid-delivery"

    second = start_worker()
    wait_for(all_sent(30), 20, "the new worker's sweep to send the rest", second.log)
    received = smtp_sink.message_ids()
    assert set(received) == {row.message_id for row in rows}
    assert duplicates(received) <= 1, received
    assert {attempts for _, attempts in mail_states().values()} == {1}


def test_each_job_runs_in_a_fresh_work_horse(rq_app, start_worker, tmp_path):
    worker = start_worker()
    outputs = [tmp_path / "first.json", tmp_path / "second.json"]
    for path in outputs:
        tasks.write_process_facts.later(str(path))
    wait_for(lambda: all(path.exists() for path in outputs), 20, "both jobs to have run", worker.log)

    facts = [json.loads(path.read_text()) for path in outputs]
    job_pids = {fact["job_pid"] for fact in facts}
    assert len(job_pids) == 2, "each job had a process of its own, gone when it ended"
    assert worker.pid not in job_pids and os.getpid() not in job_pids
    # Inside a work-horse, a render needs no process of its own: the horse is thrown away anyway.
    assert all(fact["render_pid"] == fact["job_pid"] for fact in facts)
