"""The association's settings, kept in the database and edited by admins (one row)."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field, fields

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import LargeBinary, String, Text, false, true
from sqlalchemy.orm import Mapped, deferred, mapped_column

from coordinator import audit
from coordinator.colours import MINIMUM_TEXT_CONTRAST, WHITE, contrast_ratio, normalise_hex
from coordinator.db import TimestampMixin
from coordinator.extensions import db

# The accent the leaflets and emails were printed in before an association chose its own (print/common.css).
DEFAULT_BRAND_COLOUR = "#1d4e89"


class AssociationSettings(TimestampMixin, db.Model):
    """What the association decides once for everyone: its name, spares, review periods, approval rules."""

    __tablename__ = "association_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    association_name: Mapped[str] = mapped_column(String(160), default="Bromley Neighbourhood Watch Association")
    footer_text: Mapped[str] = mapped_column(Text, default="Neighbourhood Watch volunteers are unpaid, at every level.")
    sender_address: Mapped[str] = mapped_column(String(254), default="")
    spare_copies_percent: Mapped[int] = mapped_column(default=5)
    helpline_review_months: Mapped[int] = mapped_column(default=6)
    helpline_grace_days: Mapped[int] = mapped_column(default=30)
    is_four_eyes_required: Mapped[bool] = mapped_column(default=True, server_default=true())
    is_bulletin_approval_required: Mapped[bool] = mapped_column(default=False, server_default=false())
    messages_per_second: Mapped[int] = mapped_column(default=20)
    brand_colour: Mapped[str] = mapped_column(
        String(7), default=DEFAULT_BRAND_COLOUR, server_default=DEFAULT_BRAND_COLOUR
    )
    # Deferred: most pages read the settings, few need the logo's bytes.
    logo_png: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    logo_width: Mapped[int | None] = mapped_column()
    logo_height: Mapped[int | None] = mapped_column()


class SettingsError(ValueError):
    """A setting is out of range; the message names it, and `field` the setting when it is one alone."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass
class SettingsChange:
    """New values for the settings, as typed by an admin."""

    association_name: str
    footer_text: str
    sender_address: str
    spare_copies_percent: int
    helpline_review_months: int
    helpline_grace_days: int
    is_four_eyes_required: bool
    is_bulletin_approval_required: bool
    messages_per_second: int
    brand_colour: str = DEFAULT_BRAND_COLOUR
    # The logo is not a value to compare: a new upload replaces it (None: no file chosen), the tick box removes it.
    logo_upload: bytes | None = field(default=None, repr=False)
    remove_logo: bool = False


# Not columns: update_settings handles them itself.
_LOGO_CHANGES = ("logo_upload", "remove_logo")

LIMITS = {
    "spare_copies_percent": (0, 50, "Spare copies must be between 0 and 50 per cent."),
    "helpline_review_months": (1, 24, "The helpline review interval must be between 1 and 24 months."),
    "helpline_grace_days": (0, 180, "The grace period must be between 0 and 180 days."),
    "messages_per_second": (1, 500, "Messages per second must be between 1 and 500."),
}


def get_settings() -> AssociationSettings:
    """The settings row, created with the defaults the first time it is asked for."""
    settings = db.session.get(AssociationSettings, 1)
    if settings is None:
        settings = AssociationSettings(id=1)
        db.session.add(settings)
        db.session.flush()
    return settings


@dataclass(frozen=True)
class Brand:
    """The association's face on leaflets, emails and pages: its name, its colour and its logo (plain data)."""

    name: str
    colour: str
    logo_png: bytes | None = field(default=None, repr=False)
    logo_width: int | None = None
    logo_height: int | None = None
    logo_version: str = ""

    def logo_data_uri(self) -> str | None:
        """The logo as a data: URI, for documents that carry their pictures inside them (PDFs, .eml previews)."""
        if self.logo_png is None:
            return None
        return "data:image/png;base64," + base64.b64encode(self.logo_png).decode("ascii")


def logo_version(data: bytes | None) -> str:
    """A short name for these logo bytes, part of the logo's address so a new logo is never served from a cache."""
    return hashlib.sha256(data).hexdigest()[:12] if data else ""


def brand() -> Brand:
    """The association's name, brand colour and logo as they are now."""
    settings = get_settings()
    data = settings.logo_png
    return Brand(
        name=settings.association_name,
        colour=settings.brand_colour,
        logo_png=data,
        logo_width=settings.logo_width if data else None,
        logo_height=settings.logo_height if data else None,
        logo_version=logo_version(data),
    )


def check_brand_colour(value: str) -> str:
    """The colour as "#rrggbb" when white text on it is readable (WCAG AA, 4.5:1); SettingsError otherwise."""
    colour = normalise_hex(value)
    if colour is None:
        raise SettingsError(
            "Enter the brand colour as a hex colour code of six characters, like #1d4e89.", field="brand_colour"
        )
    ratio = contrast_ratio(colour, WHITE)
    if ratio < MINIMUM_TEXT_CONTRAST:
        raise SettingsError(
            f"White text on the brand colour {colour} has a contrast of {ratio:.1f}:1; it needs at least "
            f"{MINIMUM_TEXT_CONTRAST}:1 to be readable. Choose a darker colour.",
            field="brand_colour",
        )
    return colour


def update_settings(change: SettingsChange) -> list[str]:
    """Apply an admin's change after checking every range; returns the names of the settings changed (audited)."""
    for name, (low, high, message) in LIMITS.items():
        value = getattr(change, name)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise SettingsError(message)
    if not change.association_name.strip():
        raise SettingsError("Enter the association's name.")
    if change.sender_address.strip():
        try:
            validate_email(change.sender_address.strip(), check_deliverability=False)
        except EmailNotValidError as exc:
            raise SettingsError(f"The sender address is not valid: {exc}") from exc
    brand_colour = check_brand_colour(change.brand_colour)
    logo = None
    if change.logo_upload is not None:
        # Imported here: the content package reads the settings as it loads, so a top-level import would loop.
        from coordinator.content.images import ImageError, clean_logo

        try:
            logo = clean_logo(change.logo_upload)
        except ImageError as exc:
            raise SettingsError(str(exc), field="logo_upload") from exc
    settings = get_settings()
    changed = {}
    for f in fields(change):
        if f.name in _LOGO_CHANGES:
            continue
        new = brand_colour if f.name == "brand_colour" else getattr(change, f.name)
        new = new.strip() if isinstance(new, str) else new
        old = getattr(settings, f.name)
        if old != new:
            changed[f.name] = {"old": old, "new": new}
            setattr(settings, f.name, new)
    old_version = logo_version(settings.logo_png)
    if logo is not None or (change.remove_logo and settings.logo_png is not None):
        settings.logo_png = logo.data if logo else None
        settings.logo_width = logo.width if logo else None
        settings.logo_height = logo.height if logo else None
        new_version = logo_version(settings.logo_png)
        if new_version != old_version:
            # The audit log keeps the logo's short name, never its bytes.
            changed["logo"] = {"old": old_version or None, "new": new_version or None}
    if changed:
        audit.record("settings.changed", settings, "settings changed: " + ", ".join(changed), changes=changed)
    return list(changed)
