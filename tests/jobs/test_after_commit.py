"""Jobs are functions, queued when the transaction that needs them commits, and never when it rolls back."""

from __future__ import annotations

from pathlib import Path

import pytest

from coordinator import jobs
from coordinator.extensions import db
from coordinator.mail import MailStatus, deliver_queued_mail, queue_mail
from tests.factories import make_user
from tests.helpers.web import outbox_messages, post_form
from tests.jobs import tasks
from tests.jobs.helpers import mail_states, wait_for


def lines(path: Path) -> list[str]:
    """The lines a `tasks.note` job wrote, none if it never ran."""
    return path.read_text().splitlines() if path.exists() else []


def test_a_job_asked_for_after_the_commit_runs_once_the_transaction_commits(app, tmp_path):
    notes = tmp_path / "notes.txt"
    make_user()
    jobs.after_commit(tasks.note, str(notes), "sent")
    tasks.note.after_commit(str(notes), "sent")  # the same job and arguments: one run
    db.session.flush()
    assert lines(notes) == [], "nothing runs before the commit"

    db.session.commit()
    assert lines(notes) == ["sent"], "eager mode: run once, straight after the commit"
    db.session.commit()
    assert lines(notes) == ["sent"], "a later commit does not run it again"


def test_a_job_asked_for_in_a_transaction_that_rolls_back_never_runs(app, tmp_path):
    notes = tmp_path / "notes.txt"
    make_user()
    jobs.after_commit(tasks.note, str(notes), "never")
    db.session.rollback()
    db.session.commit()
    assert lines(notes) == []


def test_a_savepoint_released_is_not_the_commit(app, tmp_path):
    notes = tmp_path / "notes.txt"
    with db.session.begin_nested():
        make_user()
        jobs.after_commit(tasks.note, str(notes), "after the outer commit")
    assert lines(notes) == []
    db.session.commit()
    assert lines(notes) == ["after the outer commit"]


def test_on_redis_the_job_is_queued_once_at_the_commit_and_not_at_all_on_rollback(rq_app, redis_server):
    queue_mail("password_reset", "sam@example.org", "password_reset", name="Sam", link="https://x.test/r", hours=2)
    deliver_queued_mail.after_commit()
    deliver_queued_mail.after_commit()
    db.session.flush()
    assert redis_server.queued_job_ids() == [], "nothing is queued before the commit"
    db.session.commit()
    [job_id] = redis_server.queued_job_ids()
    assert job_id.startswith(jobs.job_key(deliver_queued_mail, ()) + "-")

    make_user()
    tasks.refuse.after_commit("rolled back")
    db.session.rollback()
    db.session.commit()
    assert redis_server.queued_job_ids() == [job_id]


def test_the_job_thread_runs_a_job_committed_by_the_caller(app, smtp_sink, tmp_path):
    app.config.update(JOBS_MODE="", REDIS_URL="")
    notes = tmp_path / "notes.txt"
    try:
        tasks.note.after_commit(str(notes), "on the thread")
        db.session.commit()
        wait_for(lambda: lines(notes) == ["on the thread"], 10, "the job thread to run the job")
    finally:
        jobs.shutdown(app)


def test_a_job_is_called_by_reference_so_a_rename_needs_no_string_edits(app, tmp_path):
    notes = tmp_path / "notes.txt"

    def note_under_a_new_name(path: str, text: str) -> None:
        tasks.note(path, text)

    note_under_a_new_name.__qualname__ = "note_under_a_name_written_nowhere"
    renamed = jobs.job(note_under_a_new_name)
    assert renamed.name == f"{__name__}.note_under_a_name_written_nowhere", "the job is named after its function"
    assert jobs.resolve(renamed.name) is renamed

    renamed.later(str(notes), "by reference")
    assert lines(notes) == ["by reference"]


def test_a_job_queued_by_an_older_release_under_its_old_string_still_runs(app):
    with jobs.held():  # the delivery the commit asks for would send it at once in the eager mode
        queue_mail("password_reset", "sam@example.org", "password_reset", name="Sam", link="https://x.test/r", hours=2)
        db.session.commit()
    assert jobs.resolve("coordinator.mail:deliver_queued_mail") is deliver_queued_mail

    # run_in_app drops the pool it finds without closing it (in a work-horse that pool is the parent's): close
    # this test's connections first, so none is left open for the garbage collector.
    db.engine.dispose()
    assert jobs.run_in_app("coordinator.mail:deliver_queued_mail") == 1  # as RQ calls a payload left in Redis
    assert list(mail_states().values()) == [(MailStatus.SENT, 1)]


def test_a_sweeper_answers_with_jobs_not_strings(app):
    with jobs.held():  # the delivery the commit asks for would send it at once in the eager mode
        queue_mail("password_reset", "sam@example.org", "password_reset", name="Sam", link="https://x.test/r", hours=2)
        db.session.commit()
    from coordinator.mail import pending_mail_jobs

    [(job, args)] = pending_mail_jobs()
    assert job is deliver_queued_mail and args == ()
    with pytest.raises(TypeError):
        jobs.enqueue("coordinator.mail:deliver_queued_mail")  # code asks by reference only


def test_jobs_held_at_a_commit_are_kept_for_the_caller_and_never_run_by_the_commit(app, tmp_path):
    notes = tmp_path / "notes.txt"
    with jobs.held() as kept:
        make_user()
        tasks.note.after_commit(str(notes), "held")
        db.session.commit()
    assert lines(notes) == [], "the commit inside held() ran nothing"
    assert kept == [(tasks.note, (str(notes), "held"))]

    [(job, args)] = kept
    job(*args)
    assert lines(notes) == ["held"]

    tasks.note.after_commit(str(notes), "after held")
    db.session.commit()
    assert lines(notes) == ["held", "after held"], "outside held() the commit queues again"


def test_a_page_that_queues_mail_leaves_its_delivery_to_the_service_that_queued_it(app, client):
    user = make_user(email="sam@example.org")
    db.session.commit()
    with jobs.held() as asked:
        post_form(client, "/account/forgot-password", {"email": user.email})
    # Had the page started the delivery itself, the eager mode would have sent the message despite held().
    assert list(mail_states().values()) == [(MailStatus.QUEUED, 0)]
    assert asked == [(deliver_queued_mail, ())], "queue_mail asked for the delivery, once, at the page's commit"

    queue_mail("password_reset", "sam@example.org", "password_reset", name="Sam", link="https://x.test/r", hours=2)
    db.session.rollback()
    db.session.commit()
    assert list(mail_states().values()) == [(MailStatus.QUEUED, 0)], "a message rolled back asks for nothing"
    assert outbox_messages(app) == []
