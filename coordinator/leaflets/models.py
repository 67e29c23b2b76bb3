"""What was printed: each leaflet generated, each print run for a scheme's streets, each central print order.

Every row keeps the exact content versions it used (campaign, helpline set, the helpline versions printed,
local notice) and the text it printed around them (contact line, association name, footer, date), so the
same PDF can be made again, byte for byte, and the admin's reports can say what reached which streets.
"""

from __future__ import annotations

import enum
import secrets
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from coordinator.auth.models import User
from coordinator.db import UTCDateTime, utcnow
from coordinator.extensions import db
from coordinator.schemes.models import Scheme
from coordinator.settings import DEFAULT_BRAND_COLOUR


class LeafletContentMixin:
    """The columns every printed thing shares: who, which scheme, which content versions, how it was laid out."""

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # The account may later be erased or renamed; the label keeps who it was ("cli" from the command line).
    created_by_label: Mapped[str] = mapped_column(String(254), default="")
    campaign_version_id: Mapped[int] = mapped_column(ForeignKey("content_versions.id"), index=True)
    helpline_set_version_id: Mapped[int] = mapped_column(ForeignKey("content_versions.id"))
    # The helpline versions printed, in the set's order: those left out on the day (review overdue) are not here.
    helpline_version_ids: Mapped[list] = mapped_column(JSON, default=list)
    local_notice_version_id: Mapped[int | None] = mapped_column(ForeignKey("content_versions.id"))
    layout: Mapped[str] = mapped_column(String(10))
    print_mode: Mapped[str] = mapped_column(String(10))
    is_large_print: Mapped[bool] = mapped_column(default=False, server_default=false())
    copies: Mapped[int] = mapped_column(Integer, default=1)
    # The language it printed in ("" before languages were kept: the campaign's own), and the other language of a
    # bilingual leaflet ("" for none). Made again, it prints the translations in use when it was made.
    language: Mapped[str] = mapped_column(String(35), default="", server_default="")
    second_language: Mapped[str] = mapped_column(String(35), default="", server_default="")
    # What was printed around the content, as it was on the day.
    contact_line: Mapped[str] = mapped_column(Text, default="")
    association_name: Mapped[str] = mapped_column(String(160), default="")
    footer_text: Mapped[str] = mapped_column(Text, default="")
    printed_on: Mapped[date] = mapped_column(Date)
    # The association's face as printed that day, as Settings may change it later: the brand colour, and the
    # logo's version (settings.logo_version; "" for no logo), whose bytes `PrintedLogo` keeps.
    brand_colour: Mapped[str] = mapped_column(String(7), default=DEFAULT_BRAND_COLOUR,
                                              server_default=DEFAULT_BRAND_COLOUR)
    logo_version: Mapped[str] = mapped_column(String(12), default="", server_default="")
    # The scheme's bulletin sign-up panel, and the address it printed (PUBLIC_BASE_URL/join/<slug> that day).
    has_signup_panel: Mapped[bool] = mapped_column(default=False, server_default=false())
    signup_address: Mapped[str] = mapped_column(String(300), default="", server_default="")
    # The short reference in the small print (render.content_reference), to find this row from a leaflet.
    reference: Mapped[str] = mapped_column(String(9), index=True)

    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)

    @declared_attr
    def created_by(cls) -> Mapped[User | None]:
        """Who made it (None from the command line, or once the account is erased)."""
        return relationship(User)


class LeafletRecord(LeafletContentMixin, db.Model):
    """One leaflet generated from the builder or the command line."""

    __tablename__ = "leaflet_records"
    __table_args__ = (CheckConstraint("copies >= 1", name="copies_positive"),)

    # No scheme when made from the command line without --scheme; kept when the scheme is removed.
    scheme_id: Mapped[int | None] = mapped_column(ForeignKey("schemes.id", ondelete="SET NULL"), index=True)

    scheme: Mapped[Scheme | None] = relationship()

    def __repr__(self) -> str:
        return f"<LeafletRecord {self.id} {self.layout} {self.reference}>"


class PrintRun(LeafletContentMixin, db.Model):
    """Leaflets for some or all of a scheme's streets: how many per street, and the PDF and delivery sheet."""

    __tablename__ = "print_runs"
    __table_args__ = (CheckConstraint("copies >= 1", name="copies_positive"),)

    scheme_id: Mapped[int | None] = mapped_column(ForeignKey("schemes.id", ondelete="SET NULL"), index=True)
    spare_copies_percent: Mapped[int] = mapped_column(Integer, default=5)
    # From the print plan: sheets of paper and pages in the PDF (copies may round up to fill home sheets).
    sheets: Mapped[int] = mapped_column(Integer, default=1)
    pages: Mapped[int] = mapped_column(Integer, default=1)

    scheme: Mapped[Scheme | None] = relationship()
    streets: Mapped[list[PrintRunStreet]] = relationship(
        back_populates="print_run", cascade="all, delete-orphan", order_by="PrintRunStreet.position"
    )

    @property
    def copies_for_streets(self) -> int:
        """Copies the streets need (before any filling of the last home sheet)."""
        return sum(street.copies for street in self.streets)

    def __repr__(self) -> str:
        return f"<PrintRun {self.id} scheme={self.scheme_id} {self.layout} x{self.copies}>"


