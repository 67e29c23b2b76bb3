"""The content library: items (campaign, helpline, helpline set, local notice) and their versions.

One approval mechanism serves every kind. A `ContentItem` is the stable identity (kind, slug, and
for a local notice its scheme); each edit is a `ContentVersion` row with a number and a state.
The kind-specific fields live in one joined table per kind (`campaign_versions`, ...), so a
version id is unique across kinds and leaflets and bulletins can keep the exact version they used.

Approved and retired versions never change: a flush that alters one is refused here, whatever
code tried it, and version rows are never deleted.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    inspect,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from coordinator.auth.models import User
from coordinator.db import TimestampMixin, UTCDateTime, utcnow
from coordinator.extensions import db
from coordinator.schemes.models import Scheme


class ContentKind(enum.StrEnum):
    """What a content item is."""

    CAMPAIGN = "campaign"
    HELPLINE = "helpline"
    HELPLINE_SET = "helpline_set"
    LOCAL_NOTICE = "local_notice"

    @property
    def label(self) -> str:
        """The kind in words, for pages and emails."""
        return self.value.replace("_", " ")


class VersionState(enum.StrEnum):
    """Where one version stands in approval: draft -> submitted -> approved, or -> changes requested -> draft."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    CHANGES_REQUESTED = "changes_requested"
    RETIRED = "retired"

    @property
    def label(self) -> str:
        """The state in words."""
        return self.value.replace("_", " ")


