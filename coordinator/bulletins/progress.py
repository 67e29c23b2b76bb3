"""What the sending job asks of the rules: starting a bulletin, how far it has gone, and finishing it.

`start_sending()` reads the recipients at that moment and makes one outbox row per recipient; the job in
`sending.py` works through them; `finish_sending()` marks the bulletin sent once no copy is waiting.
The bulletin's page and the lists read `bulletin_progress()` and the counts `refresh_counts()` copies.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select

from coordinator.bulletins.drafts import fix_helplines
from coordinator.bulletins.models import UNFINISHED_DELIVERY_STATES, Bulletin, BulletinDelivery, DeliveryState
from coordinator.bulletins.subscribers import recipients_for
from coordinator.bulletins.transitions import B, transition
from coordinator.db import utcnow
from coordinator.extensions import db


def new_message_id(bulletin_id: int, subscriber_id: int, domain: str) -> str:
    """A Message-ID for one recipient's copy, fixed when the outbox row is made."""
    return f"<bulletin-{bulletin_id}.{subscriber_id}.{secrets.token_hex(6)}@{domain}>"


def start_sending(bulletin: Bulletin, domain: str, now: datetime | None = None) -> bool:
    """Make one outbox row per recipient and mark the bulletin sending; False when it is not due (or not ready).

    Recipients are read now, at send time: whoever is confirmed at this moment gets it; unconfirmed,
    unsubscribed, bouncing and erased addresses never do. The caller commits.
    """
    now = now or utcnow()
    if bulletin.state not in (B.APPROVED, B.SCHEDULED) or (bulletin.send_at is not None and bulletin.send_at > now):
        return False
    street_ids = None if bulletin.is_whole_scheme else list(bulletin.street_ids)
    if not bulletin.helpline_version_ids:
        fix_helplines(bulletin)
    bulletin.started_at = now
    transition(bulletin, "started", B.SENDING, None, actor_label="system")
    rows = [
        {
            "bulletin_id": bulletin.id,
            "subscriber_id": subscriber.id,
            "to_address": subscriber.email,
            "message_id": new_message_id(bulletin.id, subscriber.id, domain),
            "state": DeliveryState.QUEUED,
            "attempts": 0,
            "last_error": "",
            "created_at": now,
        }
        for subscriber in recipients_for(bulletin.scheme, street_ids)
    ]
    if rows:
        db.session.execute(insert(BulletinDelivery), rows)
    bulletin.recipient_count = len(rows)
    db.session.flush()
    return True


@dataclass(frozen=True)
class BulletinProgress:
    """How far a bulletin's sending has gone, from its outbox rows."""

    total: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    deferred: int = 0
    waiting: int = 0

    @property
    def done(self) -> int:
        """Copies that will not be tried again: sent, failed or skipped."""
        return self.sent + self.failed + self.skipped

    @property
    def percent(self) -> int:
        """How far it has gone, in whole per cent."""
        return 100 * self.done // self.total if self.total else 100


def bulletin_progress(bulletin: Bulletin) -> BulletinProgress:
    """Sent / total / failed (and skipped, deferred, still waiting) for one bulletin, counted afresh."""
    counts = dict(
        db.session.execute(
            select(BulletinDelivery.state, func.count())
            .where(BulletinDelivery.bulletin_id == bulletin.id)
            .group_by(BulletinDelivery.state)
        ).all()
    )
    return BulletinProgress(
        total=sum(counts.values()),
        sent=counts.get(DeliveryState.SENT, 0),
        failed=counts.get(DeliveryState.FAILED, 0),
        skipped=counts.get(DeliveryState.SKIPPED, 0),
        deferred=counts.get(DeliveryState.DEFERRED, 0),
        waiting=sum(counts.get(state, 0) for state in UNFINISHED_DELIVERY_STATES),
    )


def waiting_problem(bulletin: Bulletin) -> str:
    """What the mail server last said about a copy still waiting to go ("" when nothing is wrong)."""
    return db.session.scalar(
        select(BulletinDelivery.last_error)
        .where(
            BulletinDelivery.bulletin_id == bulletin.id,
            BulletinDelivery.state.in_([DeliveryState.QUEUED, DeliveryState.DEFERRED]),
            BulletinDelivery.last_error != "",
        )
        .order_by(BulletinDelivery.id.desc())
        .limit(1)
    ) or ""


def refresh_counts(bulletin: Bulletin) -> BulletinProgress:
    """Copy the outbox's figures onto the bulletin, for lists."""
    progress = bulletin_progress(bulletin)
    bulletin.recipient_count = progress.total
    bulletin.sent_count = progress.sent
    bulletin.failed_count = progress.failed
    db.session.flush()
    return progress


def finish_sending(bulletin: Bulletin, now: datetime | None = None) -> bool:
    """Mark a sending bulletin sent once no copy is waiting any more; False while some still are."""
    progress = bulletin_progress(bulletin)
    if bulletin.state != B.SENDING or progress.waiting:
        return False
    bulletin.finished_at = now or utcnow()
    refresh_counts(bulletin)
    transition(
        bulletin, "sent", B.SENT, None, actor_label="system",
        summary=f"Bulletin “{bulletin.subject}” of {bulletin.scheme.name} sent: {progress.sent:,} of "
                f"{progress.total:,} delivered, {progress.failed:,} failed",
        total=progress.total, sent=progress.sent, failed=progress.failed, skipped=progress.skipped,
    )
    return True
