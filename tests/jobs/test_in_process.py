"""The embedded default: no Redis, jobs on a thread of the web process, renders in recycled processes."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from coordinator import jobs
from coordinator.auth.models import User
from coordinator.extensions import db
from coordinator.mail import MailStatus, queue_mail
from tests.factories import make_user
from tests.jobs import tasks
from tests.jobs.helpers import all_sent, invite_coordinators, is_gone, mail_states, wait_for


@pytest.fixture
def thread_app(app, smtp_sink) -> Iterator[Flask]:
    """The test's app as `make run` runs it (no JOBS_MODE, no REDIS_URL), sending to the test's SMTP server."""
    app.config.update(JOBS_MODE="", REDIS_URL="", MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_sink.port)
    assert jobs.jobs_mode(app) == "thread"
    yield app
    jobs.shutdown(app)


def test_invitations_are_sent_by_the_job_thread_without_redis(thread_app, smtp_sink):
    rows = invite_coordinators(3)
    wait_for(all_sent(3), 10, "the job thread to send the invitations")
    assert sorted(smtp_sink.message_ids()) == sorted(row.message_id for row in rows)


def test_first_request_sweeps_mail_left_queued(thread_app, client, smtp_sink):
    # A message committed, but its delivery never asked for: as if the process had stopped just after the commit.
    with jobs.held():
        queue_mail("password_reset", "left.behind@example.org", "password_reset", name="Lee",
                   link="https://x.test/r", hours=2)
        db.session.commit()
    assert list(mail_states().values()) == [(MailStatus.QUEUED, 0)]

    assert client.get("/account/login").status_code == 200
    wait_for(all_sent(1), 10, "the start-up sweep to send the message")
    [message] = smtp_sink.messages()
    assert message["To"] == "left.behind@example.org"
    assert not jobs.start_sweeping(thread_app), "one sweeping thread per app, however many requests"


def test_render_processes_are_replaced_after_their_task_limit(thread_app):
    make_user()
    db.session.commit()
    thread_app.config.update(RENDER_PROCESSES=1, RENDER_TASKS_PER_PROCESS=2)

    facts = [jobs.run_in_subprocess(tasks.process_facts) for _ in range(3)]

    pids = [fact["pid"] for fact in facts]
    assert os.getpid() not in pids
    assert pids[0] == pids[1] != pids[2], f"a process serves two tasks, then a new one takes over: {pids}"
    assert all(fact["database"] == thread_app.config["SQLALCHEMY_DATABASE_URI"] for fact in facts)
    assert all(fact["users"] == 1 for fact in facts), "the render process reads the same database"


def test_render_processes_give_way_to_the_web_process(thread_app):
    thread_app.config.update(RENDER_PROCESSES=1, RENDER_NICE=7)
    fact = jobs.run_in_subprocess(tasks.process_facts)
    assert fact["niceness"] == min(19, os.nice(0) + 7), "renders run at a lower CPU priority than the pages"


def test_a_failed_render_raises_in_the_caller(thread_app):
    thread_app.config.update(RENDER_PROCESSES=1)
    with pytest.raises(ValueError, match="no such layout"):
        jobs.run_in_subprocess(tasks.refuse, "no such layout")
    # The process survives a failed task and serves the next one.
    assert jobs.run_in_subprocess(tasks.process_facts)["pid"] != os.getpid()


def test_a_render_process_that_dies_fails_its_caller_at_once_and_is_replaced(thread_app):
    thread_app.config.update(RENDER_PROCESSES=1)
    first = jobs.run_in_subprocess(tasks.process_facts)["pid"]
    started = time.monotonic()
    with pytest.raises(jobs.RenderProcessDied):
        jobs.run_in_subprocess(tasks.die)
    assert time.monotonic() - started < 5, "no waiting for a timeout"
    assert jobs.run_in_subprocess(tasks.process_facts)["pid"] not in (first, os.getpid())


def test_a_render_that_takes_too_long_is_stopped(thread_app):
    thread_app.config.update(RENDER_PROCESSES=1)
    first = jobs.run_in_subprocess(tasks.process_facts)["pid"]
    with pytest.raises(TimeoutError):
        jobs.run_in_subprocess(tasks.linger, 30, timeout=0.5)
    wait_for(lambda: is_gone(first), 5, "the slow render's process to be killed")
    assert jobs.run_in_subprocess(tasks.process_facts)["pid"] != first


def test_eager_mode_runs_jobs_and_renders_in_place(app):
    assert jobs.jobs_mode(app) == "eager"
    assert jobs.run_in_subprocess(tasks.process_facts)["pid"] == os.getpid()
    with pytest.raises(ValueError, match="at once"):
        jobs.enqueue(tasks.refuse, "at once")


def test_a_request_waiting_for_a_render_holds_no_database_connection(thread_app):
    make_user()
    db.session.commit()
    db.session.scalar(select(User.id))  # a request that has read, and is about to wait for a render
    assert db.session().in_transaction() and db.engine.pool.checkedout() == 1

    jobs.run_in_subprocess(tasks.process_facts)

    assert not db.session().in_transaction(), "the read-only transaction ended before the wait"
    assert db.engine.pool.checkedout() == 0, "its connection went back to the pool for the pages"


def test_a_session_that_wrote_keeps_its_transaction_through_a_render(thread_app):
    user = make_user()  # flushed, not committed
    jobs.run_in_subprocess(tasks.process_facts)
    assert db.session().in_transaction(), "what the caller wrote is still its own to commit"
    db.session.commit()
    assert db.session.get(User, user.id) is not None

    db.session.get(User, user.id).name = "Changed, not flushed"
    jobs.run_in_subprocess(tasks.process_facts)
    assert db.session.get(User, user.id).name == "Changed, not flushed"


def test_each_web_process_renders_on_its_share_of_the_cores(app, monkeypatch):
    app.config["RENDER_PROCESSES"] = 0
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    assert jobs.render_processes(app) == 4, "one web process: up to 4"
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    assert jobs.render_processes(app) == 2
    monkeypatch.setenv("WEB_CONCURRENCY", "16")
    assert jobs.render_processes(app) == 1, "never none"
    app.config["RENDER_PROCESSES"] = 3
    assert jobs.render_processes(app) == 3, "the setting wins"
