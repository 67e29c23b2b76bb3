"""Residents who get a scheme's email bulletins and what they agreed to; the bulletins and their outbox."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Enum, ForeignKey, Index, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordinator.auth.models import User
from coordinator.content.models import HelplineSetVersion
from coordinator.db import TimestampMixin, UTCDateTime, utcnow
from coordinator.extensions import db
from coordinator.schemes.models import Scheme, Street


class SubscriberStatus(enum.StrEnum):
    """Where one subscriber stands. Only `confirmed` ever receives a bulletin."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCING = "bouncing"


class Subscriber(TimestampMixin, db.Model):
    """One resident's address on one scheme's bulletin list, with their consent record.

    Addresses are kept in lower case: every mail provider residents use ignores the case of the part
    before @, and one spelling makes "one address per scheme" a plain unique constraint on both databases.
    An erased subscriber keeps the row (so the scheme's counts stay true) but no personal data.
    """

    __tablename__ = "subscribers"
    __table_args__ = (
        UniqueConstraint("scheme_id", "email"),
        CheckConstraint("hard_bounce_count >= 0", name="hard_bounce_count_not_negative"),
        Index("ix_subscribers_scheme_status", "scheme_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed by ix_subscribers_scheme_status and the unique constraint, both of which start with it.
    scheme_id: Mapped[int] = mapped_column(ForeignKey("schemes.id", ondelete="CASCADE"))
    # A street of the same scheme (checked by the services); removing the street keeps the subscriber.
    street_id: Mapped[int | None] = mapped_column(ForeignKey("streets.id", ondelete="SET NULL"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(120), default="")
    status: Mapped[SubscriberStatus] = mapped_column(
        Enum(
            SubscriberStatus,
            name="subscriber_status",
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=SubscriberStatus.PENDING,
    )

    # The consent record: when and how they agreed, and the exact words they agreed to.
    consented_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_method: Mapped[str] = mapped_column(String(300), default="")
    consent_wording: Mapped[str] = mapped_column(Text, default="")
    # The latest confirmation request; a confirmation link is only good for the request it came with.
    confirmation_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # The language bulletins come in (a BCP 47 tag, checked by `coordinator.language_tags`): each part in its
    # approved translation where there is one, else in English with a line saying so.
    language: Mapped[str] = mapped_column(String(35), default="en-GB", server_default="en-GB")

    hard_bounce_count: Mapped[int] = mapped_column(default=0)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    scheme: Mapped[Scheme] = relationship()
    street: Mapped[Street | None] = relationship()

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None

    @property
    def is_confirmed(self) -> bool:
        return self.status == SubscriberStatus.CONFIRMED and not self.is_erased

    def __repr__(self) -> str:
        return f"<Subscriber {self.id} scheme={self.scheme_id} {self.status.value}>"


# ---------------------------------------------------------------------------------------------------------------------
# Bulletins and their outbox


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class BulletinState(enum.StrEnum):
    """Where one bulletin stands. The moves between states are listed once, in `transitions.BULLETIN_TRANSITIONS`."""

    DRAFT = "draft"
    AWAITING_APPROVAL = "awaiting_approval"
    # Cleared to go (approved by an admin, or no approval needed) and due now: its sending job is queued.
    APPROVED = "approved"
    # Cleared to go at `send_at`, a time still to come.
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        """The state in words, for pages."""
        return {
            "draft": "draft",
            "awaiting_approval": "awaiting approval",
            "approved": "ready to send",
            "scheduled": "scheduled",
            "sending": "sending",
            "sent": "sent",
            "cancelled": "cancelled",
        }[self.value]


class DeliveryState(enum.StrEnum):
    """Where one recipient's copy of a bulletin stands."""

    QUEUED = "queued"
    # Claimed by a worker and being handed to the mail server (see `sending` for what a crash here means).
    SENDING = "sending"
    SENT = "sent"
    # The server said "try later" (4xx): tried again from `next_attempt_at`.
    DEFERRED = "deferred"
    FAILED = "failed"
    # Not sent, on purpose: the resident left (or was erased) before their turn, or the bulletin was stopped.
    SKIPPED = "skipped"


# States a delivery can still leave: the bulletin is not finished while any row is in one of them.
UNFINISHED_DELIVERY_STATES = frozenset({DeliveryState.QUEUED, DeliveryState.SENDING, DeliveryState.DEFERRED})


class Bulletin(TimestampMixin, db.Model):
    """One email bulletin of one scheme: what it says (the exact content versions), who gets it, and when.

    Content is referenced by version id, never copied: approved versions never change, so the ids say
    exactly what residents read. The helplines are fixed when the bulletin is queued or submitted, since
    which of a set's helplines may be used changes with their reviews.
    """

    __tablename__ = "bulletins"
    __table_args__ = (
        CheckConstraint("recipient_count >= 0 AND sent_count >= 0 AND failed_count >= 0", name="counts_not_negative"),
        Index("ix_bulletins_scheme_created", "scheme_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("schemes.id", ondelete="CASCADE"))
    # Bulletins made together by an admin for several schemes share a batch key ("" for one made alone).
    batch: Mapped[str] = mapped_column(String(40), default="", index=True)
    subject: Mapped[str] = mapped_column(String(150))
    intro: Mapped[str] = mapped_column(Text, default="")
    campaign_version_ids: Mapped[list] = mapped_column(JSON, default=list)
    helpline_set_version_id: Mapped[int] = mapped_column(ForeignKey("content_versions.id"))
    # The set's helplines as sent (version ids, in order); empty until the bulletin is queued or submitted.
    helpline_version_ids: Mapped[list] = mapped_column(JSON, default=list)
    local_notice_version_ids: Mapped[list] = mapped_column(JSON, default=list)
    # Whole scheme, or only the subscribers of these streets (ids of the scheme's streets).
    is_whole_scheme: Mapped[bool] = mapped_column(default=True, server_default=true())
    street_ids: Mapped[list] = mapped_column(JSON, default=list)

    # active_history: the state before a change is always known to the transition guard.
    state: Mapped[BulletinState] = mapped_column(
        _enum(BulletinState, "bulletin_state"), default=BulletinState.DRAFT, index=True, active_history=True
    )
    # None: as soon as it is cleared to go.
    send_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Who made it when no account did (the command line).
    created_by_label: Mapped[str] = mapped_column(String(254), default="")
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    change_request_reason: Mapped[str] = mapped_column(Text, default="")
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Filled in when sending starts (recipients) and ends (sent, failed); live figures come from the outbox.
    recipient_count: Mapped[int] = mapped_column(default=0)
    sent_count: Mapped[int] = mapped_column(default=0)
    failed_count: Mapped[int] = mapped_column(default=0)

    # The sending job's lease: one worker sends a bulletin at a time, and renews the lease while it does.
    # A lease that ran out means its worker died; the next one re-sends what that worker left in "sending".
    lease_token: Mapped[str] = mapped_column(String(32), default="")
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    scheme: Mapped[Scheme] = relationship()
    helpline_set_version: Mapped[HelplineSetVersion] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    cancelled_by: Mapped[User | None] = relationship(foreign_keys=[cancelled_by_id])

    @property
    def is_editable(self) -> bool:
        """Only a draft's content and audience can change."""
        return self.state == BulletinState.DRAFT

    @property
    def author_label(self) -> str:
        """Who wrote it, in words."""
        if self.created_by is not None:
            return self.created_by.name or self.created_by.email
        return self.created_by_label or "unknown"

    def __repr__(self) -> str:
        return f"<Bulletin {self.id} scheme={self.scheme_id} {self.state.value}>"


class BulletinDelivery(db.Model):
    """One recipient's copy of one bulletin: the outbox row the sending job works from.

    Rows are made all at once when sending starts, one per recipient (unique per bulletin and subscriber),
    each with its Message-ID fixed then: a copy sent twice after a crash is the same message, which mail
    programs show once.
    """

    __tablename__ = "bulletin_deliveries"
    __table_args__ = (
        UniqueConstraint("bulletin_id", "subscriber_id"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_bulletin_deliveries_bulletin_state", "bulletin_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bulletin_id: Mapped[int] = mapped_column(ForeignKey("bulletins.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    # The address it goes (or went) to; replaced by the erased placeholder when the subscriber is erased.
    to_address: Mapped[str] = mapped_column(String(254))
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    state: Mapped[DeliveryState] = mapped_column(_enum(DeliveryState, "delivery_state"), default=DeliveryState.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    bulletin: Mapped[Bulletin] = relationship()
    subscriber: Mapped[Subscriber] = relationship()

    def __repr__(self) -> str:
        return f"<BulletinDelivery {self.id} bulletin={self.bulletin_id} {self.state.value}>"


# ---------------------------------------------------------------------------------------------------------------------
# Bounces and complaints read back from the bounce mailbox (see `bounces`)


class BounceKind(enum.StrEnum):
    """What a report read from the bounce mailbox says about one delivery."""

    # A permanent failure (RFC 3464 Action: failed, status 5.x.x): the address is marked bouncing at once.
    HARD = "hard"
    # A failure that may pass (status 4.x.x, or a full mailbox): three within 30 days mark it bouncing.
    SOFT = "soft"
    # The resident marked the bulletin as spam (an RFC 5965 abuse report): unsubscribed at once.
    COMPLAINT = "complaint"


class SubscriberBounce(db.Model):
    """One bounce or complaint about one bulletin delivery, as read from the bounce mailbox.

    `report_key` is the SHA-256 of the report message, so a report read twice (the mailbox kept it after a
    crash) counts once. `detail` is the mail server's own words, which often quote the address: erasing the
    subscriber deletes their rows.
    """

    __tablename__ = "subscriber_bounces"
    __table_args__ = (Index("ix_subscriber_bounces_subscriber_received", "subscriber_id", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed by ix_subscriber_bounces_subscriber_received, which starts with it.
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    scheme_id: Mapped[int] = mapped_column(ForeignKey("schemes.id", ondelete="CASCADE"), index=True)
    delivery_id: Mapped[int | None] = mapped_column(
        ForeignKey("bulletin_deliveries.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[BounceKind] = mapped_column(_enum(BounceKind, "bounce_kind"))
    # The RFC 3463 status code ("5.1.1"), or the feedback type of a complaint ("abuse").
    status: Mapped[str] = mapped_column(String(20), default="")
    detail: Mapped[str] = mapped_column(String(300), default="")
    report_key: Mapped[str] = mapped_column(String(64), unique=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    subscriber: Mapped[Subscriber] = relationship()

    def __repr__(self) -> str:
        return f"<SubscriberBounce {self.id} subscriber={self.subscriber_id} {self.kind.value}>"
