"""Residents who get a scheme's email bulletins, and the record of what they agreed to."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordinator.db import TimestampMixin, UTCDateTime
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
