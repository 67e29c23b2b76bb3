"""The daily reminder to admins of the helplines that need verifying.

A helpline whose review is due is still printed for a grace period, then left out of every new leaflet and
bulletin; an unverified one is never printed. Admins learn of both from one email a day, sent on the first
sweep after `HELPLINE_REMINDER_HOUR` (UK time, default 8) while anything needs verifying.

The job is safe to run twice and from two workers at once: the day's `ReviewReminder` row is written first, in
the same transaction as the messages, and its unique day lets only one of them go on.
"""

from __future__ import annotations

from datetime import date, datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from coordinator import audit, jobs
from coordinator.auth.models import Role, User
from coordinator.content import services as content
from coordinator.content.models import ReviewReminder
from coordinator.content.services import ReviewStatus
from coordinator.dates import LOCAL_TIME
from coordinator.extensions import db
from coordinator.links import public_url
from coordinator.mail import queue_mail


def _local_now() -> datetime:
    return datetime.now(LOCAL_TIME)


def _has_reminded(on: date) -> bool:
    return db.session.scalar(select(ReviewReminder.id).where(ReviewReminder.reminded_on == on)) is not None


def is_reminder_due(now: datetime | None = None) -> bool:
    """Whether today's reminder is still to be dealt with: past the hour, and no reminder row for today."""
    now = now or _local_now()
    return now.hour >= int(current_app.config["HELPLINE_REMINDER_HOUR"]) and not _has_reminded(now.date())


@jobs.job
def send_review_reminder(on: date | None = None) -> int:
    """The job: email every active admin the helplines to verify today, once a day; return messages queued.

    A day with nothing to verify is recorded too (with no messages), so the sweeps stop asking until tomorrow.
    """
    on = on or _local_now().date()
    if _has_reminded(on):
        return 0
    rows = content.helplines_needing_review(on)
    admins = list(db.session.scalars(
        select(User).where(User.role == Role.ADMIN, User.is_active_account.is_(True)).order_by(User.id)
    )) if rows else []
    db.session.add(ReviewReminder(reminded_on=on, helpline_count=len(rows), admin_count=len(admins)))
    try:
        db.session.flush()  # claims the day before any message is written
    except IntegrityError:  # another worker claimed it first: it sends the messages
        db.session.rollback()
        return 0
    if admins:
        groups = {
            status: [(version, review) for version, review in rows if review.status == status]
            for status in (ReviewStatus.OVERDUE, ReviewStatus.DUE, ReviewStatus.UNVERIFIED)
        }
        link = public_url("content.helpline_review")
        for admin in admins:
            queue_mail("helpline_review_reminder", admin.email, "helpline_review_reminder", to_name=admin.name,
                       name=admin.name or admin.email, on=on, groups=groups, count=len(rows), link=link)
        audit.record("content.review_reminder_sent", None,
                     f"helpline review reminder: {len(rows)} helpline(s) to verify, emailed to {len(admins)} admin(s)",
                     actor_label="system", reminded_on=on.isoformat(), helplines=len(rows), admins=len(admins))
    db.session.commit()
    return len(admins)


@jobs.register_sweeper
def review_reminder_jobs() -> list[tuple[jobs.Job, tuple]]:
    """Sweeper: once the hour has come, today's reminder must be sent unless it has been."""
    return [(send_review_reminder, ())] if is_reminder_due() else []