# A version in one of these states is still being worked on; an item has at most one such version.
OPEN_STATES = frozenset({VersionState.DRAFT, VersionState.SUBMITTED, VersionState.CHANGES_REQUESTED})
# Only these may have their fields changed.
EDITABLE_STATES = frozenset({VersionState.DRAFT, VersionState.CHANGES_REQUESTED})
# Approved or retired: printed and emailed matter may point at it, so its fields are frozen.
SETTLED_STATES = frozenset({VersionState.APPROVED, VersionState.RETIRED})


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class ContentItem(TimestampMixin, db.Model):
    """The stable identity of one campaign, helpline, helpline set or local notice, across its versions."""

    __tablename__ = "content_items"
    __table_args__ = (
        UniqueConstraint("kind", "slug"),
        # Local notices belong to one scheme; everything else belongs to the whole association.
        CheckConstraint("(kind = 'local_notice') = (scheme_id IS NOT NULL)", name="scheme_only_for_local_notices"),
        # One translation per language of each original. A unique index rather than a constraint: SQLite adds an
        # index in place, where a constraint would mean copying the table (see the revision that added it). For the
        # same reason "a language only for translations" is kept by translations.py, not by a CHECK.
        Index("uq_content_items_translation_of_id_language", "translation_of_id", "language", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ContentKind] = mapped_column(_enum(ContentKind, "content_kind"), index=True)
    slug: Mapped[str] = mapped_column(String(120))
    scheme_id: Mapped[int | None] = mapped_column(ForeignKey("schemes.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # A translation is an item of its original's kind whose versions carry only the wording (TRANSLATED_FIELDS),
    # approved like any content; everything else, the public address included, is the original's
    # (coordinator/content/translations.py). Lists, the catalogue and public pages show originals only.
    # No ON DELETE: SQLite adds this column in place (see its revision), where a REFERENCES clause's actions cannot
    # be read back to check models and migrations agree. Nothing is lost by it: an original and its translations
    # share a scheme or none, and go together.
    translation_of_id: Mapped[int | None] = mapped_column(ForeignKey("content_items.id"), index=True)
    # A BCP 47 tag, normalised ("ur-PK", "pa-Guru"): set for translations only.
    language: Mapped[str | None] = mapped_column(String(35))

    scheme: Mapped[Scheme | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    translation_of: Mapped[ContentItem | None] = relationship(remote_side="ContentItem.id",
                                                              back_populates="translations")
    translations: Mapped[list[ContentItem]] = relationship(back_populates="translation_of",
                                                           order_by="ContentItem.language")
    translation_confirmations: Mapped[list[TranslationConfirmation]] = relationship(
        back_populates="item", order_by="TranslationConfirmation.id", cascade="all, delete-orphan"
    )
    versions: Mapped[list[ContentVersion]] = relationship(back_populates="item", order_by="ContentVersion.number")
    helpline_checks: Mapped[list[HelplineCheck]] = relationship(
        back_populates="item", order_by="HelplineCheck.id", cascade="all, delete-orphan"
    )

    @property
    def current_version(self) -> ContentVersion | None:
        """The version in use: the latest approved one, or None."""
        approved = [v for v in self.versions if v.state == VersionState.APPROVED]
        return approved[-1] if approved else None

    @property
    def open_version(self) -> ContentVersion | None:
        """The version being drafted, awaiting approval or sent back for changes, if any."""
        return next((v for v in reversed(self.versions) if v.state in OPEN_STATES), None)

    @property
    def latest_version(self) -> ContentVersion | None:
        """The highest-numbered version."""
        return self.versions[-1] if self.versions else None

    @property
    def is_translation(self) -> bool:
        """Whether this item is another item's wording in another language."""
        return self.translation_of_id is not None

    @property
    def title(self) -> str:
        """The title of the version in use, else of the latest one."""
        version = self.current_version or self.latest_version
        return version.title if version else self.slug

    def __repr__(self) -> str:
        return f"<ContentItem {self.id} {self.kind.value} {self.slug}>"


class ContentVersion(TimestampMixin, db.Model):
    """One version of an item, with its approval state; the kind's own fields live in a joined table."""

    __tablename__ = "content_versions"
    __table_args__ = (UniqueConstraint("item_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ContentKind] = mapped_column(_enum(ContentKind, "content_version_kind"))
    number: Mapped[int] = mapped_column(Integer)
    # active_history: the state before a change is always known, so the flush guard below sees it.
    state: Mapped[VersionState] = mapped_column(
        _enum(VersionState, "version_state"), default=VersionState.DRAFT, index=True, active_history=True
    )
    # A campaign's or set's title, a helpline's name, a notice's heading: what lists show.
    title: Mapped[str] = mapped_column(String(120))

    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    changes_requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    changes_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    change_request_reason: Mapped[str] = mapped_column(Text, default="")
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A translation's version: the original's approved version its wording was made from. The translation is out
    # of date ("original changed since") once the original's current version is another one.
    # No ON DELETE, as for translation_of_id: versions are never deleted but with their item.
    source_version_id: Mapped[int | None] = mapped_column(ForeignKey("content_versions.id"), index=True)

    item: Mapped[ContentItem] = relationship(back_populates="versions")
    source_version: Mapped[ContentVersion | None] = relationship(remote_side="ContentVersion.id",
                                                                 foreign_keys=[source_version_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    changes_requested_by: Mapped[User | None] = relationship(foreign_keys=[changes_requested_by_id])

    __mapper_args__: ClassVar[dict] = {"polymorphic_on": "kind", "polymorphic_abstract": True}

    # The kind's own fields, in the order pages, diffs and packs list them.
    FIELDS: ClassVar[tuple[str, ...]] = ()
    # The wording a translation carries; every other field is read from the original.
    TRANSLATED_FIELDS: ClassVar[tuple[str, ...]] = ()

    @property
    def is_settled(self) -> bool:
        """Approved or retired: its fields can never change again."""
        return self.state in SETTLED_STATES

    @property
    def is_editable(self) -> bool:
        return self.state in EDITABLE_STATES

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id} item={self.item_id} v{self.number} {self.state.value}>"


class ContentImage(db.Model):
    """A campaign picture, checked and re-encoded on upload; rows are shared by versions and never change."""

    __tablename__ = "content_images"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    media_type: Mapped[str] = mapped_column(String(20))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CampaignVersion(ContentVersion):
    """A campaign as approved for leaflets and bulletins."""

    __tablename__ = "campaign_versions"
    __table_args__ = (
        CheckConstraint(
            "first_day IS NULL OR last_day IS NULL OR last_day >= first_day", name="window_in_order"
        ),
        # A yearly window has both ends or none.
        CheckConstraint("(every_year_from IS NULL) = (every_year_until IS NULL)", name="yearly_window_whole"),
    )
    __mapper_args__: ClassVar[dict] = {"polymorphic_identity": ContentKind.CAMPAIGN}

    id: Mapped[int] = mapped_column(ForeignKey("content_versions.id", ondelete="CASCADE"), primary_key=True)
    summary: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown source; rendered and sanitised on display
    key_messages: Mapped[list] = mapped_column(JSON, default=list)
    call_to_action: Mapped[str] = mapped_column(String(200), default="")
    hashtag: Mapped[str] = mapped_column(String(60), default="")
    web_address: Mapped[str] = mapped_column(String(300), default="")
    # An open end means no limit that way: a campaign with neither day is offered all year round.
    first_day: Mapped[date | None] = mapped_column(Date)
    last_day: Mapped[date | None] = mapped_column(Date)
    # A window that comes back every year, as "MM-DD" month-days ("02-01" to "02-14"); it may cross the new year
    # ("11-25" to "12-10" does not, "12-20" to "01-06" does). Within first_day..last_day when those are set too.
    every_year_from: Mapped[str | None] = mapped_column(String(5))
    every_year_until: Mapped[str | None] = mapped_column(String(5))
    # The helpline set the builder preselects for this campaign (the item, so the set's newest approval is used).
    recommended_set_item_id: Mapped[int | None] = mapped_column(ForeignKey("content_items.id"))
    language: Mapped[str] = mapped_column(String(20), default="en-GB")
    audience_tags: Mapped[list] = mapped_column(JSON, default=list)
    image_id: Mapped[int | None] = mapped_column(ForeignKey("content_images.id"))
    # Domestic abuse, sexual violence: leaflets print a neutral outside and the subject inside.
    is_sensitive: Mapped[bool] = mapped_column(default=False, server_default=false())

    image: Mapped[ContentImage | None] = relationship()
    recommended_set_item: Mapped[ContentItem | None] = relationship()

    FIELDS = ("title", "summary", "body", "key_messages", "call_to_action", "hashtag", "web_address",
              "first_day", "last_day", "every_year_from", "every_year_until", "recommended_set_item_id",
              "language", "audience_tags", "image_id", "is_sensitive")
    TRANSLATED_FIELDS = ("title", "summary", "body", "key_messages", "call_to_action")


class HelplineVersion(ContentVersion):
    """A helpline: one number with who it is for and when it answers."""

    __tablename__ = "helpline_versions"
    __mapper_args__: ClassVar[dict] = {"polymorphic_identity": ContentKind.HELPLINE}

    id: Mapped[int] = mapped_column(ForeignKey("content_versions.id", ondelete="CASCADE"), primary_key=True)
    # E.164 ("+448088024040") or, for a short code, its digits ("101").
    phone_number: Mapped[str] = mapped_column(String(20))
    # How it is printed ("0808 802 4040"), fixed when the version is saved so a library update never
    # regroups a number on approved material.
    phone_number_shown: Mapped[str] = mapped_column(String(30))
    opening_hours: Mapped[str] = mapped_column(String(200), default="")
    is_24_7: Mapped[bool] = mapped_column(default=False, server_default=false())
    who_for: Mapped[str] = mapped_column(String(300), default="")
    web_address: Mapped[str] = mapped_column(String(300), default="")
    is_free_to_call: Mapped[bool] = mapped_column(default=False, server_default=false())
    review_interval_months: Mapped[int] = mapped_column(Integer, default=6)

    FIELDS = ("title", "phone_number", "phone_number_shown", "opening_hours", "is_24_7", "who_for", "web_address",
              "is_free_to_call", "review_interval_months")
    # A helpline's name is a name: residents ask for it by that name, so only who it is for and its hours change.
    TRANSLATED_FIELDS = ("who_for", "opening_hours")


class HelplineSetVersion(ContentVersion):
    """A helpline set: an ordered list of helplines. The version pins the order and the membership;
    each member is shown as its own current approved version."""

    __tablename__ = "helpline_set_versions"
    __mapper_args__: ClassVar[dict] = {"polymorphic_identity": ContentKind.HELPLINE_SET}

    id: Mapped[int] = mapped_column(ForeignKey("content_versions.id", ondelete="CASCADE"), primary_key=True)

    entries: Mapped[list[HelplineSetEntry]] = relationship(
        back_populates="set_version", order_by="HelplineSetEntry.position", cascade="all, delete-orphan"
    )
    # Its helplines name the harm (a domestic abuse helpline): leaflets print a neutral outside.
    is_sensitive: Mapped[bool] = mapped_column(default=False, server_default=false())

    FIELDS = ("title", "helplines", "is_sensitive")
    # The helplines stay the original's: each helpline has translations of its own.
    TRANSLATED_FIELDS = ("title",)

    @property
    def helpline_items(self) -> list[ContentItem]:
        """The member helplines, in order."""
        return [entry.helpline_item for entry in self.entries]


class HelplineSetEntry(db.Model):
    """One helpline's place in one helpline-set version."""

    __tablename__ = "helpline_set_entries"
    __table_args__ = (
        UniqueConstraint("set_version_id", "position"),
        UniqueConstraint("set_version_id", "helpline_item_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    set_version_id: Mapped[int] = mapped_column(
        ForeignKey("helpline_set_versions.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    helpline_item_id: Mapped[int] = mapped_column(ForeignKey("content_items.id"), index=True)

    set_version: Mapped[HelplineSetVersion] = relationship(back_populates="entries")
    helpline_item: Mapped[ContentItem] = relationship()


class LocalNoticeVersion(ContentVersion):
    """A short plain-text notice a coordinator writes for their own scheme: a meeting, a local contact."""

    __tablename__ = "local_notice_versions"
    __mapper_args__: ClassVar[dict] = {"polymorphic_identity": ContentKind.LOCAL_NOTICE}

    id: Mapped[int] = mapped_column(ForeignKey("content_versions.id", ondelete="CASCADE"), primary_key=True)
    body: Mapped[str] = mapped_column(Text, default="")

    FIELDS = ("title", "body")
    TRANSLATED_FIELDS = ("title", "body")


class HelplineCheck(db.Model):
    """An admin confirmed a helpline's number still works as listed. Rows are only ever added.

    Kept per item, not per version, so re-verifying needs no new version; the number checked is
    recorded, so a new version with a different number is unverified until someone checks it.
    """

    __tablename__ = "helpline_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(20))
    checked_on: Mapped[date] = mapped_column(Date)
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The account may later be renamed or erased; the label keeps who it was.
    checked_by_label: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    item: Mapped[ContentItem] = relationship(back_populates="helpline_checks")
    checked_by: Mapped[User | None] = relationship()


class TranslationConfirmation(db.Model):
    """An admin read a translation beside a newer version of its original and found it still right for it.

    Rows are only ever added. A confirmation is of one pair, the translation's approved version and the original's
    version it was checked against: a newer version of either needs checking again.
    """

    __tablename__ = "translation_confirmations"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"), index=True)
    translation_version_id: Mapped[int] = mapped_column(ForeignKey("content_versions.id", ondelete="CASCADE"))
    original_version_id: Mapped[int] = mapped_column(ForeignKey("content_versions.id", ondelete="CASCADE"))
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The account may later be renamed or erased; the label keeps who it was.
    confirmed_by_label: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    item: Mapped[ContentItem] = relationship(back_populates="translation_confirmations")
    translation_version: Mapped[ContentVersion] = relationship(foreign_keys=[translation_version_id])
    original_version: Mapped[ContentVersion] = relationship(foreign_keys=[original_version_id])
    confirmed_by: Mapped[User | None] = relationship()


class SettledVersionError(Exception):
    """Something tried to change or delete an approved or retired version."""


# After approval only the move to retired may touch a version.
_CHANGEABLE_WHEN_SETTLED = frozenset({"state", "retired_at", "updated_at"})


def _was_settled(version: ContentVersion) -> bool:
    history = inspect(version).attrs.state.history
    before = history.deleted[0] if history.deleted else version.state
    return before in SETTLED_STATES


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_settled_versions(session: Session, flush_context, instances) -> None:
    """Approved content never changes under anyone's feet, whichever code path tries it."""
    for obj in session.deleted:
        if isinstance(obj, ContentVersion):
            raise SettledVersionError(f"Content versions are never deleted ({obj!r}).")
        if isinstance(obj, HelplineSetEntry) and obj.set_version is not None and _was_settled(obj.set_version):
            raise SettledVersionError(f"{obj.set_version!r} is {obj.set_version.state.value}: its helplines are fixed.")
    for obj in session.dirty:
        if isinstance(obj, ContentVersion) and _was_settled(obj):
            insp = inspect(obj)
            changed = sorted(
                attr.key for attr in insp.attrs
                if attr.key not in _CHANGEABLE_WHEN_SETTLED and attr.history.has_changes()
            )
            if changed:
                raise SettledVersionError(f"{obj!r} is {obj.state.value}: {', '.join(changed)} cannot change.")
            if obj.state not in SETTLED_STATES:
                raise SettledVersionError(f"{obj!r} cannot go back from approved or retired.")
        if isinstance(obj, HelplineSetEntry) and inspect(obj).modified and _was_settled(obj.set_version):
            raise SettledVersionError(f"{obj.set_version!r} is {obj.set_version.state.value}: its helplines are fixed.")
    for obj in session.new:
        if isinstance(obj, HelplineSetEntry) and obj.set_version is not None and obj.set_version.id is not None \
                and _was_settled(obj.set_version):
            raise SettledVersionError(f"{obj.set_version!r} is {obj.set_version.state.value}: its helplines are fixed.")


class ReviewReminder(db.Model):
    """One day's reminder to admins of the helplines to verify: the row is what makes the job send once a day.

    The unique day means two workers (or a job run twice) cannot both send: the row is flushed before any
    message is written, and the second worker's flush fails and sends nothing.
    """

    __tablename__ = "review_reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    reminded_on: Mapped[date] = mapped_column(Date, unique=True)
    helpline_count: Mapped[int] = mapped_column(default=0)
    admin_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FormerSlug(db.Model):
    """An address an item had before an admin renamed it: printed leaflets and QR codes keep it for years.

    The public pages send a former slug on to the item's current one. One row per (kind, slug): a slug given up
    by one item cannot be taken by another, or an old leaflet would lead to the wrong campaign.
    """

    __tablename__ = "content_former_slugs"
    __table_args__ = (UniqueConstraint("kind", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ContentKind] = mapped_column(_enum(ContentKind, "content_kind"))
    slug: Mapped[str] = mapped_column(String(120))
    item_id: Mapped[int] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    item: Mapped[ContentItem] = relationship()
