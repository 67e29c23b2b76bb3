"""Sending a bulletin on its way: queueing it (now or at a time), the admins' approval, withdrawing and cancelling.

When the association requires approval (Settings), a queued draft waits for an admin; with four eyes on, the
admin who submitted it may not approve it while another active admin exists. An approved bulletin goes now
(`approved`: the caller commits, then starts its sending job) or at its time (`scheduled`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from coordinator import approvals
from coordinator.auth.models import User
from coordinator.bulletins.drafts import check_still_current, fix_helplines
from coordinator.bulletins.models import Bulletin, BulletinDelivery, BulletinState, DeliveryState
from coordinator.bulletins.progress import refresh_counts
from coordinator.bulletins.sending import send_bulletin
from coordinator.bulletins.transitions import (
    B,
    BulletinError,
    BulletinPermissionError,
    BulletinProblems,
    check_may_work_on,
    transition,
)
from coordinator.dates import LOCAL_TIME
from coordinator.db import UTC, utcnow
from coordinator.extensions import db
from coordinator.settings import get_settings

REASON_MAX = 1000
# The furthest ahead a bulletin may be scheduled.
MAX_SCHEDULE_AHEAD = timedelta(days=90)


def check_send_at(value: datetime | None, now: datetime | None = None) -> datetime | None:
    """A chosen sending time as UTC (a naive value is Europe/London time); ValueError when it is past or too far off."""
    if value is None:
        return None
    now = now or utcnow()
    if value.tzinfo is None:
        value = value.replace(tzinfo=LOCAL_TIME)
    value = value.astimezone(UTC)
    if value <= now:
        raise ValueError("Choose a time that is still to come, or send it now")
    if value - now > MAX_SCHEDULE_AHEAD:
        raise ValueError(f"Choose a time within the next {MAX_SCHEDULE_AHEAD.days} days")
    return value


def local_time_text(value: datetime | None) -> str:
    """A time as people in Bromley read it: "Tuesday 7 October 2025, 18:30 (UK time)"."""
    if value is None:
        return ""
    return value.astimezone(LOCAL_TIME).strftime("%A %-d %B %Y, %H:%M") + " (UK time)"


def is_approval_required() -> bool:
    """Whether the association wants an admin to approve each bulletin before it goes."""
    return get_settings().is_bulletin_approval_required


def queue_bulletin(
    bulletin: Bulletin, actor: User | None, send_at: datetime | None = None, *, actor_label: str | None = None
) -> BulletinState:
    """Send a draft now or at `send_at`, or, when the association requires it, submit it for approval first.

    Returns the new state: `approved` (its sending job starts when the caller commits), `scheduled`, or
    `awaiting_approval`. The helplines are fixed here, so an approver sees exactly what residents will get.
    """
    check_may_work_on(bulletin.scheme, actor)
    if bulletin.state != BulletinState.DRAFT:
        raise BulletinError(f"This bulletin is {bulletin.state.label}; only a draft can be sent.")
    check_still_current(bulletin)
    try:
        send_at = check_send_at(send_at)
    except ValueError as exc:
        raise BulletinProblems({"send_at": [str(exc)]}) from exc
    fix_helplines(bulletin)
    bulletin.send_at = send_at
    bulletin.change_request_reason = ""
    when = f"at {local_time_text(send_at)}" if send_at else "now"
    send_at_text = send_at.isoformat() if send_at else None  # already UTC
    if is_approval_required():
        bulletin.submitted_by, bulletin.submitted_at = actor, utcnow()
        transition(bulletin, "submitted", B.AWAITING_APPROVAL, actor, actor_label=actor_label,
                    summary=f"Bulletin “{bulletin.subject}” of {bulletin.scheme.name} submitted for approval, "
                            f"to send {when}", send_at=send_at_text)
    else:
        to_state = B.SCHEDULED if send_at else B.APPROVED
        transition(bulletin, "queued", to_state, actor, actor_label=actor_label,
                    summary=f"Bulletin “{bulletin.subject}” of {bulletin.scheme.name} queued to send {when}",
                    send_at=send_at_text)
    db.session.flush()
    _send_when_approved(bulletin)
    return bulletin.state


def withdraw_bulletin(bulletin: Bulletin, actor: User) -> None:
    """Take a bulletin awaiting approval back to draft, to change it."""
    check_may_work_on(bulletin.scheme, actor)
    transition(bulletin, "withdrawn", B.DRAFT, actor)


def _check_may_approve(bulletin: Bulletin, actor: User) -> None:
    if actor is None or not actor.is_active_account or not actor.is_admin:
        raise BulletinPermissionError("Only an admin can approve bulletins or ask for changes.")
    if approvals.is_refused_by_four_eyes(bulletin.submitted_by_id or bulletin.created_by_id, actor):
        raise BulletinPermissionError(
            "You submitted this bulletin, so another admin must approve it. Four eyes see everything we send."
        )


def approve_bulletin(bulletin: Bulletin, actor: User, now: datetime | None = None) -> BulletinState:
    """An admin approves a bulletin awaiting approval: it goes now (`approved`) or at its time (`scheduled`).

    When the answer is `approved`, its sending job starts when the caller commits.
    """
    if bulletin.state == B.AWAITING_APPROVAL:
        _check_may_approve(bulletin, actor)
    now = now or utcnow()
    to_state = B.SCHEDULED if bulletin.send_at is not None and bulletin.send_at > now else B.APPROVED
    bulletin.approved_by, bulletin.approved_at = actor, now
    transition(bulletin, "approved", to_state, actor)
    _send_when_approved(bulletin)
    return to_state


def _send_when_approved(bulletin: Bulletin) -> None:
    # A scheduled bulletin is left to the sweep, which starts it once its time has come.
    if bulletin.state == B.APPROVED:
        send_bulletin.after_commit(bulletin.id)


def request_bulletin_changes(bulletin: Bulletin, actor: User, reason: str) -> None:
    """An admin sends a bulletin back to its author as a draft, with what to change."""
    if bulletin.state == B.AWAITING_APPROVAL:
        _check_may_approve(bulletin, actor)
    reason = (reason or "").strip()
    if not reason:
        raise BulletinProblems({"reason": ["Say what needs to change, so the coordinator knows what to do"]})
    if len(reason) > REASON_MAX:
        raise BulletinProblems({"reason": [f"Keep the reason to {REASON_MAX:,} characters or fewer"]})
    bulletin.change_request_reason = reason
    transition(bulletin, "changes_requested", B.DRAFT, actor, reason=reason)


def decide_bulletin(bulletin: Bulletin, actor: User, decision: str, reason: str = "") -> BulletinState:
    """The review form's one call: "approve" or "request_changes" (with a reason)."""
    if decision == "approve":
        return approve_bulletin(bulletin, actor)
    if decision == "request_changes":
        request_bulletin_changes(bulletin, actor, reason)
        return bulletin.state
    raise BulletinProblems({"decision": ["Choose whether to approve this bulletin or ask for changes"]})


