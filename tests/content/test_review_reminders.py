"""The daily email to admins of the helplines to verify: who gets it, what it says, once a day, and its sweep."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import create_engine, insert, select

from coordinator.audit.models import AuditEntry
from coordinator.content import reminders
from coordinator.content import services as content
from coordinator.content.models import ReviewReminder
from coordinator.dates import LOCAL_TIME
from coordinator.extensions import db
from tests.factories import make_admin, make_helpline, make_user
from tests.helpers.web import outbox_messages

ON = date(2026, 12, 2)
HOSTILE = '<script>alert(1)</script> "Line" & {{ 7*7 }}'


def _helplines(author, approver):
    """One helpline in each review state on ON: verified recently, due, overdue, never verified (hostile title)."""
    made = {}
    for name, checked_on, number in (
        ("Recently checked line", date(2026, 11, 1), "0808 802 4040"),
        ("Due line", date(2026, 6, 1), "0808 168 9111"),
        ("Overdue line", date(2026, 1, 1), "0800 555 111"),
        (HOSTILE, None, "116 123"),
    ):
        version = make_helpline(author=author, approver=approver, title=name, number=number)
        if checked_on is not None:
            content.reverify_helpline(version.item, approver, on=checked_on)
        made[name] = version
    return made


def reminder_messages(app):
    """The reminders in the outbox (approving the helplines also emails their author)."""
    return [m for m in outbox_messages(app) if m["Subject"].startswith("Helplines to verify")]


def _world():
    author = make_admin(name="Ada Author", email="ada@example.org")
    approver = make_admin(name="Bea Approver", email="bea@example.org")
    make_admin(name="Cy Gone", email="cy@example.org", active=False)
    make_user(name="Pat Coordinator", email="pat@example.org")
    _helplines(author, approver)
    db.session.commit()


def test_every_active_admin_is_told_which_helplines_to_verify_grouped_by_what_happens_to_them(app):
    app.config["PUBLIC_BASE_URL"] = "https://watch.example.org"
    _world()

    assert reminders.send_review_reminder(ON) == 2

    messages = reminder_messages(app)
    assert sorted(m["To"].addresses[0].addr_spec for m in messages) == ["ada@example.org", "bea@example.org"]
    message = messages[0]
    assert message["Subject"] == "Helplines to verify: 3 helplines"
    text = message.get_body(("plain",)).get_content()
    overdue, due, never = (text.index(heading) for heading in ("Left out of new", "Review due", "Never verified"))
    assert overdue < text.index("Overdue line, 0800 555 111: last verified 1 January 2026") < due
    assert due < text.index("Due line, 0808 168 9111: left out from 31 December 2026") < never
    assert never < text.index(HOSTILE)
    assert "Recently checked line" not in text
    assert "https://watch.example.org/content/helplines/review" in text
    html = message.get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &#34;Line&#34; &amp; {{ 7*7 }}" in html
    assert 'href="https://watch.example.org/content/helplines/review"' in html

    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "content.review_reminder_sent")).one()
    assert "3 helpline(s) to verify, emailed to 2 admin(s)" in entry.summary


def test_the_reminder_goes_once_a_day_however_often_the_job_runs(app):
    _world()
    assert reminders.send_review_reminder(ON) == 2
    assert reminders.send_review_reminder(ON) == 0
    assert len(reminder_messages(app)) == 2
    assert reminders.send_review_reminder(date(2026, 12, 3)) == 2
    assert len(reminder_messages(app)) == 4


def test_when_another_worker_records_the_day_first_nothing_is_sent_twice(app, monkeypatch):
    _world()
    other_worker = create_engine(db.engine.url)
    real_rows = content.helplines_needing_review

    def rows_while_another_worker_sends(on):
        rows = real_rows(on)
        with other_worker.begin() as conn:  # its own connection and transaction, committed now
            conn.execute(insert(ReviewReminder.__table__).values(
                reminded_on=on, helpline_count=len(rows), admin_count=2, created_at=datetime.now(LOCAL_TIME)))
        return rows

    monkeypatch.setattr(content, "helplines_needing_review", rows_while_another_worker_sends)
    try:
        assert reminders.send_review_reminder(ON) == 0
    finally:
        other_worker.dispose()
    assert reminder_messages(app) == []
    assert db.session.scalars(select(ReviewReminder)).one().reminded_on == ON
    assert db.session.scalars(select(AuditEntry).where(AuditEntry.action == "content.review_reminder_sent")).all() == []


def test_a_day_with_nothing_to_verify_sends_nothing_and_is_not_swept_again(app):
    app.config["HELPLINE_REMINDER_HOUR"] = 8
    admin = make_admin()
    approver = make_admin()
    version = make_helpline(author=admin, approver=approver)
    content.reverify_helpline(version.item, approver, on=date(2026, 11, 30))
    db.session.commit()

    assert reminders.send_review_reminder(ON) == 0
    assert reminder_messages(app) == []
    assert db.session.scalars(select(ReviewReminder)).one().helpline_count == 0
    assert reminders.is_reminder_due(datetime(2026, 12, 3, 9, 0, tzinfo=LOCAL_TIME)), "tomorrow is another day"
    assert not reminders.is_reminder_due(datetime(2026, 12, 2, 9, 0, tzinfo=LOCAL_TIME))


def test_the_sweep_asks_for_the_reminder_from_the_hour_until_it_has_gone(app):
    app.config["HELPLINE_REMINDER_HOUR"] = 8
    _world()
    early = datetime(2026, 12, 2, 7, 59, tzinfo=LOCAL_TIME)
    later = datetime(2026, 12, 2, 8, 0, tzinfo=LOCAL_TIME)
    assert not reminders.is_reminder_due(early)
    assert reminders.is_reminder_due(later)

    from freezegun import freeze_time

    with freeze_time("2026-12-02 08:30"):  # UTC in winter is UK time
        assert reminders.review_reminder_jobs() == [(reminders.send_review_reminder, ())]
        from coordinator import jobs

        assert jobs.requeue_pending() >= 1  # eager in tests: the sweep runs the job at once
        assert len(reminder_messages(app)) == 2
        assert reminders.review_reminder_jobs() == []


def test_hour_24_turns_the_reminder_off(app):
    app.config["HELPLINE_REMINDER_HOUR"] = 24
    _world()
    assert not reminders.is_reminder_due(datetime(2026, 12, 2, 23, 59, tzinfo=LOCAL_TIME))


def test_the_command_sends_todays_reminder_once(app, runner):
    _world()
    first = runner.invoke(args=["content", "review-reminder"])
    assert first.exit_code == 0 and "Reminder emailed to 2 admin(s)." in first.output
    again = runner.invoke(args=["content", "review-reminder"])
    assert again.exit_code == 0 and "No reminder sent" in again.output
    assert len(reminder_messages(app)) == 2