class PrintedLogo(db.Model):
    """A logo the association's leaflets printed, kept by its version: Settings hold only today's logo, and a
    leaflet record or print run made before a new one must print its own again. Rows are only added."""

    __tablename__ = "printed_logos"

    version: Mapped[str] = mapped_column(String(12), primary_key=True)
    png: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<PrintedLogo {self.version}>"


class PrintRunStreet(db.Model):
    """One street of a print run, with its numbers as they were that day (the street may change or go later)."""

    __tablename__ = "print_run_streets"
    __table_args__ = (
        CheckConstraint("copies >= 0", name="copies_not_negative"),
        Index("ix_print_run_streets_run_position", "print_run_id", "position", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    print_run_id: Mapped[int] = mapped_column(ForeignKey("print_runs.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    street_id: Mapped[int | None] = mapped_column(ForeignKey("streets.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    postcode: Mapped[str] = mapped_column(String(10), default="")
    households: Mapped[int] = mapped_column(Integer, default=0)
    households_no_leaflets: Mapped[int] = mapped_column(Integer, default=0)
    copies: Mapped[int] = mapped_column(Integer, default=0)

    print_run: Mapped[PrintRun] = relationship(back_populates="streets")


class PrintOrderState(enum.StrEnum):
    """Where a central print order's background job stands."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class PrintOrder(db.Model):
    """An admin's central order: one campaign and layout for every scheme (or a chosen set), built in the background.

    The job writes a zip of one print-ready PDF per scheme and a CSV of quantities per scheme and street;
    `results` lists each scheme with its copies, or why it was left out.
    """

    __tablename__ = "print_orders"
    __table_args__ = (CheckConstraint("progress_done >= 0 AND progress_done <= progress_total", name="progress_in_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_by_label: Mapped[str] = mapped_column(String(254), default="")
    campaign_version_id: Mapped[int] = mapped_column(ForeignKey("content_versions.id"))
    helpline_set_version_id: Mapped[int] = mapped_column(ForeignKey("content_versions.id"))
    layout: Mapped[str] = mapped_column(String(10))
    print_mode: Mapped[str] = mapped_column(String(10), default="shop")
    is_large_print: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The schemes chosen, or None for every scheme (those that exist when the job runs).
    scheme_ids: Mapped[list | None] = mapped_column(JSON)
    printed_on: Mapped[date] = mapped_column(Date)
    state: Mapped[PrintOrderState] = mapped_column(
        Enum(
            PrintOrderState,
            name="print_order_state",
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=PrintOrderState.QUEUED,
        index=True,
    )
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str] = mapped_column(Text, default="")
    # The zip's file name in instance/print-orders/ once it is built.
    file_name: Mapped[str] = mapped_column(String(200), default="")
    # [{"scheme_id", "scheme", "copies", "file", "problem"}] per scheme, filled in as the job goes.
    results: Mapped[list] = mapped_column(JSON, default=list)

    created_by: Mapped[User | None] = relationship()

    @property
    def is_finished(self) -> bool:
        """Done or failed: nothing more will happen to it."""
        return self.state in (PrintOrderState.DONE, PrintOrderState.FAILED)

    @property
    def copies_total(self) -> int:
        """Copies over every scheme in the order."""
        return sum(row.get("copies", 0) for row in self.results or [])

    def __repr__(self) -> str:
        return f"<PrintOrder {self.id} {self.layout} {self.state.value}>"


class WarmupState(enum.StrEnum):
    """Where a warm-up stands."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"


class LeafletWarmup(db.Model):
    """Leaflets made ready before coordinators ask: one campaign with its recommended set, for every active scheme
    (or those named) in each scheme's usual format, dated `printed_on` (the day they will be asked for).

    The content it was planned from (campaign, set and the helpline versions usable that day) is kept, so the sweep
    knows when a later approval makes the files stale (coordinator/leaflets/warmup.py).
    """

    __tablename__ = "leaflet_warmups"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    campaign_item_id: Mapped[int] = mapped_column(ForeignKey("content_items.id"), index=True)
    campaign_version_id: Mapped[int] = mapped_column(ForeignKey("content_versions.id"))
    helpline_set_version_id: Mapped[int] = mapped_column(ForeignKey("content_versions.id"))
    # The helpline versions the leaflets print, "12-13-14": a new approval of one of them makes a new signature.
    helplines_signature: Mapped[str] = mapped_column(String(400), default="")
    printed_on: Mapped[date] = mapped_column(Date)
    # Why it was planned, in words: "approved", "opens tomorrow", "helplines changed", "contact line changed".
    reason: Mapped[str] = mapped_column(String(40), default="")
    # The schemes to warm, or None for every active scheme.
    scheme_ids: Mapped[list | None] = mapped_column(JSON)
    state: Mapped[WarmupState] = mapped_column(
        Enum(WarmupState, name="warmup_state", native_enum=False, length=20,
             values_callable=lambda e: [m.value for m in e]),
        default=WarmupState.QUEUED,
        index=True,
    )
    total: Mapped[int] = mapped_column(Integer, default=0)
    rendered: Mapped[int] = mapped_column(Integer, default=0)
    already_ready: Mapped[int] = mapped_column(Integer, default=0)  # in the cache already, or rendered by a page
    refused: Mapped[int] = mapped_column(Integer, default=0)  # does not fit, or its helplines cannot be printed
    failed: Mapped[int] = mapped_column(Integer, default=0)
    cpu_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    # How far below the pages its renders ran (the niceness of the work-horse, or of the render processes).
    render_nice: Mapped[int] = mapped_column(Integer, default=0)
    bytes_written: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def done(self) -> int:
        """Schemes dealt with so far, whatever the outcome."""
        return self.rendered + self.already_ready + self.refused + self.failed

    def __repr__(self) -> str:
        return f"<LeafletWarmup {self.id} campaign={self.campaign_version_id} {self.printed_on} {self.state.value}>"


class CampaignAnnouncement(db.Model):
    """Coordinators were told about campaigns: one opening's emails, or one week's digest. Rows are only added.

    `claim` is unique ("opening:<campaign item>:<day>", "digest:<Monday>"), so two workers, or a job run twice,
    cannot both send: the row is flushed before any message is queued, and the second flush fails.
    """

    __tablename__ = "campaign_announcements"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim: Mapped[str] = mapped_column(String(80), unique=True)
    campaign_item_id: Mapped[int | None] = mapped_column(ForeignKey("content_items.id"), index=True)
    campaign_version_id: Mapped[int | None] = mapped_column(ForeignKey("content_versions.id"))
    announced_on: Mapped[date] = mapped_column(Date)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DeliveryState(enum.StrEnum):
    """How a street of a print run was delivered, as its deliverer (or the coordinator) recorded it."""

    TO_DELIVER = "to_deliver"
    DELIVERED = "delivered"
    PARTLY = "partly"
    NOT_DELIVERED = "not_delivered"


def new_link_key() -> str:
    """A random word for a delivery round's link (12 characters, 72 bits)."""
    return secrets.token_urlsafe(9)


class DeliveryRound(db.Model):
    """Some of a print run's streets, for one deliverer: a name and, if they agreed, an email or phone; no account.

    The deliverer's page is reached by a signed link (coordinator/leaflets/rounds.py) that names the round and its
    `link_key`, a random word: a new link has a new key, so the old one stops working, and a round made later
    with the id of a removed one (SQLite reuses ids) is not opened by the removed round's link.
    """

    __tablename__ = "delivery_rounds"
    __table_args__ = (Index("ix_delivery_rounds_run_position", "print_run_id", "position", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    print_run_id: Mapped[int] = mapped_column(ForeignKey("print_runs.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(80))
    deliverer_name: Mapped[str] = mapped_column(String(120), default="")
    # Kept only when the deliverer agreed to it; never printed, never on the deliverer's page.
    deliverer_contact: Mapped[str] = mapped_column(String(254), default="")
    link_key: Mapped[str] = mapped_column(String(16), default=new_link_key)
    # The last London day the link opens the round's page (it is also inside the signed link).
    link_expires_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    print_run: Mapped[PrintRun] = relationship()
    deliveries: Mapped[list[StreetDelivery]] = relationship(
        back_populates="round", order_by="StreetDelivery.print_run_street_id"
    )

    def __repr__(self) -> str:
        return f"<DeliveryRound {self.id} run={self.print_run_id} {self.name!r}>"


class StreetDelivery(db.Model):
    """One street of a print run: the round it is in, and what was delivered there."""

    __tablename__ = "street_deliveries"
    __table_args__ = (
        CheckConstraint("households_delivered >= 0", name="households_delivered_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    print_run_street_id: Mapped[int] = mapped_column(
        ForeignKey("print_run_streets.id", ondelete="CASCADE"), unique=True
    )
    round_id: Mapped[int | None] = mapped_column(ForeignKey("delivery_rounds.id", ondelete="SET NULL"), index=True)
    state: Mapped[DeliveryState] = mapped_column(
        Enum(DeliveryState, name="delivery_state", native_enum=False, length=20,
             values_callable=lambda e: [m.value for m in e]),
        default=DeliveryState.TO_DELIVER,
    )
    # Households that got a leaflet: all of those to deliver to when delivered, the number given when partly.
    households_delivered: Mapped[int] = mapped_column(Integer, default=0)
    delivered_on: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who recorded it: the deliverer's name as the round had it, or the coordinator's email.
    recorded_by_label: Mapped[str] = mapped_column(String(254), default="")

    street: Mapped[PrintRunStreet] = relationship()
    round: Mapped[DeliveryRound | None] = relationship(back_populates="deliveries")