def bulletins_awaiting_approval(batch: str | None = None) -> list[Bulletin]:
    """Bulletins waiting for an admin, oldest submission first (only one batch's, if given)."""
    stmt = select(Bulletin).where(Bulletin.state == B.AWAITING_APPROVAL)
    if batch is not None:
        stmt = stmt.where(Bulletin.batch == batch)
    return list(db.session.scalars(stmt.order_by(Bulletin.submitted_at, Bulletin.id)))


def approve_batch(batch: str, actor: User) -> tuple[list[Bulletin], list[str]]:
    """Approve every bulletin of an all-schemes batch still awaiting approval; returns (approved, problems)."""
    approved, problems = [], []
    for bulletin in bulletins_awaiting_approval(batch=batch):
        try:
            approve_bulletin(bulletin, actor)
        except BulletinError as exc:
            problems.append(f"{bulletin.scheme.name}: {exc}")
        else:
            approved.append(bulletin)
    return approved, problems


def cancel_bulletin(bulletin: Bulletin, actor: User | None, *, actor_label: str | None = None) -> int:
    """Stop a bulletin before or while it goes; copies not yet sent never will be. Returns how many that is.

    A copy the job is handing to the mail server at this moment still goes.
    """
    check_may_work_on(bulletin.scheme, actor)
    was_sending = bulletin.state == B.SENDING
    bulletin.cancelled_by, bulletin.cancelled_at = actor, utcnow()
    transition(bulletin, "cancelled", B.CANCELLED, actor, actor_label=actor_label)
    stopped = 0
    if was_sending:
        stopped = db.session.execute(
            update(BulletinDelivery)
            .where(
                BulletinDelivery.bulletin_id == bulletin.id,
                BulletinDelivery.state.in_([DeliveryState.QUEUED, DeliveryState.DEFERRED]),
            )
            .values(state=DeliveryState.SKIPPED, next_attempt_at=None, last_error="not sent: the bulletin was stopped"),
            execution_options={"synchronize_session": False},
        ).rowcount
        refresh_counts(bulletin)
    return stopped

