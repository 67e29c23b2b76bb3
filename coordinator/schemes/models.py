"""Watch schemes, their coordinators and their streets."""

from __future__ import annotations

import enum

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, String, Text, UniqueConstraint, false, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordinator.auth.models import User
from coordinator.db import TimestampMixin
from coordinator.extensions import db


class CoordinatorRole(enum.StrEnum):
    """A coordinator's place in one scheme."""

    MAIN = "main"
    DEPUTY = "deputy"


class Scheme(TimestampMixin, db.Model):
    """One Neighbourhood Watch scheme: a few streets looked after by its coordinators."""

    __tablename__ = "schemes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(140), unique=True)
    ward: Mapped[str] = mapped_column(String(120), default="")
    postcode_district: Mapped[str] = mapped_column(String(8), default="")
    # What the coordinators chose to print: a scheme email or phone. Never filled in from an
    # account's own details; a home address only appears if someone types it here on purpose.
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    contact_other: Mapped[str] = mapped_column(String(200), default="")
    # Bulletins show each campaign short (summary, three key messages, a link to its page) unless the
    # coordinators chose the full text for their residents.
    is_bulletin_full_text: Mapped[bool] = mapped_column(default=False, server_default=false())

    memberships: Mapped[list[SchemeCoordinator]] = relationship(
        back_populates="scheme", cascade="all, delete-orphan", order_by="SchemeCoordinator.role"
    )
    streets: Mapped[list[Street]] = relationship(
        back_populates="scheme", cascade="all, delete-orphan", order_by="Street.name"
    )

    def __repr__(self) -> str:
        return f"<Scheme {self.id} {self.slug}>"


Index("uq_schemes_name_lower", func.lower(Scheme.name), unique=True)


class SchemeCoordinator(db.Model):
    """Who coordinates which scheme, and as main coordinator or deputy."""

    __tablename__ = "scheme_coordinators"
    __table_args__ = (UniqueConstraint("scheme_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("schemes.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[CoordinatorRole] = mapped_column(
        Enum(
            CoordinatorRole,
            name="coordinator_role",
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=CoordinatorRole.MAIN,
    )

    scheme: Mapped[Scheme] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship()


class Street(TimestampMixin, db.Model):
    """A street (or the part of one) that a scheme delivers to."""

    __tablename__ = "streets"
    __table_args__ = (
        CheckConstraint("households >= 0", name="households_not_negative"),
        CheckConstraint(
            "households_no_leaflets >= 0 AND households_no_leaflets <= households", name="no_leaflets_in_range"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("schemes.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    postcode: Mapped[str] = mapped_column(String(10), default="")
    households: Mapped[int] = mapped_column(default=0)
    households_no_leaflets: Mapped[int] = mapped_column(default=0)
    delivery_notes: Mapped[str] = mapped_column(Text, default="")

    scheme: Mapped[Scheme] = relationship(back_populates="streets")

    @property
    def households_for_leaflets(self) -> int:
        return self.households - self.households_no_leaflets


# "Hayes Lane" and "HAYES LANE" in one postcode are one street: the services check first (folding every script);
# this stops two people adding it at the same moment.
STREET_UNIQUE_INDEX = "uq_streets_scheme_name_lower_postcode"
Index(STREET_UNIQUE_INDEX, Street.scheme_id, func.lower(Street.name), Street.postcode, unique=True)
